"""Credential boundary: find ServiceTitan credentials, tokens and secrets in files the product ships or the gate writes.

Detection builds on detect-secrets (Yelp): every detector is a detect-secrets
plugin (``RegexBasedDetector`` / ``BasePlugin``), the ServiceTitan formats as
project plugins beside detect-secrets' own JWT, private key, basic-auth and AWS
plugins. Files are streamed in blocks; a trigger picks the lines the plugins
judge (plain, unescaped and base64-unwrapped). Why the engine is ours:
docs/scale.md, "The credential scanner's engine".

A finding names file, line and detector and shows only a masked form of the
secret (first 4 characters and length). Files that cannot be read fail closed.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import functools
import html
import io
import json
import math
import os
import re
import secrets
import stat
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator
from urllib.parse import quote, unquote

import re2
from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.base import BasePlugin, RegexBasedDetector
from detect_secrets.plugins.basic_auth import BasicAuthDetector
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.private_key import PrivateKeyDetector

from readiness.core.errors import PolicyError, ReadinessError
from readiness.core.findings import Finding

# A leaked credential is fixed by removing it from the product (and rotating it), not by an operations runbook.
FINDING_KINDS: dict[str, str | None] = {
    "credential": None,
    "credential-unreadable": None,
    "credential-symlink-outside": None,
    "credential-notice": None,
}

BLOCK = 1 << 20  # bytes read at a time
WINDOW = 1 << 20  # a line longer than this is scanned in overlapping windows
OVERLAP = 4096  # longest secret we promise to catch across a window edge
BINARY_SNIFF = 8192

_SECRET_NAME = r"(?:secret|token|passw(?:or)?d|pwd|api[_-]?key|app[_-]?key|private[_-]?key|credentials?|auth[_-]?key)"
_ASSIGN = r"""["']?\s*(?:=|:=|:|=>)\s*["']?"""
_VALUE = r"""([^\s"'<>&,;}{)\]\\]+)"""


class ServiceTitanClientId(RegexBasedDetector):
    """A ServiceTitan OAuth client id: ``cid.`` and 20 or more letters or digits."""

    secret_type = "ServiceTitan client id"
    denylist = [re.compile(r"(?<![a-z0-9])(cid\.[a-z0-9]{20,})", re.I)]


class ServiceTitanClientSecret(RegexBasedDetector):
    """A ServiceTitan OAuth client secret: ``cs1.``/``cs2.`` (any digit) and 30 or more characters."""

    secret_type = "ServiceTitan client secret"
    denylist = [re.compile(r"(?<![a-z0-9])(cs\d\.[a-z0-9]{30,})", re.I)]


class ServiceTitanAppKey(RegexBasedDetector):
    """A ServiceTitan application key: ``ak1.`` and 15 or more characters, or any value given as the app key."""

    secret_type = "ServiceTitan app key"
    denylist = [
        re.compile(r"(?<![a-z0-9])(ak\d\.[a-z0-9]{15,})", re.I),
        re.compile(r"servicetitanapplicationkey=([^&\s\"'<>#]{8,})", re.I),
        re.compile(r"st[_-]?app[_-]?key" + _ASSIGN + _VALUE, re.I),
    ]


class BearerToken(RegexBasedDetector):
    """An ``Authorization: Bearer ...`` value."""

    secret_type = "Bearer token"
    denylist = [re.compile(r"bearer\s+([A-Za-z0-9._~+/=-]{16,})", re.I)]


class OAuthToken(RegexBasedDetector):
    """An OAuth access or refresh token assigned to its usual name."""

    secret_type = "OAuth token"
    denylist = [re.compile(r"(?:access|refresh|id)[_-]?token" + _ASSIGN + r"([A-Za-z0-9._~+/=-]{16,})", re.I)]


class ClientSecretAssignment(RegexBasedDetector):
    """``client_secret=...`` / ``"client_secret": "..."`` in any casing, whatever the value looks like."""

    secret_type = "Client secret assignment"
    denylist = [re.compile(r"client[_-]?secret" + _ASSIGN + r"([^\s\"'<>&,;}{)\]\\]{8,})", re.I)]


class WebhookHmacKey(RegexBasedDetector):
    """A webhook signing key (ServiceTitan V2 webhooks: 32 to 64 characters) assigned to a key-like name."""

    secret_type = "Webhook HMAC key"
    denylist = [
        re.compile(
            r"(?:hmac|signing|signature|webhook)[_-]?(?:key|secret)" + _ASSIGN + r"([A-Za-z0-9+/=_-]{32,64})(?![A-Za-z0-9])",
            re.I,
        )
    ]


class HighEntropyAssignment(BasePlugin):
    """A high-entropy value assigned to a secret-like name (``api_key = "..."``, ``password: ...``)."""

    secret_type = "High-entropy secret assignment"
    # Starts at the secret-like word (why: docs/scale.md, "The credential scanner's engine").
    pattern = re.compile(_SECRET_NAME + r"[a-z0-9_]*" + _ASSIGN + _VALUE, re.I)
    min_length = 16
    min_entropy = 3.5
    words = re.compile(r"[a-z]+(?:[-_. ][a-z]+)*", re.I)  # words joined by separators read as prose, not as a key

    def analyze_string(self, string: str) -> Iterator[str]:
        for match in self.pattern.finditer(string):
            value = match.group(1)
            if len(value) < self.min_length or entropy(value) < self.min_entropy or self.words.fullmatch(value):
                continue
            yield value


class ServiceTitanTenantId(RegexBasedDetector):
    """A numeric tenant id; reported only when it sits next to a credential (see ``CREDENTIAL_WORDS``)."""

    secret_type = "ServiceTitan tenant id beside credentials"
    denylist = [re.compile(r"tenant[_ -]?id" + _ASSIGN + r"(\d{5,})", re.I)]


CREDENTIAL_WORDS = re.compile(
    r"client[_ -]?id|client[_ -]?secret|app[_ -]?key|st-app-key|servicetitanapplicationkey|cid\.|cs\d\.|ak\d\.", re.I
)
TENANT_NEIGHBOURHOOD = 3  # lines either side

@dataclass(frozen=True)
class Detector:
    """A detect-secrets plugin and the words every one of its matches contains (case-insensitive regexes).

    ``words`` are looked for in each form of a line (plain, unescaped, unwrapped) before its plugins run;
    ``trigger_words`` in the raw lower-cased bytes of a block (``TRIGGER``), where they differ: the escaped
    forms of a prefix, or a narrower word where the detector's value is itself a long base64-like run
    (``LONG_RUN``), which the trigger picks anyway.
    """

    plugin: type[BasePlugin]
    words: str
    trigger_words: str | None = None


# Detector id (used in policies/credentials.yaml) -> plugin and words. The one place a detector's words are
# written: the trigger and each policy's prefilter are built from it (tests/test_credentials.py generates
# matches of every plugin's own patterns and checks both let them through).
DETECTORS: dict[str, Detector] = {
    "servicetitan-client-id": Detector(ServiceTitanClientId, r"cid\.", trigger_words=r"cid(?:\.|\\u002e|&#|%2e)"),
    "servicetitan-client-secret": Detector(ServiceTitanClientSecret, r"cs\d\."),
    "servicetitan-app-key": Detector(ServiceTitanAppKey, r"ak\d\.|applicationkey|app[_-]?key"),
    "servicetitan-tenant-id": Detector(ServiceTitanTenantId, r"tenant[_ -]?id"),
    "bearer-token": Detector(BearerToken, r"bearer"),
    "oauth-token": Detector(OAuthToken, r"token"),
    "client-secret-assignment": Detector(ClientSecretAssignment, r"secret"),
    "webhook-hmac-key": Detector(WebhookHmacKey, r"(?:hmac|signing|signature|webhook)[_-]?(?:key|secret)"),
    "high-entropy-assignment": Detector(HighEntropyAssignment,
                                        r"secret|token|passw|pwd|api[_-]?key|app[_-]?key|private|credential|auth"),
    "jwt": Detector(JwtTokenDetector, r"eyj"),
    "private-key": Detector(PrivateKeyDetector, r"private|putty"),
    "basic-auth": Detector(BasicAuthDetector, r"://", trigger_words=r"://[^/\s:@]+:[^/\s@]+@"),
    # A key id by its prefix; a secret access key (40 characters after "aws...") is a LONG_RUN.
    "aws-key": Detector(AWSKeyDetector, r"aws|a3t|abia|acca|akia|asia", trigger_words=r"a3t|abia|acca|akia|asia"),
}

# Lines whose judgement a policy remembers (``CredentialPolicy.analysed``): the most recent ones, each this short.
MEMO_LINES, MEMO_LINE_CHARS = 4096, 2048

# A long base64-like run (a path, a digest) might hide a credential: the trigger picks such lines too.
LONG_RUN = r"[a-z0-9+/_-]{24,}"
# What makes a line worth the plugins' closer look, matched on the lower-cased bytes of a block with RE2.
TRIGGER = re2.compile("|".join([*dict.fromkeys(d.trigger_words or d.words for d in DETECTORS.values()), LONG_RUN])
                      .encode())
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\(.)")


def entropy(value: str) -> float:
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def mask(secret: str) -> str:
    """What a report may show of a secret: its first 4 characters and its length."""
    return f"{secret[:4]}… ({len(secret)} characters)"


@dataclass(frozen=True)
class AllowEntry:
    id: str
    pattern: re.Pattern
    reason: str
    detectors: frozenset[str] = frozenset()

    def allows(self, detector: str, secret: str) -> bool:
        return (not self.detectors or detector in self.detectors) and bool(self.pattern.search(secret))


@dataclass
class CredentialPolicy:
    detectors: dict[str, BasePlugin]
    severities: dict[str, str]
    allow: list[AllowEntry]
    skip_suffixes: frozenset[str] = frozenset()
    _remembered: Callable[[str], tuple] = field(init=False, compare=False, repr=False)
    words: re2._Regexp = field(init=False, compare=False, repr=False)

    def __post_init__(self):
        self.words = re2.compile("(?i)" + "|".join(sorted({DETECTORS[detector].words for detector in self.detectors})))
        self._remembered = functools.lru_cache(maxsize=MEMO_LINES)(lambda line: tuple(analyse_line(line, self)))

    @classmethod
    def from_policies(cls, policies) -> "CredentialPolicy":
        """The credential policy of a ``PolicySet``; an unknown detector is a PolicyError at its line."""
        return cls.from_policy(policies["credentials"], policies)

    @classmethod
    def from_policy(cls, policy: dict, policies=None) -> "CredentialPolicy":
        """From the policy's data alone (tests plant broken policies this way); ``from_policies`` is the usual way."""
        detectors, severities = {}, {}
        for index, entry in enumerate(policy["detectors"]):
            detector = DETECTORS.get(entry["id"])
            if detector is None:
                message = f"unknown detector {entry['id']!r} (known: {', '.join(sorted(DETECTORS))})"
                if policies is not None:
                    raise policies.error("credentials", ["detectors", index, "id"], message)
                raise PolicyError("credentials.yaml", message)
            detectors[entry["id"]] = detector.plugin()
            severities[entry["id"]] = entry.get("severity", "blocker")
        allow = [
            AllowEntry(e["id"], re.compile(e["pattern"]), e["reason"], frozenset(e.get("detectors", [])))
            for e in policy.get("allow", [])
        ]
        return cls(detectors, severities, allow)

    def allowed(self, detector: str, secret: str) -> bool:
        return any(entry.allows(detector, secret) for entry in self.allow)

    def analysed(self, line: str) -> tuple[tuple[str, str, str], ...]:
        """``analyse_line``, remembered for the most recent short lines (bounded; why: docs/scale.md)."""
        return tuple(analyse_line(line, self)) if len(line) > MEMO_LINE_CHARS else self._remembered(line)


@dataclass
class ScanResult:
    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    bytes: int = 0

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.severity in ("blocker", "major")]


# ---------------------------------------------------------------------------------------------- line analysis


def _unescape(line: str) -> str:
    """JSON/JS escapes, HTML entities and percent-encoding undone, so an escaped secret reads as itself."""
    text = _JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)) if m.group(1) else m.group(2), line)
    text = html.unescape(text)
    return unquote(text) if "%" in text else text


def _unwrapped(line: str) -> Iterator[str]:
    """Text hidden in base64 inside the line (standard or URL-safe alphabet), when it decodes to readable text."""
    for match in _BASE64.finditer(line):
        blob = match.group(0)
        for altchars in (None, b"-_"):
            padded = blob.rstrip("=") + "=" * (-len(blob.rstrip("=")) % 4)
            try:
                raw = base64.b64decode(padded, altchars=altchars, validate=True)
            except (binascii.Error, ValueError):
                continue
            text = raw.decode("utf-8", errors="ignore")
            if len(text) >= 8 and sum(c.isprintable() for c in text) >= 0.9 * len(text):
                yield text
                break


def analyse_line(line: str, policy: CredentialPolicy) -> Iterator[tuple[str, str, str]]:
    """``(detector id, secret, how it was hidden)`` for every credential on one line."""
    seen = set()
    variants = [(line, "")]
    unescaped = _unescape(line)
    if unescaped != line:
        variants.append((unescaped, "escaped"))
    for text, how in list(variants):
        variants += [(hidden, "inside base64") for hidden in _unwrapped(text)]
    for text, how in variants:
        if not policy.words.search(text):
            continue
        for detector_id, plugin in policy.detectors.items():
            for secret in plugin.analyze_string(text):
                # One finding per secret: the first (most specific) detector in policy order names it.
                if not secret or secret in seen or policy.allowed(detector_id, secret):
                    continue
                seen.add(secret)
                yield detector_id, secret, how


# ---------------------------------------------------------------------------------------------- streaming


@dataclass
class _FileState:
    binary: bool = False
    invalid_utf8: bool = False
    windowed: bool = False
    size: int = 0


def _lines_of_interest(handle: BinaryIO, state: _FileState) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` for every line the trigger picks, streamed in blocks; ``state`` learns the rest."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line_number, carry, first = 1, b"", True
    while block := handle.read(BLOCK):
        state.size += len(block)
        if first:
            state.binary, first = b"\0" in block[:BINARY_SNIFF], False
        if not state.invalid_utf8 and not state.binary:
            try:
                decoder.decode(block)
            except UnicodeDecodeError:
                state.invalid_utf8 = True
        data = carry + block
        end = data.rfind(b"\n")
        if end < 0:
            if len(data) > WINDOW:
                # One very long line: judge it in overlapping windows, never holding it whole.
                state.windowed = True
                yield from _triggered(data, line_number)
                data = data[-OVERLAP:]
            carry = data
            continue
        complete, carry = data[: end + 1], data[end + 1:]
        yield from _triggered(complete, line_number)
        line_number += complete.count(b"\n")
    if carry:
        yield from _triggered(carry, line_number)
    if not state.binary and not state.invalid_utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            state.invalid_utf8 = True


def _triggered(chunk: bytes, first_line: int) -> Iterator[tuple[int, str]]:
    lowered = chunk.lower()
    position, line_number, last_start = 0, first_line, -1
    for match in TRIGGER.finditer(lowered):
        start = chunk.rfind(b"\n", 0, match.start()) + 1
        if start == last_start:
            continue
        line_number += chunk.count(b"\n", position, start)
        position = last_start = start
        end = chunk.find(b"\n", match.end())
        yield line_number, chunk[start: len(chunk) if end < 0 else end].decode("utf-8", errors="replace")


def scan_file(path: Path, where: str, policy: CredentialPolicy) -> tuple[list[Finding], int]:
    """Every credential in one file, streamed, and the bytes read. Raises OSError when the file cannot be read."""
    with open(path, "rb") as handle:
        return scan_stream(handle, where, policy)


def scan_text(text: str, where: str, policy: CredentialPolicy) -> list[Finding]:
    """Every credential in text held in memory (a document about to be written, a planted sample)."""
    return scan_stream(io.BytesIO(text.encode("utf-8")), where, policy)[0]


def scan_stream(handle: BinaryIO, where: str, policy: CredentialPolicy) -> tuple[list[Finding], int]:
    found: dict[tuple, Finding] = {}
    credential_lines: list[int] = []
    tenant_ids: list[tuple[int, str]] = []
    state = _FileState()
    for line_number, text in _lines_of_interest(handle, state):
        if "servicetitan-tenant-id" in policy.detectors and CREDENTIAL_WORDS.search(text):
            credential_lines.append(line_number)
        for detector_id, secret, how in policy.analysed(text):
            if detector_id == "servicetitan-tenant-id":
                tenant_ids.append((line_number, secret))
                continue
            found.setdefault((line_number, detector_id, secret),
                             _finding(where, line_number, detector_id, secret, how, policy))
    for line_number, tenant_id in tenant_ids:
        if any(abs(line_number - other) <= TENANT_NEIGHBOURHOOD for other in credential_lines):
            found.setdefault((line_number, "servicetitan-tenant-id", tenant_id),
                             _finding(where, line_number, "servicetitan-tenant-id", tenant_id, "", policy))
    findings = [found[key] for key in sorted(found, key=lambda k: (k[0], k[1]))]
    for flag, text in (
        (state.binary, "binary file: only its text runs were scanned"),
        (state.invalid_utf8, "not valid UTF-8: scanned with undecodable bytes replaced"),
        (state.windowed, f"a line longer than {WINDOW >> 20} MiB was scanned in overlapping windows"),
    ):
        if flag:
            findings.append(Finding("credential-notice", where, "info", None, text))
    return findings, state.size


def _finding(where, line_number, detector_id, secret, how, policy) -> Finding:
    hidden = f", {how}" if how else ""
    return Finding(
        kind="credential",
        subject=f"{where}:{line_number}",
        severity=policy.severities[detector_id],
        runbook=None,
        detail=f"{detector_id}{hidden}: {mask(secret)}; remove it (and rotate it if it was ever real)",
        rule=detector_id,
    )


# ---------------------------------------------------------------------------------------------- folders


def walk(root: Path) -> Iterator[tuple[Path, Finding | None]]:
    """Every file below ``root`` (sorted), or a finding for what cannot be judged: unreadable, outside, special."""
    root = Path(root)
    real_root = root.resolve()
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        folder = Path(folder)
        for name in sorted(files) + sorted(d for d in dirs if (folder / d).is_symlink()):
            path = folder / name
            where = _where(path, root)
            if path.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(real_root):
                    yield path, Finding("credential-symlink-outside", where, "blocker", None,
                                        "symbolic link points outside the scanned folder; not followed, so not checked")
                elif not target.exists():
                    yield path, Finding("credential-unreadable", where, "blocker", None,
                                        "symbolic link to a missing file; cannot be checked")
                # A link inside the folder is checked where its target lies.
                continue
            try:
                mode = path.stat().st_mode
            except OSError as exc:
                yield path, Finding("credential-unreadable", where, "blocker", None, f"cannot be read: {exc.strerror}")
                continue
            if not stat.S_ISREG(mode):
                yield path, Finding("credential-unreadable", where, "blocker", None, "not a regular file; cannot be checked")
                continue
            yield path, None


def _where(path: Path, root: Path) -> str:
    try:
        return Path(root.name, path.relative_to(root)).as_posix()
    except ValueError:
        return path.as_posix()


def scan_paths(paths: Iterable[Path], policy: CredentialPolicy, root: Path | None = None) -> ScanResult:
    """Scan the given files (e.g. what the run wrote); each named relative to ``root`` when below it."""
    result = ScanResult()
    for path in paths:
        path = Path(path)
        where = path.relative_to(root).as_posix() if root and path.is_relative_to(root) else path.name
        result.findings += _scan_one(path, where, policy, result)
    return result


def scan_folder(root: Path, policy: CredentialPolicy) -> ScanResult:
    result = ScanResult()
    for path, problem in walk(root):
        if problem is not None:
            result.findings.append(problem)
            continue
        result.findings += _scan_one(path, _where(path, Path(root)), policy, result)
    return result


def _scan_one(path: Path, where: str, policy: CredentialPolicy, result: ScanResult) -> list[Finding]:
    try:
        found, size = scan_file(path, where, policy)
    except OSError as exc:
        return [Finding("credential-unreadable", where, "blocker", None,
                        f"cannot be read: {exc.strerror or exc}; an unread file is not a pass")]
    result.files += 1
    result.bytes += size
    return found


# ---------------------------------------------------------------------------------------------- self-test

# Credential-shaped samples, made fresh at run time so that no file of the project ever holds one.
def _random(length: int, alphabet: str = "abcdefghijklmnopqrstuvwxyz0123456789") -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


SAMPLES: dict[str, Callable[[], str]] = {
    "a client id": lambda: "cid." + _random(24),
    "a client secret": lambda: f"cs{secrets.randbelow(10)}." + _random(40),
    "an app key": lambda: "ak1." + _random(22),
    "an access token": lambda: "access_token=" + _random(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
    "a bearer header": lambda: "Authorization: Bearer " + _random(48),
    "a client secret assignment": lambda: "Client_Secret=" + _random(12),
    "a webhook signing key": lambda: "webhookSigningKey: " + _random(48),
    "a secret-like name with a random value": lambda: "api_key = " + _random(32),
    "a JSON web token": lambda: _jwt(),
    "a private key": lambda: "-----BEGIN " + "RSA PRIVATE KEY-----",
    "an AWS access key id": lambda: "AKIA" + _random(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
    "a password in a URL": lambda: f"https://svc:{_random(20)}@example.com/feed",
    "a tenant id beside a client id": lambda: f"tenant_id: {secrets.randbelow(10**9) + 10**8}, client_id: cid." + _random(24),
}

DISGUISES: dict[str, Callable[[str], str]] = {
    "plain text": lambda value: f"note: {value}\n",
    "a JSON string value": lambda value: json.dumps({"settings": {"value": value}}) + "\n",
    "a YAML value": lambda value: f"integration:\n  value: '{value}'\n",
    "an HTML attribute": lambda value: f'<div data-config="{html.escape(value, quote=True)}"></div>\n',
    "a CSV cell": lambda value: f'name,value\nintegration,"{value}"\n',
    "a URL query": lambda value: f"https://example.com/next?servicetitanapplicationkey={quote(value, safe='')}\n",
    "base64": lambda value: "blob: " + base64.b64encode(value.encode()).decode() + "\n",
}


def _jwt() -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return ".".join((part({"alg": "HS256", "typ": "JWT"}), part({"sub": _random(8)}), _random(43)))


@dataclass(frozen=True)
class SelfTest:
    """A credential made up for this run, hidden in a disguise and scanned in memory (it never touches a disk)."""

    findings: list[Finding]  # the credential findings of the scan
    unmasked: list[str]  # detectors whose finding shows a value it found instead of its masked form

    @property
    def caught_masked(self) -> bool:
        return bool(self.findings) and not self.unmasked


def self_test(policy: CredentialPolicy, kind: str, disguise: str) -> SelfTest:
    """Scan a freshly made credential of ``kind`` hidden as ``disguise``."""
    text = DISGUISES[disguise](SAMPLES[kind]())
    findings = [f for f in scan_text(text, "planted.txt", policy) if f.kind == "credential"]
    values = {secret for line in text.splitlines() for _, secret, _ in analyse_line(line, policy)}
    unmasked = sorted({f.rule for f in findings for value in values if value in str(f)})
    return SelfTest(findings, unmasked)


def excused_samples(policy: CredentialPolicy, rounds: int = 20) -> list[str]:
    """Allow-list entries that would excuse a freshly made credential: an allow-list must stay narrow."""
    problems = set()
    for _ in range(rounds):
        for kind, make in SAMPLES.items():
            for detector_id, secret, _how in analyse_line(make(), CredentialPolicy(policy.detectors, policy.severities, [])):
                for entry in policy.allow:
                    if entry.allows(detector_id, secret):
                        problems.add(f"allow-list entry {entry.id} excuses {kind} ({detector_id}: {mask(secret)})")
    return sorted(problems)


def scan(paths: Iterable[Path], policy: CredentialPolicy) -> ScanResult:
    """Scan each folder or file in ``paths``; one result over all of them."""
    total = ScanResult()
    for path in paths:
        if not path.exists() and not path.is_symlink():
            raise ReadinessError(path, "no such file or folder to scan")
        result = scan_folder(path, policy) if path.is_dir() else scan_paths([path], policy, path.parent)
        total.findings += result.findings
        total.files += result.files
        total.bytes += result.bytes
    return total
