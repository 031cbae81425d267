"""One gate run shared by the reviewer-experience tests: a tenant whose name carries a <script>, and a failing tenant.

Imported by test_livingdoc.py, test_report_html.py and test_browser.py (pytest puts tests/ on sys.path).
"""

from __future__ import annotations

from pathlib import Path

from conftest import ROOT, GateResult, Workspace, once_per_session

SCRIPT_TENANT = "riverside-growth"
FAILING_TENANT = "comfort-launch"
# Would retitle the page and mark <body> if a template ever let it through unescaped.
PLANTED_SCRIPT = '<script>document.title="PWNED";document.body.setAttribute("data-pwned","yes")</script>'
PLANTED_CLAIM = "\nWe are an approved ServiceTitan partner.\n"
CLAIM_SCENARIO = "A tenant's documents claim no approval and no sandbox evidence"


def shared_planted_run(tmp_path_factory) -> GateResult:
    """``planted_run`` once per test session, shared by every module and every pytest-xdist worker."""
    return once_per_session(tmp_path_factory, "reviewer-run", planted_run)


def planted_run(base: Path) -> GateResult:
    workspace = Workspace(base)
    profile = workspace.tenant(SCRIPT_TENANT) / "tenant.yaml"
    text = profile.read_text(encoding="utf-8")
    name_line = next(line for line in text.splitlines() if line.startswith("name:"))
    profile.write_text(text.replace(name_line, f"name: 'Riverside {PLANTED_SCRIPT} (demo)'"), encoding="utf-8")
    log = next((workspace.tenant(FAILING_TENANT) / "evidence").glob("*.md"))
    log.write_text(log.read_text(encoding="utf-8") + PLANTED_CLAIM, encoding="utf-8")
    return workspace.run()


def requirement_ids() -> list[str]:
    import yaml

    catalog = yaml.safe_load((ROOT / "policies" / "requirements.yaml").read_text(encoding="utf-8"))
    return [r["id"] for r in catalog["requirements"]]
