"""A new tenant folder that passes schema validation at once, with the checklist of what the customer must bring.

Run right after, the gate fails only because exports and evidence are missing, each finding naming the file
(``package-export-missing``, ``package-evidence-missing``); ``evidence/CHECKLIST.md`` lists the same files,
generated from ``policies/packages.yaml``, with the import command that brings each export.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import jsonschema
import yaml

from readiness.core.documents import schema
from readiness.core.errors import OptionError, relative
from readiness.intake.files import refuse_existing, write_new

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# The module ids tenant.yaml may name (fixtures/README.md 1.1).
MODULES = ("crm", "jpm", "settings", "dispatch", "marketing", "marketing-ads", "pricebook", "memberships", "accounting")
CHECKLIST = "evidence/CHECKLIST.md"


@dataclass(frozen=True)
class NewTenant:
    slug: str
    package: str
    tenant_id: int
    name: str
    trade: str | None = None
    modules: tuple[str, ...] = ()
    # (role, modules it authorizes); empty: one Owner authorizes every purchased module.
    owners: tuple[tuple[str, tuple[str, ...]], ...] = ()
    captured_on: str = field(default_factory=lambda: date.today().isoformat())


def default_modules(packages_policy: dict, package: str) -> tuple[str, ...]:
    """The modules a package's exports come from, plus crm (every package hands leads to ServiceTitan's CRM)."""
    found = {"crm"} | {export["path"].split("/", 1)[0] for export in packages_policy["packages"][package]["exports"]}
    return tuple(module for module in MODULES if module in found)


def check(request: NewTenant, packages_policy: dict) -> None:
    if not SLUG.match(request.slug):
        raise OptionError(f"tenant slug {request.slug!r}: use lower-case words joined by '-', e.g. acme-plumbing")
    if request.package not in packages_policy["packages"]:
        raise OptionError(f"--package {request.package}: choose one of {', '.join(packages_policy['packages'])}")
    if request.tenant_id < 1:
        raise OptionError("--tenant-id: the customer's numeric ServiceTitan tenant id (a positive integer)")
    named = [*request.modules, *(m for _, modules in request.owners for m in modules)]
    for module in named:
        if module not in MODULES:
            raise OptionError(f"module {module!r} is not a ServiceTitan module id; choose from {', '.join(MODULES)}")
    for role, _ in request.owners:
        if not role.strip():
            raise OptionError("--owner ROLE=modules: the role (Owner, Controller, ...) may not be empty")


def profile(request: NewTenant, packages_policy: dict) -> dict:
    modules = list(request.modules or default_modules(packages_policy, request.package))
    owners = request.owners or (("Owner", tuple(modules)),)
    document = {
        "name": request.name,
        "tenant_id": request.tenant_id,
        "package": request.package,
        **({"trade": request.trade} if request.trade else {}),
        "purchased_modules": modules,
        "connection": {"status": "not-connected", "granted_scopes": []},
        "authorization_owners": [{"role": role, "authorizes": list(authorizes)} for role, authorizes in owners],
        "exports": {"source": "customer-supplied", "captured_on": request.captured_on},
    }
    problem = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema("tenant/tenant")).iter_errors(document))
    if problem is not None:
        raise OptionError(f"the tenant profile would not be valid: {problem.message}")
    return document


def titan_map() -> dict:
    """An empty map: every list is filled from the customer's exports and reviewed with the customer."""
    return {"reviewed_on": None, "reviewed_by_role": None, "services": [], "service_areas": [], "lead_sources": [],
            "offers": [], "memberships": [], "notes": "Not reviewed yet."}


def checklist(request: NewTenant, packages_policy: dict, kinds_by_export: dict[str, str], folder: str) -> str:
    spec = packages_policy["packages"][request.package]
    lines = [
        f"# What {request.name} must bring ({spec['title']} package)",
        "",
        "Generated from `policies/packages.yaml` by `python -m readiness tenant new`. The gate reports each missing",
        "item below as a finding naming the same file. Tick an item when the customer-reviewed file is in place.",
        "",
        "## Exports (from ServiceTitan screens, reports or the Pricebook Excel template)",
        "",
    ]
    for export in spec["exports"]:
        kind = kinds_by_export.get(export["path"])
        how = (f"`python -m readiness import {folder} FILE --kind {kind} --reviewed-by-role ROLE`" if kind
               else "no import profile yet: add one to `policies/intake.yaml`")
        lines.append(f"- [ ] `exports/{export['path']}.json`: {export['what']}. Bring it with {how}")
    lines += ["", "## Evidence (files under `evidence/`)", ""]
    for item in spec["evidence"]:
        lines.append(f"- [ ] `evidence/{item['pattern']}`: {item['name']} ({item['kind']})")
    lines += ["", "An import writes its own `evidence/export-receipt-<date>.md`.", ""]
    return "\n".join(lines)


def files(request: NewTenant, packages_policy: dict, kinds_by_export: dict[str, str], folder: str) -> dict[str, str]:
    """Relative path -> text of every file the scaffold writes."""
    check(request, packages_policy)
    header = f"# {request.name}: tenant profile (meaning of each key: fixtures/README.md 1.1)\n"
    map_header = (f"# Titan Map for {request.name}: website concepts -> ServiceTitan ids, filled from the imported\n"
                  "# exports and reviewed with the customer (fixtures/README.md 1.2).\n")
    return {
        "tenant.yaml": header + yaml.safe_dump(profile(request, packages_policy), sort_keys=False),
        "titan-map.yaml": map_header + yaml.safe_dump(titan_map(), sort_keys=False),
        "leads/submissions.jsonl": "",
        "leads/consent.jsonl": "",
        "queue/sync-queue.jsonl": "",
        CHECKLIST: checklist(request, packages_policy, kinds_by_export, folder),
    }


def scaffold(tenants_dir: Path, request: NewTenant, packages_policy: dict, kinds_by_export: dict[str, str],
             *, force: bool = False) -> list[Path]:
    """Write the tenant folder; refuses (writing nothing) when a file exists, unless ``force``."""
    folder = tenants_dir / request.slug
    planned = {folder / name: text
               for name, text in files(request, packages_policy, kinds_by_export, relative(folder)).items()}
    if not force:
        refuse_existing(planned)
    (folder / "exports").mkdir(parents=True, exist_ok=True)
    for path, text in planned.items():
        write_new(path, text)
    return list(planned)
