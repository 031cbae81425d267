"""A structural HTML5 check for the pages the suite writes (no validator is installable offline).

It holds a page to what the reviewer pages promise: a doctype and ``lang``, one
``h1``, headings that never skip a level going down, every element closed in
order, unique ids and in-page links that land, pictures with text alternatives,
status marks that carry a word (colour is never the only signal), and no
external assets or external scripts.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
RAW_TEXT = {"script", "style"}


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.stack: list[tuple[str, dict, list[str]]] = []  # tag, attributes, collected text
        self.ids: dict[str, int] = {}
        self.fragment_links: list[str] = []
        self.labelled_by: list[str] = []
        self.headings: list[int] = []
        self.saw_doctype = False
        self.html_lang = None
        self.title = ""

    def _where(self) -> str:
        return f"line {self.getpos()[0]}"

    def handle_decl(self, decl: str) -> None:
        self.saw_doctype = decl.lower() == "doctype html"

    def handle_starttag(self, tag: str, attrs_list) -> None:
        attrs = dict(attrs_list)
        self._open(tag, attrs)
        if tag not in VOID:
            self.stack.append((tag, attrs, []))

    def handle_startendtag(self, tag: str, attrs_list) -> None:
        attrs = dict(attrs_list)
        inside_svg = any(t == "svg" for t, _, _ in self.stack)
        if tag not in VOID and not inside_svg:
            self.problems.append(f"{self._where()}: <{tag}/> is not a void element")
        self._open(tag, attrs)

    def _open(self, tag: str, attrs: dict) -> None:
        if tag == "html":
            self.html_lang = attrs.get("lang")
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if "id" in attrs:
            self.ids[attrs["id"]] = self.ids.get(attrs["id"], 0) + 1
        href = attrs.get("href") or ""
        if href.startswith("#"):
            self.fragment_links.append(href[1:])
        for name in ("src", "href"):
            if re.match(r"(https?:)?//", attrs.get(name) or "") and tag in ("script", "link", "img", "iframe"):
                self.problems.append(f"{self._where()}: external asset <{tag} {name}={attrs[name]}>")
        if tag == "script" and attrs.get("src"):
            self.problems.append(f"{self._where()}: script loaded from a file; pages must be self-contained")
        if attrs.get("aria-labelledby"):
            self.labelled_by += attrs["aria-labelledby"].split()
        if tag == "svg" and attrs.get("role") != "img" and attrs.get("aria-hidden") != "true":
            self.problems.append(f"{self._where()}: <svg> without role=img")

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1][0] != tag:
            open_tags = "/".join(t for t, _, _ in self.stack[-3:])
            self.problems.append(f"{self._where()}: </{tag}> does not close the open element ({open_tags or 'none'})")
            if any(t == tag for t, _, _ in self.stack):
                while self.stack and self.stack[-1][0] != tag:
                    self.stack.pop()
                self.stack.pop()
            return
        _, attrs, text = self.stack.pop()
        content = " ".join("".join(text).split())
        if tag == "title" and self.stack and self.stack[-1][0] == "head":
            self.title = content
        classes = (attrs.get("class") or "").split()
        if any(c.startswith("status-") for c in classes) and not content:
            self.problems.append(f"{self._where()}: <{tag} class={attrs['class']}> shows a status by colour alone")
        if self.stack:
            self.stack[-1][2].append(" " + "".join(text) + " ")

    def handle_data(self, data: str) -> None:
        if self.stack:
            self.stack[-1][2].append(data)

    def svg_alternatives(self, page: str) -> None:
        for svg in re.findall(r"<svg\b.*?</svg>", page, flags=re.S):
            if not re.search(r"<title[^>]*>[^<]+</title>", svg) or not re.search(r"<desc[^>]*>[^<]+</desc>", svg):
                self.problems.append("an <svg> picture lacks a <title> or <desc> text alternative")

    def finish(self) -> list[str]:
        problems = list(self.problems)
        if not self.saw_doctype:
            problems.append("no <!DOCTYPE html>")
        if not self.html_lang:
            problems.append("<html> has no lang attribute")
        if not self.title:
            problems.append("no <title>")
        if self.stack:
            problems.append("unclosed elements: " + ", ".join(t for t, _, _ in self.stack))
        if self.headings.count(1) != 1:
            problems.append(f"{self.headings.count(1)} <h1> elements; a page has exactly one")
        for before, after in zip(self.headings, self.headings[1:]):
            if after > before + 1:
                problems.append(f"heading level skips from h{before} to h{after}")
        problems += [f"duplicate id {i!r}" for i, n in sorted(self.ids.items()) if n > 1]
        problems += [f"link to #{i} lands nowhere" for i in sorted(set(self.fragment_links)) if i and i not in self.ids]
        problems += [f"aria-labelledby names missing id {i!r}" for i in sorted(set(self.labelled_by)) if i not in self.ids]
        return problems


def problems(page: str) -> list[str]:
    """Every structural problem of one HTML page (empty when it passes)."""
    checker = _Checker()
    checker.feed(page)
    checker.close()
    checker.svg_alternatives(page)
    return checker.finish()
