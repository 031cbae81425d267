"""``python -m readiness COMMAND ...``: the suite's command line beside the pytest gate.

Each command lives in the module of its concern and offers ``register(subparsers)``,
which adds its parser and sets ``func`` (returning an exit code). Errors of input
are one line on stderr with exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from readiness.core.errors import ReadinessError

# Modules that contribute a command, in the order `--help` lists them.
COMMAND_MODULES: list[str] = [
    "readiness.boundaries.credentials",
    "readiness.sync.queue",
    "readiness.sandbox.simulator",
    "readiness.report.merge",
    "readiness.report.history",
    "readiness.report.verify",
    "readiness.report.pdf",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m readiness", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(commands)
    register_map_and_leads(commands)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ReadinessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


# --- customer intake: map draft, map confirm, leads import ---------------------------------------------------
# Each writes only inside the tenant folder it is given, never replaces a file without --force, and ends by
# printing the next command to run.


def register_map_and_leads(commands) -> None:
    map_parser = commands.add_parser("map", help="draft the Titan Map from the website's list; confirm reviewed entries")
    map_commands = map_parser.add_subparsers(dest="map_command", required=True, metavar="ACTION")
    draft = map_commands.add_parser(
        "draft", help="draft titan-map.yaml by matching the website's services, areas and lead sources to the exports",
        description="Match each service, service area (ZIP codes) and lead source of the website to the tenant's "
                    "exported job types, zones and campaigns by name. Every entry is written status: needs-review "
                    "with its candidates and confidence (0 to 1); the gate uses none of them until confirmed.")
    draft.add_argument("tenant_dir", type=Path, metavar="TENANT_DIR")
    draft.add_argument("--website", type=Path, required=True, metavar="SERVICES.yaml|csv",
                       help="the website's list: YAML sections services, service_areas, lead_sources, offers, memberships with label "
                            "(website slug, zips optional), or CSV columns kind,label[,website,zips]")
    draft.add_argument("--force", action="store_true", help="replace a titan-map.yaml that already has entries")
    draft.set_defaults(func=_map_draft)
    confirm = map_commands.add_parser(
        "confirm", help="record that a customer role reviewed Titan Map entries (never automatic)",
        description="Mark the named entries confirmed, with the customer's reviewing role and the date. "
                    "SECTION/WEBSITE=ID confirms another candidate than the proposed one.")
    confirm.add_argument("tenant_dir", type=Path, metavar="TENANT_DIR")
    # nargs="+" (not "*"): argparse then still takes the entries when they follow --role.
    confirm.add_argument("entries", nargs="+", metavar="SECTION/WEBSITE[=ID]|all",
                         help="e.g. services/drain-cleaning or lead_sources/google-ads=24001; 'all' confirms every "
                              "entry still in review (you reviewed all of them with the customer)")
    confirm.add_argument("--role", required=True, help="the customer's role that reviewed them, e.g. 'Office Manager'")
    confirm.add_argument("--on", type=_iso_date, default=None, metavar="YYYY-MM-DD", help="review date (default: today)")
    confirm.set_defaults(func=_map_confirm)

    leads_parser = commands.add_parser("leads", help="import the website's form submissions into a tenant")
    leads_commands = leads_parser.add_subparsers(dest="leads_command", required=True, metavar="ACTION")
    leads_import = leads_commands.add_parser(
        "import", help="form submissions (CSV or JSON lines) -> leads, consent records and queue items",
        description="Each submission gets a lead id, a consent record with the consent text's SHA-256 and a "
                    "sync-queue item (queued, or review when its Titan Map entry is missing or unreviewed). "
                    "Columns outside the lead envelope are dropped and listed; payment, identity and secret "
                    "columns are refused.")
    leads_import.add_argument("tenant_dir", type=Path, metavar="TENANT_DIR")
    leads_import.add_argument("file", type=Path, metavar="FILE", help="the form tool's export (.csv, .jsonl, .ndjson)")
    leads_import.add_argument("--product-dir", type=Path, default=Path("fixtures/product"),
                              help="the offline product (its config/site.yaml names the consent text; "
                                   "default: fixtures/product)")
    leads_import.add_argument("--policies-dir", type=Path, default=Path("policies"),
                              help="policy folder (lead envelope, queue, drift; default: policies)")
    leads_import.set_defaults(func=_leads_import)


def _iso_date(text: str):
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-18") from None


def _gate_command(tenant_dir: Path) -> str:
    tenant_dir = Path(tenant_dir)
    return (f"python -m pytest --tenants-dir={tenant_dir.parent} --tenant={tenant_dir.name} "
            f"--report-dir=reports/{tenant_dir.name}")


def _map_draft(args) -> int:
    from readiness.mapping import draft

    result = draft.draft(args.tenant_dir, args.website, force=args.force)
    print(f"wrote {result.path}: {result.entries} entries, {result.proposed} with a proposed match, "
          "all status: needs-review")
    for name in result.without_candidate:
        print(f"  {name}: no close match; pick one at the review ({name}=ID)")
    print("next: review each entry with the customer, then: "
          f"python -m readiness map confirm {args.tenant_dir} --role 'Office Manager' SECTION/WEBSITE ... (or all)")
    return 0


def _map_confirm(args) -> int:
    from readiness.mapping import draft

    entries = [e for e in args.entries if e != "all"]
    result = draft.confirm(args.tenant_dir, entries, args.role, all_entries="all" in args.entries, on=args.on)
    print(f"confirmed {len(result.confirmed)} entries in {result.path} (reviewed by {args.role}); "
          f"recorded in {result.record}")
    if result.still_unreviewed:
        print(f"still in review: {', '.join(result.still_unreviewed)}")
        print(f"next: python -m readiness map confirm {args.tenant_dir} --role '{args.role}' "
              f"{' '.join(result.still_unreviewed)}")
    else:
        print(f"next: python -m readiness leads import {args.tenant_dir} FORM-EXPORT.csv")
    return 0


def _leads_import(args) -> int:
    from readiness.intake import leads

    result = leads.import_submissions(args.tenant_dir, args.file, product_dir=args.product_dir,
                                      policies_dir=args.policies_dir)
    queued = ", ".join(f"{n} {state}" for state, n in sorted(result.states.items())) or "none"
    print(f"imported {result.imported} submissions into {args.tenant_dir}/leads/submissions.jsonl "
          f"({result.skipped} already there) with their consent records; queue items: {queued}")
    if result.dropped:
        print(f"dropped (outside the lead envelope, never written): {', '.join(result.dropped)}")
    print(f"next: {_gate_command(args.tenant_dir)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
