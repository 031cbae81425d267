"""Manual packages (PKG-MANUAL): what Launch and Growth deliver by hand, and what each tenant must supply.

A package runs from customer-reviewed exports (``exports/<module>/<path>.json``) and evidence files
(screenshots, export receipts, Titan Map reviews, handoff logs under ``evidence/``). A tenant that lacks
one is a finding routed to the failed-sync runbook: in manual mode, the customer's export is the sync.
"""

from __future__ import annotations

from fnmatch import fnmatch
from typing import Any

from readiness.core.findings import Finding
from readiness.servicetitan import catalog
from readiness.access.matrix import Matrix

FINDING_KINDS: dict[str, str | None] = {
    "package-export-missing": "failed-sync",
    "package-evidence-missing": "failed-sync",
    "package-definition-invalid": None,
}

POLICY = "packages"


def package(policies, name: str) -> dict[str, Any]:
    return policies[POLICY]["packages"][name]


def export_endpoint(path: str) -> str:
    """``jpm/export/jobs`` -> ``/jpm/v2/tenant/{tenant}/export/jobs`` (the GET an export file records)."""
    module, _, rest = path.partition("/")
    return catalog.api_path(module, rest, "{tenant}")


def definition_problems(policies) -> list[Finding]:
    """Each package lists deliverables, and every export and required family is one the matrix would read."""
    matrix = Matrix(policies)
    found = []
    for name, spec in policies[POLICY]["packages"].items():
        families = {f["id"]: f for f in matrix.families_for(name)}
        reads = {e["path"]: fid for fid, f in families.items() for e in f["endpoints"] if e["method"] == "GET"}
        for index, export in enumerate(spec["exports"]):
            if export_endpoint(export["path"]) not in reads:
                found.append(_problem(policies, ["packages", name, "exports", index],
                                      f"the {name} package needs export {export['path']}, which is not a read of "
                                      f"any connection-matrix family the {name} package uses"))
        for index, family in enumerate(spec["api_required"]):
            if family not in families:
                found.append(_problem(policies, ["packages", name, "api_required", index],
                                      f"{family!r} is not a connection-matrix family the {name} package uses"))
    return found


def _problem(policies, parts: list, detail: str) -> Finding:
    line = policies.line_of(POLICY, parts) or 1
    key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts).lstrip(".")
    return Finding("package-definition-invalid", f"{POLICY}.yaml:{line} {key}", "blocker", None, detail)


def missing_inputs(policies, tenant) -> list[Finding]:
    """Every export and evidence file the tenant's package needs is present (a gap is a finding, not a crash).

    An empty folder of pages counts as missing; a malformed export raises TenantDataError naming the file.
    """
    name = tenant.profile["package"]
    spec = package(policies, name)
    found = []
    for export in spec["exports"]:
        if not (tenant.has_export(export["path"]) and tenant.export_pages(export["path"])):
            found.append(Finding(
                "package-export-missing", f"{tenant.slug} exports/{export['path']}.json", "blocker",
                FINDING_KINDS["package-export-missing"],
                f"the {spec['title']} package needs the customer-reviewed {export['what'].lower()} export "
                f"(GET {export_endpoint(export['path'])})",
            ))
    evidence = tenant.folder / "evidence"
    names = sorted(p.name for p in evidence.iterdir() if p.is_file()) if evidence.is_dir() else []
    for item in spec["evidence"]:
        if not any(fnmatch(file, item["pattern"]) for file in names):
            found.append(Finding(
                "package-evidence-missing", f"{tenant.slug} evidence/{item['pattern']}", "blocker",
                FINDING_KINDS["package-evidence-missing"],
                f"the {spec['title']} package needs a customer-reviewed {item['kind']}: {item['name']}",
            ))
    return found
