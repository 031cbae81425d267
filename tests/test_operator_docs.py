"""The operator docs cannot drift: fixtures/README.md lists exactly the keys of the tenant schemas, README's
package table is generated from policies/packages.yaml, and README's example errors are what the gate prints.

``python -m tests.test_operator_docs`` rewrites README's generated table after a change to packages.yaml.
"""

from __future__ import annotations

import re

import pytest
import yaml

from readiness.core.documents import schema
from tests.conftest import ROOT

FIXTURES_README = ROOT / "fixtures" / "README.md"
README = ROOT / "README.md"
GENERATED = re.compile(r"(<!-- generated from policies/packages.yaml[^\n]*-->\n)(.*?)(<!-- end of generated table -->)",
                       re.S)


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    ends = [i for i in (text.find("\n### ", start + 1), text.find("\n## ", start + 1)) if i >= 0]
    return text[start:min(ends, default=len(text))]


def _table_keys(section: str) -> list[str]:
    """The backticked key in the first column of every table row of a section."""
    return re.findall(r"^\| `([^`]+)` \|", section, re.M)


def _schema_paths(fragment: dict, root: dict, prefix: str = "") -> set[str]:
    """Every key path a schema declares: ``connection.status``, ``services[].job_type`` (local $refs followed)."""
    if "$ref" in fragment and not fragment.get("properties"):
        target = root
        for name in fragment["$ref"][2:].split("/"):
            target = target[name]
        fragment = target
    paths = set()
    for key, inner in fragment.get("properties", {}).items():
        path = f"{prefix}{key}"
        paths.add(path)
        if inner.get("type") == "object" or "properties" in inner:
            paths |= _schema_paths(inner, root, f"{path}.")
        if inner.get("type") == "array" and isinstance(inner.get("items"), dict):
            paths.add(f"{path}[]")
            paths |= _schema_paths(inner["items"], root, f"{path}[].")
    return paths


# fixtures/README.md section -> the schema whose keys its table lists
DOCUMENTED = {
    "### 1.1 `tenant.yaml`": "tenant/tenant",
    "### 1.2 `titan-map.yaml`": "tenant/titan-map",
    "### 1.6 `leads/consent.jsonl`": "tenant/consent",
    "### 1.7 `queue/sync-queue.jsonl`": "tenant/queue-item",
    "### 1.8 `evidence/`": "tenant/evidence-note",
}


@pytest.mark.parametrize("heading", DOCUMENTED)
def test_fixtures_readme_lists_exactly_the_keys_of_each_tenant_schema(heading):
    root = schema(DOCUMENTED[heading])
    paths = _schema_paths(root, root)
    documented = [k for k in _table_keys(_section(FIXTURES_README.read_text(), heading)) if not k.endswith(".md")
                  and not k.endswith(".png")]
    review = set(root.get("$defs", {}).get("review", {}).get("properties", {}))
    unknown = [k for k in documented if k not in paths and k not in review]
    assert not unknown, f"{heading} documents keys its schema does not have: {unknown}"
    top = set(root["properties"]) | review
    missing = sorted(top - {k.split(".")[0].split("[")[0] for k in documented})
    assert not missing, f"{heading} does not document these keys of its schema: {missing}"


def test_fixtures_readme_lists_the_lead_envelope():
    envelope = yaml.safe_load((ROOT / "policies/envelopes.yaml").read_text())["lead"]["fields"]
    documented = _table_keys(_section(FIXTURES_README.read_text(), "### 1.5 `leads/submissions.jsonl`"))
    assert documented == list(envelope)


def package_table(packages: dict) -> str:
    rows = ["| Package | Exports (`exports/<path>.json`) | Evidence (`evidence/`) |", "|---|---|---|"]
    for package in packages["packages"].values():
        exports = ", ".join(f"`{e['path']}`" for e in package["exports"])
        evidence = ", ".join(f"{e['name']} (`{e['pattern']}`)" for e in package["evidence"])
        rows.append(f"| {package['title']} | {exports} | {evidence} |")
    return "\n".join(rows) + "\n"


def _packages() -> dict:
    return yaml.safe_load((ROOT / "policies/packages.yaml").read_text())


def test_readme_lists_each_packages_required_exports_and_evidence():
    match = GENERATED.search(README.read_text())
    assert match, "README's generated package table is missing"
    assert match.group(2) == package_table(_packages()), "run: python -m tests.test_operator_docs"


def test_readme_adding_a_tenant_writes_path_options_with_equals_and_keeps_reports_apart():
    section = README.read_text().split("### Adding a tenant")[1].split("\n## ")[0]
    assert "--tenants-dir=" in section and "--report-dir=" in section
    assert "pytest --tenant=<slug>`" not in section


def _readme_examples() -> list[str]:
    section = README.read_text().split("## For operators")[1].split("### Sandbox modes")[0]
    blocks = [body for language, body in re.findall(r"^```(\w*)\n(.*?)^```", section, re.S | re.M) if not language]
    return [line for block in blocks for line in block.splitlines()]


@pytest.mark.slow
def test_readme_example_errors_are_what_the_gate_prints(workspace):
    examples = _readme_examples()
    assert len(examples) >= 7
    as_in_readme = lambda text: text.replace(f"{workspace.base}/tenants", "fixtures/tenants").replace(  # noqa: E731
        f"{workspace.base}/", "")
    printed = as_in_readme(workspace.run("--tenant=bogus").output)
    requirements = workspace.policies / "requirements.yaml"
    original = requirements.read_text()
    requirements.write_text(original.replace("  - id: CLAIM-WEBHOOK\n    text:", "  - id: CLAIM-WEBHOOK\n    txt:", 1))
    printed += as_in_readme(workspace.run().output)
    requirements.write_text(original)
    profile = workspace.tenant("comfort-launch") / "tenant.yaml"
    profile.write_text(profile.read_text().replace("trade:", "trde:"))
    note = workspace.tenant("riverside-growth") / "evidence" / "manual-handoff-log-2026-11.md"
    note.write_text(note.read_text().replace("FAKE demo record.", "FAKE demo record. Paid by card 4012 8888 8888 1881.", 1))
    result = workspace.run(tenants=["comfort-launch", "riverside-growth"])
    printed += as_in_readme(result.output)
    assert result.exit_code != 0
    missing = [line for line in examples if line not in printed.splitlines()]
    assert not missing, missing


if __name__ == "__main__":
    text = README.read_text()
    README.write_text(GENERATED.sub(lambda m: m.group(1) + package_table(_packages()) + m.group(3), text))
