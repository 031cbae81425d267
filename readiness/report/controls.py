"""The "by control" view: each control a reviewer asks about, the requirements and scenarios that prove it.

``policies/controls.yaml`` maps requirement ids to controls (ServiceTitan ISA topics, SOC 2 Trust Services
Criteria, OWASP ASVS 4.0.3 sections), cited by clause number only. A control's status is the least proven status
of its requirements; a control no requirement covers is a *gap*, never met. Pure data in, data out: the report and
the security packet render it, the OSCAL document ties its findings to it.
"""

from __future__ import annotations

from collections import Counter

from readiness.core.findings import Finding

POLICY = "controls"
# Least proven first: a control is only as proven as its weakest requirement. An uncovered requirement makes a gap.
ORDER = ("failed", "waived", "pending", "dry-run", "gap", "met")
STATUSES = ("met", "failed", "waived", "pending", "dry-run", "gap")

FINDING_KINDS: dict[str, str | None] = {
    "control-unknown-requirement": None,
    "control-unknown-control": None,
    "control-unknown-framework": None,
    "control-gap-unexplained": None,
    "control-gap-but-mapped": None,
}


def requirements_of(policy: dict) -> dict[str, list[str]]:
    """control id -> the requirement ids mapped to it, in catalog order."""
    mapped: dict[str, list[str]] = {c["id"]: [] for c in policy["controls"]}
    for requirement, control_ids in policy["requirements"].items():
        for control_id in control_ids:
            mapped.setdefault(control_id, []).append(requirement)
    return mapped


def view(policy: dict, requirement_rows: list[dict]) -> dict:
    """The report's ``controls`` section from the mapping and the run's requirement rows."""
    mapped = requirements_of(policy)
    rows = []
    for control in policy["controls"]:
        proving = set(mapped[control["id"]])
        linked = [r for r in requirement_rows if r["id"] in proving]  # catalog order, however the mapping is written
        statuses = {"gap" if r["status"] == "uncovered" else r["status"] for r in linked} or {"gap"}
        rows.append({
            "id": control["id"],
            "framework": control["framework"],
            "title": control["title"],
            "status": next(s for s in ORDER if s in statuses),
            "gap": control.get("gap"),
            "requirements": [{"id": r["id"], "status": r["status"]} for r in linked],
            "scenarios": sorted({s for r in linked for s in r["scenarios"]}),
        })
    counts = Counter(r["status"] for r in rows)
    return {"frameworks": policy["frameworks"], "controls": rows,
            "summary": {status: counts.get(status, 0) for status in STATUSES}}


def controls_of(policy: dict, requirement_ids) -> list[str]:
    """The control ids the given requirements help prove, in catalog order."""
    wanted = {c for r in requirement_ids for c in policy["requirements"].get(r, [])}
    return [c["id"] for c in policy["controls"] if c["id"] in wanted]


def mapping_problems(policies) -> list[Finding]:
    """Every mapped requirement exists in the catalog, every mapped control is declared, every framework known,
    and every control either has a requirement or says why it is a gap."""
    policy = policies[POLICY]
    requirement_ids = {r["id"] for r in policies["requirements"]["requirements"]}
    control_ids = {c["id"] for c in policy["controls"]}
    frameworks = {f["id"] for f in policy["frameworks"]}
    mapped = requirements_of(policy)
    where = policies.path(POLICY).name
    found = []
    for requirement, controls in policy["requirements"].items():
        line = policies.line_of(POLICY, ["requirements", requirement])
        if requirement not in requirement_ids:
            found.append(Finding("control-unknown-requirement", f"{where}:{line} {requirement}", "blocker", None,
                                 f"requirement {requirement} is mapped to controls but is not in requirements.yaml"))
        for control in controls:
            if control not in control_ids:
                found.append(Finding("control-unknown-control", f"{where}:{line} {requirement}", "blocker", None,
                                     f"control {control} is not declared under controls"))
    for index, control in enumerate(policy["controls"]):
        subject = f"{where}:{policies.line_of(POLICY, ['controls', index])} {control['id']}"
        if control["framework"] not in frameworks:
            found.append(Finding("control-unknown-framework", subject, "blocker", None,
                                 f"framework {control['framework']} is not declared under frameworks"))
        has_requirement = any(r in requirement_ids for r in mapped[control["id"]])
        if not has_requirement and not control.get("gap"):
            found.append(Finding("control-gap-unexplained", subject, "blocker", None,
                                 f"no requirement proves {control['id']}: map one, or say under gap why none does"))
        if has_requirement and control.get("gap"):
            found.append(Finding("control-gap-but-mapped", subject, "blocker", None,
                                 f"{control['id']} is mapped by {', '.join(mapped[control['id']])} but says it is a "
                                 "gap: remove the gap note or the mapping"))
    return found


def policy_of(built_view: dict) -> dict:
    """The mapping a report's ``controls`` view was built from, so a merged report rebuilds the same view."""
    requirements: dict[str, list[str]] = {}
    for control in built_view["controls"]:
        for requirement in control["requirements"]:
            requirements.setdefault(requirement["id"], []).append(control["id"])
    return {"frameworks": built_view["frameworks"], "requirements": requirements,
            "controls": [{k: c[k] for k in ("id", "framework", "title")} | ({"gap": c["gap"]} if c["gap"] else {})
                         for c in built_view["controls"]]}


def packet_view(policies) -> dict:
    """The security packet's "by control" section: the mapping only (a packet is no test result)."""
    policy = policies[POLICY]
    known = {r["id"] for r in policies["requirements"]["requirements"]}
    mapped = requirements_of(policy)
    return {"frameworks": [
        {"title": framework["title"], "controls": [
            {"id": c["id"], "title": c["title"], "requirements": [r for r in mapped[c["id"]] if r in known],
             "gap": c.get("gap") if not any(r in known for r in mapped[c["id"]]) else None}
            for c in policy["controls"] if c["framework"] == framework["id"]]}
        for framework in policy["frameworks"]]}
