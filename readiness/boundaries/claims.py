"""Claim boundary: find forbidden claims (approval, sandbox evidence, overpromises) in text a customer reads.

Text is normalised before matching so that markup, entities, lookalike letters,
invisible characters and line breaks inside a phrase cannot hide a claim. The
document's structure is kept: a sentence that sits under an explicit Future
label (a "Future:" prefix, a heading that starts with "Future", an HTML element
of class ``future``) may describe API-backed capabilities that do not exist yet.
A finding quotes the sentence with its file and line.
"""

from __future__ import annotations

import bisect
import functools
import html
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import re2

from readiness.core.findings import Finding

# A forbidden claim is fixed by changing the product's copy; no operations runbook applies.
FINDING_KINDS: dict[str, str | None] = {"forbidden-claim": None, "claim-unreadable": None}

TEXT_SUFFIXES = {".html", ".htm", ".md", ".txt", ".yaml", ".yml", ".json", ".jsonl", ".csv", ".j2"}

# Lookalike letters (Cyrillic, Greek, Latin extensions) that NFKC keeps apart from the Latin letters they imitate;
# applied after case folding, so only lower-case forms are needed.
HOMOGLYPHS = str.maketrans({
    "а": "a", "в": "b", "е": "e", "ё": "e", "з": "3", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w",
    "ӏ": "l", "ɡ": "g", "ɩ": "i", "ɑ": "a", "ο": "o", "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k",
    "ν": "v", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ϲ": "c", "ω": "w", "μ": "u", "ζ": "z",
    "ı": "i", "ł": "l", "ø": "o", "đ": "d",
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-",
    "‘": "'", "’": "'", "“": '"', "”": '"',
})
# Characters that render as nothing: zero-width spaces and joiners, word joiner, soft hyphen, BOM, bidi marks.
INVISIBLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
                       "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]")
_SERVICETITAN = re.compile(r"service[\s\-_.]*titan\b")  # literal first: re scans for it fast
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_FUTURE_LABEL = re.compile(r"^\W*future\b")
_FUTURE_PREFIX = re.compile(r"^\W*(?:future\s*[:\-]|\(future\)|\[future\])")

# HTML: elements that start a new block of text, those that never close, and inline ones that may split a word.
_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "body", "br", "dd", "details", "div", "dl", "dt", "fieldset",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "head", "header", "hr", "html",
    "li", "main", "nav", "ol", "option", "p", "pre", "section", "summary", "table", "td", "th", "title", "tr", "ul",
    "label", "button", "select", "textarea", "tbody", "thead", "tfoot", "caption", "meta", "link",
}
_VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_HIDDEN_TAGS = {"script", "style"}
_TOKEN = re.compile(r"<!--.*?-->|<![^>]*>|<(/?)([a-zA-Z][a-zA-Z0-9]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>", re.S)
# Between two blocks in ``normalise``'s text: not white space, so "service" and "titan" in two blocks never become
# one "servicetitan", and not a word character, so a word boundary stays one.
BLOCK_BREAK = "\x00"
_ASCII_SPACE = str.maketrans(dict.fromkeys(map(ord, "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f"), " "))  # what str.split() splits on
_SPACE_RUN = re.compile("  +")
_CLASS = re.compile(r"""\b(?:class|data-label)\s*=\s*["']?([^"'>]*)""", re.I)
_NEWLINE = re.compile("\n")
_FUTURE_CLASS = re.compile(r"\bfuture\b", re.I)
_HEADING_TAG = re.compile(r"h[1-6]")
_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*)$")
_MD_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+|^\s*\|")


def normalise(raw: str) -> str:
    """The text the reader sees (markup, comments, script and style removed, blocks apart by ``BLOCK_BREAK``),
    entities decoded, Unicode NFKC, invisible characters dropped, case folded, lookalikes mapped, white space
    collapsed."""
    [(_, visible)] = _pieces(raw, len(raw) + 1)
    return _normalise_plain(html.unescape(visible))


def _normalise_plain(text: str) -> str:
    if text.isascii():
        text = _SPACE_RUN.sub(" ", text.lower().translate(_ASCII_SPACE)).strip(" ")  # " ".join(split()), faster
    else:
        text = unicodedata.normalize("NFKC", text)
        text = INVISIBLE.sub("", text)
        text = " ".join(text.casefold().translate(HOMOGLYPHS).split())
    return _SERVICETITAN.sub("servicetitan", text)


@dataclass(frozen=True)
class Sentence:
    line: int
    text: str  # normalised
    future: bool = False  # sits under an explicit Future label


@dataclass
class _Block:
    line: int
    parts: list[str]
    future: bool


class _Reader:
    """Splits a document into blocks of text (paragraphs, list items, headings, cells), each knowing its first line
    and whether it sits under a Future label."""

    def __init__(self, raw: str):
        self.raw = raw
        self.newlines = [m.start() for m in _NEWLINE.finditer(raw)]
        self.blocks: list[_Block] = []
        self.current: _Block | None = None
        self.stack: list[tuple[str, bool]] = []  # open HTML elements: (tag, marks future)
        self.future_elements = 0  # how many of them mark future
        self.heading_scopes: list[tuple[int, int, bool]] = []  # (stack depth, level, future) of open headings
        self.md_scopes: list[tuple[int, bool]] = []  # (level, future) of Markdown headings
        self.hidden = 0

    def line_at(self, offset: int) -> int:
        return bisect.bisect_left(self.newlines, offset) + 1

    def in_future(self) -> bool:
        return (self.future_elements > 0 or any(f for *_, f in self.heading_scopes)
                or any(f for _, f in self.md_scopes))

    def flush(self) -> None:
        if self.current is not None and "".join(self.current.parts).strip():
            self.blocks.append(self.current)
        self.current = None

    def add_text(self, text: str, offset: int) -> None:
        if self.hidden:
            return
        if not text or text.isspace():
            # Most text between tags is layout white space: what ``_add_lines`` does with it, without the walk.
            breaks = text.count("\n")
            if breaks >= 2:
                self.flush()
            elif breaks == 1 and self.current is not None:
                self.current.parts.append(" ")
            return
        self._add_lines(text, offset)

    def _add_lines(self, text: str, offset: int) -> None:
        line_offset = offset
        lines = text.split("\n")
        for index, line in enumerate(lines):
            if index:
                line_offset += len(previous) + 1
            previous = line
            if 0 < index < len(lines) - 1 and not line.strip():
                self.flush()  # a blank line ends a paragraph (a newline between two tags does not)
                continue
            heading = _MD_HEADING.match(line) if (index or self.current is None) else None
            if heading:
                self.flush()
                level = len(heading.group(1))
                self.md_scopes = [s for s in self.md_scopes if s[0] < level]
                self.md_scopes.append((level, bool(_FUTURE_LABEL.match(_normalise_plain(heading.group(2))))))
            elif (index or self.current is None) and _MD_ITEM.match(line):
                self.flush()
            if index and self.current is not None:
                self.current.parts.append(" ")
            if line.strip():
                if self.current is None:
                    start = line_offset + len(line) - len(line.lstrip())
                    self.current = _Block(self.line_at(start), [], self.in_future())
                self.current.parts.append(line)

    def open_tag(self, tag: str, attributes: str) -> None:
        if tag in _HIDDEN_TAGS:
            self.hidden += 1
        if tag in _VOID_TAGS:
            return
        future = any(_FUTURE_CLASS.search(c) for c in _CLASS.findall(attributes)) if attributes else False
        self.stack.append((tag, future))
        self.future_elements += future
        if _HEADING_TAG.fullmatch(tag):
            level = int(tag[1])
            self.heading_scopes = [s for s in self.heading_scopes if s[1] < level]
            self.heading_scopes.append((len(self.stack) - 1, level, False))  # future decided when it closes

    def close_tag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS and self.hidden:
            self.hidden -= 1
        if (tag, False) not in self.stack and (tag, True) not in self.stack:
            return
        while self.stack:
            open_tag, future = self.stack.pop()
            self.future_elements -= future
            if open_tag == tag:
                break
        depth = len(self.stack)
        if _HEADING_TAG.fullmatch(tag) and self.heading_scopes and self.heading_scopes[-1][0] == depth:
            heading_text = _normalise_plain("".join(self.blocks[-1].parts)) if self.blocks else ""
            parent, level, _ = self.heading_scopes.pop()
            self.heading_scopes.append((parent, level, bool(_FUTURE_LABEL.match(heading_text))))
        # A heading's scope ends when the element that holds it closes.
        self.heading_scopes = [s for s in self.heading_scopes if s[0] <= depth]

    def read(self) -> list[_Block]:
        position = 0
        for token in _TOKEN.finditer(self.raw):
            self.add_text(self.raw[position:token.start()], position)
            position = token.end()
            closing, tag = token.group(1), (token.group(2) or "").lower()
            if not tag:
                continue  # a comment may split a word: it counts as nothing
            if tag in _BLOCK_TAGS:
                self.flush()
            if closing:
                self.close_tag(tag)
            else:
                self.open_tag(tag, token.group(3) or "")
            if tag in _BLOCK_TAGS:
                self.flush()
        self.add_text(self.raw[position:], position)
        self.flush()
        return self.blocks


def sentences(raw: str) -> Iterator[Sentence]:
    """Sentences with the line they start on; a sentence may span lines and tags, so neither can hide a claim."""
    for block in _Reader(raw).read():
        text = _normalise_plain(html.unescape("".join(block.parts)))
        for piece in _SENTENCE_END.split(text):
            if piece:
                yield Sentence(block.line, piece, block.future or bool(_FUTURE_PREFIX.match(piece))
                               or bool(_FUTURE_PREFIX.match(text)))


@dataclass(frozen=True)
class Rule:
    id: str
    requirement: str
    pattern: re.Pattern
    say_instead: str
    unless_future: bool


@dataclass(frozen=True)
class ClaimPolicy:
    forbidden: list[Rule]
    allowed: list[re.Pattern]
    # One RE2 expression (linear time) over every forbidden pattern, without their anchors: most sentences and
    # documents are cleared by this single search instead of one Python regex search per pattern. It matches a
    # sentence inside a longer text (a document's) wherever the pattern matches the sentence alone. None when a
    # pattern needs Python-only syntax.
    any_forbidden: object | None = field(default=None, compare=False)

    def __post_init__(self):
        if self.forbidden and self.any_forbidden is None:
            object.__setattr__(self, "any_forbidden", _any_of(tuple(rule.pattern.pattern for rule in self.forbidden)))

    @classmethod
    def from_policies(cls, policies, requirements: Iterable[str] | None = None) -> "ClaimPolicy":
        """The claim policy of a ``PolicySet``, optionally only the rules of ``requirements``."""
        return cls.from_policy(policies["claims"], requirements)

    @classmethod
    def from_policy(cls, policy: dict, requirements: Iterable[str] | None = None) -> "ClaimPolicy":
        """From the policy's data alone (the self-checks of its examples and tests use this)."""
        wanted = set(requirements) if requirements else None
        forbidden = [
            Rule(rule["id"], rule["requirement"], re.compile(pattern), rule["say_instead"],
                 bool(rule.get("unless_future")))
            for rule in policy["forbidden"]
            if wanted is None or rule["requirement"] in wanted
            for pattern in rule["patterns"]
        ]
        return cls(forbidden, [re.compile(rule["pattern"]) for rule in policy["allowed"]])


@functools.lru_cache(maxsize=16)  # steps build a claim policy per scenario; the expression is the same each time
def _any_of(patterns: tuple[str, ...]):
    try:
        return re2.compile("|".join(f"(?:{_unanchored(pattern)})" for pattern in patterns))
    except re2.error:
        return None


def _unanchored(pattern: str) -> str:
    """``pattern`` without its ``^``, ``$``, ``\\A`` and ``\\Z`` anchors (outside character classes): it matches wherever
    ``pattern`` does, and also where a sentence it would match sits inside a longer text."""
    kept, index, in_class, first_member = [], 0, False, 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            escape = pattern[index:index + 2]
            kept.append("" if escape in ("\\A", "\\Z", "\\z") and not in_class else escape)
            index += 2
            continue
        if in_class:
            in_class = not (char == "]" and index > first_member)  # a "]" first in a class is a literal one
        elif char == "[":
            in_class, first_member = True, index + 1 + (pattern[index + 1:index + 2] == "^")
        elif char in "^$":
            char = ""
        kept.append(char)
        index += 1
    return "".join(kept)


def judge(sentence: Sentence, policy: ClaimPolicy) -> Rule | None:
    """The first forbidden claim the sentence makes once its allowed phrasings are set aside, or None."""
    if policy.any_forbidden is not None and not policy.any_forbidden.search(sentence.text):
        return None
    remainder = sentence.text
    for allowed in policy.allowed:
        remainder = allowed.sub(" ", remainder)
    for rule in policy.forbidden:
        if rule.unless_future and sentence.future:
            continue
        if rule.pattern.search(remainder):
            return rule
    return None


def scan_text(raw: str, where: str, policy: ClaimPolicy) -> list[Finding]:
    if policy.any_forbidden is not None and not _may_claim(raw, policy):
        return []
    found = []
    verdicts: dict[tuple[str, bool], Rule | None] = {}  # generated documents repeat sentences: judge each once
    for sentence in sentences(raw):
        key = (sentence.text, sentence.future)
        if key not in verdicts:
            verdicts[key] = judge(sentence, policy)
        rule = verdicts[key]
        if rule is not None:
            found.append(Finding(
                kind="forbidden-claim",
                subject=f"{where}:{sentence.line}",
                severity="blocker",
                runbook=None,
                detail=f'{rule.id} ({rule.requirement}): "{sentence.text}". Say instead: {rule.say_instead}',
                rule=rule.id,
            ))
    return found


# Characters of a document pre-checked at a time (``_may_claim``): a generated report is megabytes of table rows.
_PIECE = 1 << 16


def _may_claim(raw: str, policy: ClaimPolicy) -> bool:
    """Whether some sentence of ``raw`` could make a forbidden claim, without reading the whole document's structure.

    A sentence never crosses a block tag, so the document is taken a piece at a time, cut at block tags outside
    script and style, where the reader starts a new block with nothing carried over but Future labels. A piece's
    text as the reader sees it, normalised, holds each of its sentences whole: when no forbidden pattern matches it
    anywhere (``any_forbidden`` has no anchors, so a sentence's end need not be the text's), no sentence can match.
    A piece where one does (a report quotes an allowed phrasing such as "no production webhook endpoint is
    claimed") is read on its own, each sentence judged as if no Future label applied: a label only ever excuses a
    claim. Only a piece that then holds a claim has the whole document read with its structure."""
    return any(policy.any_forbidden.search(_normalise_plain(html.unescape(visible)))
               and any(judge(Sentence(sentence.line, sentence.text), policy) for sentence in sentences(piece))
               for piece, visible in _pieces(raw, _PIECE))


def _pieces(raw: str, size: int) -> Iterator[tuple[str, str]]:
    """``raw`` cut at the first block tag outside script and style after every ``size`` characters, each piece with
    the text the reader sees in it. Tags are found as the reader finds them (``_TOKEN``: never inside a comment or
    an attribute), script and style are counted as it counts them, and a comment or inline tag is nothing, so a
    word split by one stays one word."""
    start = position = hidden = 0
    visible: list[str] = []
    for token in _TOKEN.finditer(raw):
        if not hidden:
            visible.append(raw[position:token.start()])
        position = token.end()
        tag = (token.group(2) or "").lower()
        if tag in _HIDDEN_TAGS:
            hidden = max(hidden - 1, 0) if token.group(1) else hidden + 1
        elif tag in _BLOCK_TAGS:
            if not hidden and token.start() - start >= size:
                yield raw[start:token.start()], "".join(visible)
                start, visible = token.start(), []
            visible.append(BLOCK_BREAK)
    if not hidden:
        visible.append(raw[position:])
    yield raw[start:], "".join(visible)


def scan_files(files: Iterable[Path], policy: ClaimPolicy, root: Path) -> list[Finding]:
    found = []
    for path in sorted(files):
        if path.suffix.lower() not in TEXT_SUFFIXES:
            continue
        where = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            found.append(Finding("claim-unreadable", where, "blocker", None,
                                 f"cannot be read: {exc.strerror or exc}; an unread file is not a pass"))
            continue
        found += scan_text(text, where, policy)
    return found


def product_files(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).rglob("*") if p.is_file())


def tenant_documents(folder: Path) -> list[Path]:
    """What the customer reviewed and may be shown: the tenant profile, Titan Map and evidence notes (not raw exports)."""
    folder = Path(folder)
    return sorted(p for p in folder.rglob("*") if p.is_file() and "exports" not in p.relative_to(folder).parts)


# ---------------------------------------------------------------------------------------------- self-test

_CYRILLIC = str.maketrans({"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "i": "і", "s": "ѕ",
                           "A": "А", "E": "Е", "O": "О", "P": "Р", "C": "С", "T": "Т", "S": "Ѕ", "M": "М", "H": "Н"})


def _split_words(sentence: str, insert: str, minimum: int = 5) -> str:
    return " ".join(w[: len(w) // 2] + insert + w[len(w) // 2:] if len(w) >= minimum else w for w in sentence.split(" "))


# How someone might hide a claim from a naive search; each takes a sentence and returns the disguised text.
DISGUISES = {
    "lookalike letters from other alphabets": lambda s: s.translate(_CYRILLIC),
    "invisible zero-width characters": lambda s: _split_words(s, "\u200b", 3).replace(" ", " \u200d"),
    "an HTML tag inside a word": lambda s: "<p>" + _split_words(s, "<span class=\"x\"></span>") + "</p>",
    "tags around words": lambda s: "<p>" + " ".join(f"<b>{w}</b>" if i % 2 else w for i, w in enumerate(s.split(" "))) + "</p>",
    "HTML entities": lambda s: html.escape(s).replace("a", "&#97;").replace(" ", "&nbsp;").replace("e", "&#x65;"),
    "a line break inside the phrase": lambda s: s.replace(" ", "\n", 2).replace(" ", "\n  ", 1),
    "full-width letters": lambda s: "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s),
    "upper case": lambda s: s.upper(),
    # A claim mid-page: a pattern that ends at the sentence's end must not need the document's end.
    "paragraphs before and after it": lambda s: f"<h1>Plumbing</h1>\n<p>Family owned.</p>\n<p>{s}</p>\n<p>Call us.</p>",
}


def missed_examples(policy: dict, disguise: str | None = None) -> list[str]:
    """Example claims of the policy (optionally disguised) that its own rules fail to catch."""
    rules = ClaimPolicy.from_policy(policy)
    missed = []
    for rule in policy["forbidden"]:
        for example in rule["examples"]:
            text = DISGUISES[disguise](example) if disguise else example
            if not any(f.rule == rule["id"] for f in scan_text(text, "example", rules)):
                missed.append(f"{rule['id']}: {example!r}" + (f" disguised with {disguise}" if disguise else ""))
    return missed


def reported_honest_examples(policy: dict) -> list[str]:
    """Honest sentences that must pass but are reported: the allowed examples, and every claim under a Future
    label whose rule allows that."""
    rules = ClaimPolicy.from_policy(policy)
    problems = []
    honest = [example for entry in policy["allowed"] for example in entry.get("examples", [])]
    honest += ["Future: " + example for rule in policy["forbidden"] if rule.get("unless_future")
               for example in rule["examples"]]
    honest += ["## Future\n\n- " + example for rule in policy["forbidden"] if rule.get("unless_future")
               for example in rule["examples"]]
    for text in honest:
        problems += [f"{text!r} is reported: {f.detail}" for f in scan_text(text, "example", rules)]
    return problems


# Approval and sandbox evidence are facts about today, never a capability a Future label could describe.
NEVER_FUTURE = frozenset({"CLAIM-APPROVAL", "CLAIM-SANDBOX"})


def future_label_excuses(policy: dict) -> list[str]:
    """Claims that a Future label must NOT excuse (approval, sandbox evidence, endpoint addresses) but does."""
    rules = ClaimPolicy.from_policy(policy)
    return [
        f"{rule['id']}: {example!r} passes under a Future label"
        for rule in policy["forbidden"] if not rule.get("unless_future") or rule["requirement"] in NEVER_FUTURE
        for example in rule["examples"]
        if not scan_text("Future: " + example, "example", rules)
    ]
