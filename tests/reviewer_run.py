"""One gate run shared by the reviewer-experience tests: a tenant whose name carries a <script>, and a failing tenant.

Imported by test_livingdoc.py, test_report_html.py and test_browser.py (pytest puts tests/ on sys.path).
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

from conftest import ROOT, GateResult, Workspace

SCRIPT_TENANT = "riverside-growth"
FAILING_TENANT = "comfort-launch"
# Would retitle the page and mark <body> if a template ever let it through unescaped.
PLANTED_SCRIPT = '<script>document.title="PWNED";document.body.setAttribute("data-pwned","yes")</script>'
PLANTED_CLAIM = "\nWe are an approved ServiceTitan partner.\n"
CLAIM_SCENARIO = "A tenant's documents claim no approval and no sandbox evidence"


def shared_planted_run(tmp_path_factory) -> GateResult:
    """``planted_run`` once per test session, shared by every module and every pytest-xdist worker.

    Workers of one session share the parent of their temporary folders and the run id xdist gives them;
    a lock lets the first worker run the gate while the others wait and reuse its report (read-only).
    """
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent / f"reviewer-run-{run_id}") if run_id else (base / "reviewer-run")
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = folder / "result.json"
        if not done.exists():
            result = planted_run(folder / "workspace")
            done.write_text(json.dumps({"exit_code": result.exit_code, "output": result.output,
                                        "report_dir": str(result.report_dir)}), encoding="utf-8")
        saved = json.loads(done.read_text(encoding="utf-8"))
    return GateResult(saved["exit_code"], saved["output"], Path(saved["report_dir"]))


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
