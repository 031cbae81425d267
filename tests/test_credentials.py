"""Credential boundary: the scanner's detectors, disguises, placeholders and bad input; the gate fails on each."""

from __future__ import annotations

import base64
import json
import os
import secrets
import string
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from readiness.boundaries import credentials
from readiness.core.errors import PolicyError
from readiness.core.policy import PolicySet

ROOT = Path(__file__).resolve().parent.parent


def rand(n: int) -> str:
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(n))


@pytest.fixture(scope="module")
def policy() -> credentials.CredentialPolicy:
    return credentials.CredentialPolicy.from_policies(PolicySet.load(ROOT / "policies"))


def found(policy, text: str) -> list[tuple[str, str, str]]:
    return list(credentials.analyse_line(text, policy))


@pytest.mark.parametrize("kind", sorted(credentials.SAMPLES))
@pytest.mark.parametrize("disguise", sorted(credentials.DISGUISES))
def test_every_sample_is_caught_in_every_disguise(policy, kind, disguise):
    assert credentials.self_test(policy, kind, disguise).caught_masked


def test_every_detector_names_a_sample_of_its_own(policy):
    """With the words prefilter in front of the plugins, each detector must still see what only it can name."""
    named = {finding.rule for kind in credentials.SAMPLES
             for finding in credentials.self_test(policy, kind, "plain text").findings}
    assert named == set(credentials.DETECTORS)


def plugin_patterns() -> list[tuple[str, str]]:
    """``(detector id, regex)`` for every pattern a detector's plugin matches with (its own source of truth)."""
    patterns = []
    for detector_id, detector in credentials.DETECTORS.items():
        plugin = detector.plugin
        for pattern in getattr(plugin, "denylist", None) or [plugin.pattern]:
            patterns.append((detector_id, pattern if isinstance(pattern, str) else pattern.pattern))
    return patterns


# One line of ASCII: the scanner judges line by line, and so do the plugins.
_ONE_LINE = st.characters(codec="ascii", exclude_characters="\n\r\x0b\x0c\x1c\x1d\x1e")


@pytest.mark.parametrize("detector_id, pattern", plugin_patterns(), ids=lambda value: value[:24])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_trigger_and_the_words_let_through_everything_a_plugin_matches(policy, detector_id, pattern, data):
    """Words are written once (``credentials.DETECTORS``); a plugin that learns a new form (the AWS prefixes did)
    must not be hidden from it by the trigger or its words."""
    flags = getattr(credentials.DETECTORS[detector_id].plugin, "denylist", None)
    compiled = next((p for p in flags or [] if p.pattern == pattern), None) or credentials.re.compile(pattern, 2)
    text = data.draw(st.from_regex(compiled, fullmatch=True, alphabet=_ONE_LINE))
    assert credentials.TRIGGER.search(text.lower().encode()), f"the trigger skips {text!r}"
    assert credentials.re.search(credentials.DETECTORS[detector_id].words, text, credentials.re.I), \
        f"{detector_id}'s words skip {text!r}"


@pytest.mark.parametrize("prefix", ["AKIA", "ASIA", "ABIA", "ACCA", "A3T7"])
def test_an_aws_key_id_alone_on_a_line_is_found_whatever_its_prefix(policy, prefix):
    key = prefix + rand(16).upper()
    found_keys = [f.detail for f in credentials.scan_text(f"{key}\n", "keys.txt", policy)]
    assert len(found_keys) == 1 and "aws-key" in found_keys[0]


class CountingPlugin:
    def __init__(self):
        self.seen = []

    def analyze_string(self, string):
        self.seen.append(string)
        return iter(())


def test_a_form_of_a_line_without_any_detector_word_skips_the_plugins(policy):
    spy = CountingPlugin()
    spied = credentials.CredentialPolicy({"jwt": spy}, {"jwt": "blocker"}, [])
    path_and_digest = "tenants/agency-0001/exports/crm/customers.json 839c42efd4553f3f7381df30ed20d9d30134691c56e6"
    assert found(spied, path_and_digest) == [] and spy.seen == []
    assert found(spied, "see eyJhbGciOi") == [] and spy.seen == ["see eyJhbGciOi"]
    hidden = base64.b64encode(b"token eyJhbGciOiJIUzI1NiJ9").decode()
    found(spied, f"blob {hidden}")
    assert spy.seen == ["see eyJhbGciOi", "token eyJhbGciOiJIUzI1NiJ9"]  # only the unwrapped form holds the word


@pytest.mark.parametrize("text", [
    "cid.your_client_id_here",
    "client_secret=<client-secret>",
    '"client_secret": "<client-secret>"',
    "cid." + "x" * 24,
    "cs1." + "x" * 40,
    "ak1." + "X" * 20,
    "client_secret=${ST_CLIENT_SECRET}",
    "app_key: {{ env.ST_APP_KEY }}",
    "The website stores no ServiceTitan credentials and never asks for your login.",
    "cid.short",
    "token: refresh-when-expires_in-says",
    '"text_sha256": "032f356d030d2f1551b3c8f8d5fd1c5757dff5ea2aa17fa981b1ede70fa7e49e"',
])
def test_placeholders_and_ordinary_text_do_not_fire(policy, text):
    assert found(policy, text) == []


def test_tenant_id_alone_is_not_a_credential_but_beside_one_it_is(policy, tmp_path):
    alone = tmp_path / "alone.yaml"
    alone.write_text("tenant_id: 900000101\nname: demo\n")
    assert credentials.scan_file(alone, "alone.yaml", policy)[0] == []
    beside = tmp_path / "beside.yaml"
    beside.write_text(f"tenant_id: 900000101\nclient_id: cid.{rand(24)}\n")
    kinds = [f.rule for f in credentials.scan_file(beside, "beside.yaml", policy)[0]]
    assert "servicetitan-tenant-id" in kinds and "servicetitan-client-id" in kinds


@pytest.mark.parametrize("casing", ["client_secret", "CLIENT_SECRET", "Client-Secret", "clientSecret"])
def test_client_secret_assignment_in_any_casing(policy, casing):
    assert found(policy, f'{casing}={rand(10)}')
    assert found(policy, f'"{casing}": "{rand(10)}"')


def test_webhook_key_length_window(policy):
    assert found(policy, f"hmac_key = {rand(32)}")
    assert found(policy, f"hmac_key = {rand(64)}")
    assert not [d for d, *_ in found(policy, f"hmac_key = {rand(20)}") if d == "webhook-hmac-key"]


def test_secret_inside_json_escapes_and_entities(policy):
    secret = rand(24)
    assert found(policy, '{"note": "cid\\u002e%s"}' % secret)
    assert found(policy, '<meta content="cid&#46;%s">' % secret)
    assert found(policy, "https://x.example/?servicetitanapplicationkey=ak1%%2E%s" % secret)


def test_base64_wrapped_secret_is_unwrapped(policy):
    blob = base64.b64encode(f"cs2.{rand(36)}".encode()).decode()
    hits = found(policy, f'"attachment": "{blob}"')
    assert hits and hits[0][2] == "inside base64"
    url_safe = base64.urlsafe_b64encode(f"client_secret={rand(30)}".encode()).decode()
    assert found(policy, url_safe)


def test_finding_masks_the_secret(policy, tmp_path):
    secret = "cid." + rand(24)
    path = tmp_path / "page.html"
    path.write_text(f"<p>line one</p>\n<p data-id='{secret}'></p>\n")
    [finding] = credentials.scan_file(path, "site/page.html", policy)[0]
    assert finding.subject == "site/page.html:2"
    assert secret not in str(finding) and secret[4:] not in finding.detail
    assert "cid.… (28 characters)" in finding.detail
    assert "servicetitan-client-id" in finding.detail


def test_line_numbers_across_blocks(policy, tmp_path, monkeypatch):
    monkeypatch.setattr(credentials, "BLOCK", 64)
    path = tmp_path / "many.txt"
    lines = [f"line {i} nothing here" for i in range(200)]
    lines[150] = f"client_secret={rand(12)}"
    path.write_text("\n".join(lines) + "\n")
    [finding] = credentials.scan_file(path, "many.txt", policy)[0]
    assert finding.subject == "many.txt:151"


def test_a_very_long_single_line_is_scanned_in_windows(policy, tmp_path, monkeypatch):
    monkeypatch.setattr(credentials, "BLOCK", 1 << 12)
    monkeypatch.setattr(credentials, "WINDOW", 1 << 14)
    path = tmp_path / "one-line.json"
    secret = "cs1." + rand(40)
    filler = "a " * 40000
    path.write_text(filler + secret + " " + filler + f"ak1.{rand(20)}")
    findings = credentials.scan_file(path, "one-line.json", policy)[0]
    details = [f.detail for f in findings if f.kind == "credential"]
    assert any("servicetitan-client-secret" in d for d in details)
    assert any("servicetitan-app-key" in d for d in details)
    assert any(f.kind == "credential-notice" and "windows" in f.detail for f in findings)


def test_binary_and_invalid_utf8_files_get_a_notice_and_are_still_scanned(policy, tmp_path):
    binary = tmp_path / "image.png"
    binary.write_bytes(b"\x89PNG\0\0\0" + f"\nclient_secret={rand(12)}\n".encode())
    notices = credentials.scan_file(binary, "image.png", policy)[0]
    assert any(f.kind == "credential" for f in notices)
    assert any("binary" in f.detail for f in notices)
    latin = tmp_path / "latin.txt"
    latin.write_bytes("caf\xe9 au lait\n".encode("latin-1"))
    [notice] = credentials.scan_file(latin, "latin.txt", policy)[0]
    assert notice.severity == "info" and "UTF-8" in notice.detail


def test_folder_walk_fails_closed_on_what_it_cannot_read(policy, tmp_path):
    root = tmp_path / "product"
    root.mkdir()
    (root / "ok.txt").write_text("fine\n")
    outside = tmp_path / "outside.txt"
    outside.write_text("secret stuff\n")
    (root / "escape.txt").symlink_to(outside)
    (root / "dangling.txt").symlink_to(root / "missing.txt")
    (root / "inside-link.txt").symlink_to(root / "ok.txt")
    os.mkfifo(root / "pipe")
    result = credentials.scan_folder(root, policy)
    kinds = {(f.subject, f.kind) for f in result.findings}
    assert ("product/escape.txt", "credential-symlink-outside") in kinds
    assert ("product/dangling.txt", "credential-unreadable") in kinds
    assert ("product/pipe", "credential-unreadable") in kinds
    assert all(f.severity == "blocker" for f in result.findings)
    assert result.files == 1


def test_unreadable_file_is_a_failure_not_a_pass(policy, tmp_path, monkeypatch):
    path = tmp_path / "locked.txt"
    path.write_text("x\n")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(credentials, "open", refuse, raising=False)
    result = credentials.scan_paths([path], policy, tmp_path)
    [finding] = result.findings
    assert finding.kind == "credential-unreadable" and finding.severity == "blocker"
    assert "Permission denied" in finding.detail and finding.subject == "locked.txt"


def test_unknown_detector_in_policy_is_a_policy_error():
    with pytest.raises(PolicyError, match="unknown detector 'nope'"):
        credentials.CredentialPolicy.from_policy({"detectors": [{"id": "nope"}], "allow": []})


def test_a_too_broad_allow_list_is_reported(policy):
    broad = credentials.CredentialPolicy(policy.detectors, policy.severities,
                                         [credentials.AllowEntry("all", __import__("re").compile("."), "too broad")])
    assert credentials.excused_samples(broad, rounds=1)
    assert credentials.excused_samples(policy, rounds=2) == []


# ---------------------------------------------------------------------------------------------- the gate

PRODUCT = "The offline product's files hold no credential"
TENANT = "A tenant's files hold no credential"
POLICIES = "The policy files hold no credential"


@pytest.mark.slow
def test_gate_fails_on_a_client_id_in_a_product_json_string(workspace):
    secret = "cid." + rand(24)
    (workspace.product / "config" ).mkdir(exist_ok=True)
    (workspace.product / "config" / "widget.json").write_text(json.dumps({"widget": {"clientId": secret}}))
    result = workspace.run(tenants=["comfort-launch"])
    row = result.assert_fails(PRODUCT, "SEC-NO-CREDENTIALS")
    text = (result.report_dir / "readiness.json").read_text()
    assert secret not in text and secret not in result.output
    assert any("widget.json:1" in f["subject"] for f in result.report["product"]["findings"])
    assert row["status"] == "failed"


@pytest.mark.slow
def test_gate_fails_on_a_base64_wrapped_secret_in_a_tenant_export(workspace):
    blob = base64.b64encode(f"client_secret={rand(20)}".encode()).decode()
    export = workspace.tenant("comfort-launch") / "exports" / "jpm" / "job-types.json"
    body = json.loads(export.read_text())
    body["data"][0]["name"] = body["data"][0]["name"] + " " + blob
    export.write_text(json.dumps(body, indent=2))
    result = workspace.run(tenants=["comfort-launch"])
    result.assert_fails(TENANT, "SEC-NO-CREDENTIALS", tenant="comfort-launch")


@pytest.mark.slow
def test_gate_fails_on_an_app_key_in_a_url_query_of_a_product_page(workspace):
    page = next(workspace.product.rglob("*.txt"))
    page.write_text(page.read_text() + f"\nSee https://example.com/x?servicetitanapplicationkey=ak1.{rand(20)}\n")
    workspace.run(tenants=["comfort-launch"]).assert_fails(PRODUCT, "SEC-NO-CREDENTIALS")


@pytest.mark.slow
def test_gate_fails_on_a_secret_in_a_policy_comment(workspace):
    path = workspace.policies / "envelopes.yaml"
    path.write_text(f"# handy: client_secret={rand(16)}\n" + path.read_text())
    workspace.run(tenants=["comfort-launch"]).assert_fails(POLICIES, "SEC-NO-CREDENTIALS")


@pytest.mark.slow
def test_gate_fails_closed_on_a_symlink_out_of_the_product(workspace, tmp_path):
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("not checked\n")
    (workspace.product / "linked.txt").symlink_to(outside)
    result = workspace.run(tenants=["comfort-launch"])
    row = result.assert_fails(PRODUCT, "SEC-NO-CREDENTIALS")
    assert "could be checked" in " ".join(s["name"] for s in row["steps"] if s["status"] == "failed")


@pytest.mark.slow
def test_gate_fails_on_an_allow_list_entry_that_excuses_everything(workspace):
    path = workspace.policies / "credentials.yaml"
    policy = yaml.safe_load(path.read_text())
    policy["allow"].append({"id": "anything", "pattern": ".+", "reason": "too lazy to list placeholders"})
    path.write_text(yaml.safe_dump(policy))
    workspace.run(tenants=["comfort-launch"]).assert_fails(
        "No allow-list entry excuses a real-looking credential", "SEC-NO-CREDENTIALS")


@pytest.mark.slow
def test_gate_passes_documented_placeholders(workspace):
    (workspace.product / "setup-notes.md").write_text(
        "Set client_secret=<client-secret> and client id cid.your_client_id_here from the environment.\n"
        "App key: ak1.xxxxxxxxxxxxxxxxxxxx (redacted)\n"
    )
    result = workspace.run(tenants=["comfort-launch"])
    assert result.exit_code == 0, result.output[-3000:]


def test_command_line_scan(tmp_path, capsys):
    from readiness.__main__ import main

    secret = "ak1." + rand(20)
    (tmp_path / "config.yaml").write_text(f"app_key: {secret}\n")
    assert main(["scan-credentials", str(tmp_path), f"--policies-dir={ROOT / 'policies'}"]) == 1
    out = capsys.readouterr().out
    assert "config.yaml:1" in out and "servicetitan-app-key" in out and secret not in out
    (tmp_path / "config.yaml").write_text("app_key: <app-key>\n")
    assert main(["scan-credentials", str(tmp_path / "config.yaml"), f"--policies-dir={ROOT / 'policies'}"]) == 0
    assert main(["scan-credentials", str(tmp_path / "missing"), f"--policies-dir={ROOT / 'policies'}"]) == 2


def test_a_self_test_names_a_finding_that_shows_its_value(policy, monkeypatch):
    """The planted-credential scenario must fail if masking breaks: a finding that repeats the value is named."""
    monkeypatch.setattr(credentials, "mask", lambda secret: secret)
    result = credentials.self_test(policy, "a client id", "plain text")
    assert result.findings and result.unmasked == ["servicetitan-client-id"] and not result.caught_masked
