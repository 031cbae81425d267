"""``python -m readiness COMMAND ...``: the suite's command line beside the pytest gate.

Every command is registered here and nowhere else: one ``Command`` in ``COMMANDS`` names it,
adds its arguments and runs it by calling plain library functions with typed values. Domain
modules hold no argument parsing. Errors of input are one line on stderr with exit code 2,
never a traceback.

To add a command: write ``_<name>_arguments(parser)`` and ``_<name>(args) -> int`` below and
append one ``Command`` to ``COMMANDS`` (the order there is the order ``--help`` lists them). Both functions
import the library modules they use themselves: only the chosen command's arguments are added, so a command
loads only what it runs (a merge of shard reports does not pay for the simulator's or the importer's imports).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable, Sequence

from readiness.core.errors import ReadinessError


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    description: str | None = None
    documented_by: str | None = None  # the library module whose docstring's first line describes the command

    def describe(self) -> str:
        if self.documented_by:
            return importlib.import_module(self.documented_by).__doc__.splitlines()[0]
        return self.description or self.help


def _policies_dir_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policies-dir", type=Path, default=Path("policies"), help="policy folder (default: policies)")


# -- scan-credentials --------------------------------------------------------------------------------------------


def _scan_credentials_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="folder or file to scan")
    _policies_dir_argument(parser)


def _scan_credentials(args: argparse.Namespace) -> int:
    from readiness.boundaries import credentials
    from readiness.core.policy import PolicySet

    policies = PolicySet.load(args.policies_dir)
    policy = credentials.CredentialPolicy.from_policies(policies)
    result = credentials.scan(args.paths, policy)
    for finding in result.findings:
        print(finding)
    print(f"{result.files} files, {result.bytes / 1e6:.1f} MB scanned; {len(result.failures)} failing findings")
    return 1 if result.failures else 0


# -- queue -------------------------------------------------------------------------------------------------------


def _queue_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("tenant_folder", type=Path, help="a tenant folder, e.g. fixtures/tenants/comfort-launch")
    _policies_dir_argument(parser)


def _queue(args: argparse.Namespace) -> int:
    from readiness.core.errors import TenantDataError
    from readiness.core.policy import PolicySet
    from readiness.core.tenants import FixtureTenant
    from readiness.sync import queue

    if not (args.tenant_folder / "tenant.yaml").is_file():
        raise TenantDataError(args.tenant_folder / "tenant.yaml", "not a tenant folder (no tenant.yaml)")
    policy = queue.QueuePolicy.from_policies(PolicySet.load(args.policies_dir))
    tenant = FixtureTenant(args.tenant_folder)
    lines = queue.tenant_snapshot(tenant)
    items = [line.item for line in lines]
    print(f"{tenant.profile['name']} ({tenant.slug}): {len(items)} queue items, "
          f"connection {tenant.profile['connection']['status']}")
    print(queue.state_table(items, queue.operator_view(items, policy)))
    problems = queue.tenant_problems(tenant, policy)
    for finding in problems:
        print(f"problem: {finding}")
    return 1 if problems else 0


# -- simulator ---------------------------------------------------------------------------------------------------


def _simulator_arguments(parser: argparse.ArgumentParser) -> None:
    from readiness.sandbox import simulator

    parser.add_argument("--tenant", required=True, type=Path, metavar="DIR", help="fixture tenant folder")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    parser.add_argument("--token-lifetime", type=int, default=simulator.DEFAULT_TOKEN_LIFETIME,
                        help="expires_in of tokens, s")


def _simulator(args: argparse.Namespace) -> int:
    from readiness.sandbox import simulator

    simulator.serve(args.tenant, host=args.host, port=args.port, token_lifetime=args.token_lifetime)
    return 0


# -- merge -------------------------------------------------------------------------------------------------------


def _merge_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out_dir", metavar="OUT_DIR", type=Path, help="where the merged report is written")
    parser.add_argument("reports", metavar="READINESS_JSON", nargs="+", type=Path, help="each shard's readiness.json")
    parser.add_argument("--baseline", default=None, metavar="PATH", type=Path,
                        help="an earlier readiness.json: the merged report shows what changed since")


def _merge(args: argparse.Namespace) -> int:
    from readiness.report import merge

    merged = merge.merge_files(args.reports, args.out_dir, args.baseline)
    for name in merged.differing_packets:
        print(f"packet {name} differs between shards (it covers several tenants): not merged; each shard's "
              "report folder keeps its part", file=sys.stderr)
    summary = merged.document["summary"]
    print(f"merged {len(args.reports)} reports: {summary['total']} scenarios over {len(merged.document['tenants'])} "
          f"tenants, gate {merged.document['gate']['status'].upper()}, "
          f"evidence root {merged.document['evidence_root'][:16]}")
    print(f"written: {', '.join(p.as_posix() for p in merged.written if p.parent == args.out_dir)}")
    return 1 if merged.failed else 0


# -- diff --------------------------------------------------------------------------------------------------------


def _diff_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old", metavar="OLD.json", type=Path, help="the earlier readiness.json")
    parser.add_argument("new", metavar="NEW.json", type=Path, help="the later readiness.json")
    parser.add_argument("--out-dir", default=None, metavar="DIR", type=Path,
                        help="where readiness-diff.md and .json are written (default: NEW's folder)")


def _diff(args: argparse.Namespace) -> int:
    from readiness.report import document, history

    changes = history.diff(document.load(args.old), document.load(args.new))
    print(history.render_markdown(changes), end="")
    print(f"written: {', '.join(p.as_posix() for p in history.write(changes, args.out_dir or args.new.parent))}")
    return 0


# -- verify ------------------------------------------------------------------------------------------------------


def _verify_arguments(parser: argparse.ArgumentParser) -> None:
    from readiness.report import verify

    parser.add_argument("report_dir", metavar="REPORT_DIR", type=Path, help="folder holding readiness.json")
    for option in verify.ROOT_OPTIONS:
        parser.add_argument(f"--{option}", default=None, metavar="PATH", type=Path,
                            help=f"where <{option}>/... inputs are now (when the run's inputs lay outside its "
                                 "working directory)")


def _verify(args: argparse.Namespace) -> int:
    from readiness.report import document, verify

    built = document.load(args.report_dir / "readiness.json")
    roots = {option: value for option in verify.ROOT_OPTIONS
             if (value := getattr(args, option.replace("-", "_"))) is not None}
    result = verify.verify(built, roots)
    print("\n".join(result.lines()))
    return 0 if result.ok else 1


# -- pdf ---------------------------------------------------------------------------------------------------------


def _pdf_arguments(parser: argparse.ArgumentParser) -> None:
    from readiness.report import pdf

    parser.add_argument("report_dir", metavar="REPORT_DIR", type=Path, help="folder holding readiness.html")
    parser.add_argument("--output", metavar="FILE", type=Path, default=None,
                        help=f"where to write the PDF (default: REPORT_DIR/{pdf.TARGET})")


def _pdf(args: argparse.Namespace) -> int:
    from readiness.report import pdf

    print(f"wrote {pdf.print_report(args.report_dir, args.output)}")
    return 0


# -- synth -------------------------------------------------------------------------------------------------------


def _synth_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, type=Path,
                        help="folder of tenants to write into (the tenant is <out>/<slug>)")
    parser.add_argument("--jobs", type=int, required=True, help="number of jobs (other exports scale with it)")
    parser.add_argument("--seed", type=int, default=1, help="random seed: the same seed writes the same tenant")
    parser.add_argument("--slug", default="synthetic-tenant", help="tenant folder name")
    parser.add_argument("--page-size", type=int, default=5000, help="records per export page file (default 5000)")


def _synth(args: argparse.Namespace) -> int:
    from readiness.gate import synth

    folder = synth.generate(args.out, args.jobs, args.seed, slug=args.slug, page_size=args.page_size)
    print(f"wrote {folder} (planted set: {folder / synth.MANIFEST})")
    return 0


# -- customer intake: tenant new, import, conform (readiness.intake) ----------------------------------------------


def _gate_command(tenant_dir: Path) -> str:
    """The gate on one tenant, writing its report beside the repository's own (never over it)."""
    return (f"pytest --tenants-dir={tenant_dir.parent.as_posix()} --tenant={tenant_dir.name} "
            f"--report-dir=reports/{tenant_dir.name}")


def _after_exports(tenant_dir: Path) -> str:
    """What follows an import: drafting the Titan Map while it maps nothing yet, else the gate."""
    import yaml

    titan_map = yaml.safe_load((tenant_dir / "titan-map.yaml").read_text(encoding="utf-8")) or {}
    if not any(isinstance(entries, list) and entries for entries in titan_map.values()):
        return f"python -m readiness map draft {tenant_dir.as_posix()} --website SERVICES.yaml"
    return _gate_command(tenant_dir)


def _owner(text: str) -> tuple[str, tuple[str, ...]]:
    role, separator, modules = text.partition("=")
    if not separator:
        raise argparse.ArgumentTypeError(f"{text!r}: write ROLE=module,module (e.g. Controller=accounting)")
    return role.strip(), tuple(m.strip() for m in modules.split(",") if m.strip())


def _tenant_new_arguments(parser: argparse.ArgumentParser) -> None:
    from readiness.intake import scaffold

    parser.add_argument("action", choices=["new"], help="new: write a tenant folder to fill")
    parser.add_argument("slug", metavar="SLUG", help="tenant folder name: lower-case words joined by '-'")
    parser.add_argument("--package", required=True, choices=["launch", "growth"], help="the package bought")
    parser.add_argument("--tenants-dir", required=True, type=Path, metavar="DIR",
                        help="folder of tenants; the tenant is DIR/SLUG")
    parser.add_argument("--tenant-id", type=int, metavar="N",
                        help="the customer's numeric ServiceTitan tenant id (asked for when omitted on a terminal)")
    parser.add_argument("--name", help="display name (default: the slug in title case)")
    parser.add_argument("--trade", help="hvac, plumbing, electrical, multi-trade, ...")
    parser.add_argument("--modules", type=lambda text: tuple(m.strip() for m in text.split(",") if m.strip()),
                        default=(), metavar="M,M", help="purchased ServiceTitan modules (default: those the "
                                                         f"package's exports come from, plus crm; ids: "
                                                         f"{', '.join(scaffold.MODULES)})")
    parser.add_argument("--owner", action="append", type=_owner, default=[], metavar="ROLE=M,M",
                        help="an authorization owner: a job role and the modules it authorizes (repeatable; "
                             "default: Owner authorizes every purchased module)")
    parser.add_argument("--force", action="store_true", help="replace files that already exist")
    _policies_dir_argument(parser)


def _tenant_new(args: argparse.Namespace) -> int:
    from readiness.core.policy import PolicySet
    from readiness.intake import importer, scaffold

    tenant_id = args.tenant_id
    if tenant_id is None:
        if not sys.stdin.isatty():
            raise ReadinessError(None, "give --tenant-id N: the customer's numeric ServiceTitan tenant id")
        answer = input("ServiceTitan tenant id (digits): ").strip()
        if not answer.isdigit():
            raise ReadinessError(None, f"tenant id {answer!r}: digits only, e.g. 900000101")
        tenant_id = int(answer)
    policies = PolicySet.load(args.policies_dir)
    request = scaffold.NewTenant(args.slug, args.package, tenant_id,
                                 args.name or args.slug.replace("-", " ").title(), args.trade, args.modules,
                                 tuple(args.owner))
    kinds = importer.IntakePolicy.from_policies(policies).kinds_by_export()
    written = scaffold.scaffold(args.tenants_dir, request, policies["packages"], kinds, force=args.force)
    folder = args.tenants_dir / args.slug
    print(f"wrote {len(written)} files in {folder.as_posix()}: {', '.join(p.relative_to(folder).as_posix() for p in written)}")
    print(f"what the customer must bring: {(folder / scaffold.CHECKLIST).as_posix()}")
    print(f"next: python -m readiness import {folder.as_posix()} FILE... --reviewed-by-role ROLE")
    return 0


def _import_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("tenant_dir", metavar="TENANT_DIR", type=Path, help="the tenant folder to import into")
    parser.add_argument("files", metavar="FILE", nargs="+", type=Path, help="CSV or XLSX exports from ServiceTitan")
    parser.add_argument("--kind", help="what the files hold: job-types, business-units, zones, campaigns, "
                                       "membership-types, pricebook, jobs, invoices, payments, bookings "
                                       "(default: told by sheet or file name)")
    parser.add_argument("--profile", help="one layout of policies/intake.yaml by name, when columns fit several")
    parser.add_argument("--reviewed-by-role", required=True, metavar="ROLE",
                        help="the customer's role that reviewed the exports (Office Manager, ...), never a name")
    parser.add_argument("--received-on", default=None, metavar="YYYY-MM-DD",
                        type=lambda text: date.fromisoformat(text).isoformat(),
                        help="the date the files were received (default: today)")
    parser.add_argument("--force", action="store_true", help="replace exports that already exist")
    _policies_dir_argument(parser)


def _import(args: argparse.Namespace) -> int:
    from readiness.core.policy import PolicySet
    from readiness.intake import importer

    policy = importer.IntakePolicy.from_policies(PolicySet.load(args.policies_dir))
    if args.kind is not None and args.kind not in policy.kinds:
        raise ReadinessError(None, f"--kind {args.kind}: choose one of {', '.join(policy.kinds)}")
    result = importer.import_files(args.tenant_dir, args.files, policy, reviewed_by_role=args.reviewed_by_role,
                                   received_on=args.received_on, kind=args.kind, profile=args.profile,
                                   force=args.force)
    for done in result.files:
        for sheet in done.sheets:
            dropped = f"; dropped columns: {', '.join(sheet.dropped)}" if sheet.dropped else ""
            where = f" [{sheet.sheet}]" if done.kind == "xlsx" else ""
            print(f"{done.name}{where}: {sheet.rows_out} of {sheet.rows_in} rows -> exports/{sheet.export}{dropped}")
        if done.ignored_sheets:
            print(f"{done.name}: sheets not imported: {', '.join(done.ignored_sheets)}")
    print(f"receipt: {result.receipt.as_posix()}")
    print(f"next: {_after_exports(args.tenant_dir)}  (evidence/CHECKLIST.md lists what is still to bring)")
    return 0


def _conform_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("tenant_dir", metavar="TENANT_DIR", type=Path, help="the tenant folder whose exports/ to check")


def _conform(args: argparse.Namespace) -> int:
    from readiness.intake import conform

    count, problems = conform.check_tenant(args.tenant_dir)
    for problem in problems:
        print(problem)
    files = len({p.file for p in problems})
    print(f"{count} export pages checked against ServiceTitan's published schemas: "
          + (f"{len(problems)} problems in {files} files" if problems else "all conform"))
    if problems:
        print(f"next: fix the files named above (or import them again with --force), then "
              f"python -m readiness conform {args.tenant_dir.as_posix()}")
        return 1
    print(f"next: {_after_exports(args.tenant_dir)}")
    return 0


# -- customer intake: map draft, map confirm, leads import (readiness.mapping.draft, readiness.intake.leads) --------


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-18") from None


def _map_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="map_action", required=True, metavar="ACTION")
    drafting = actions.add_parser(
        "draft", help="draft titan-map.yaml by matching the website's list to the exports by name",
        description="Match each service, service area (ZIP codes), lead source, offer and membership plan of the "
                    "website to the tenant's exported job types, zones, campaigns and membership types by name. "
                    "Every entry is written status: needs-review with its candidates and confidence (0 to 1); "
                    "the gate uses none of them until confirmed.")
    drafting.add_argument("tenant_dir", type=Path, metavar="TENANT_DIR")
    drafting.add_argument("--website", type=Path, required=True, metavar="SERVICES.yaml|csv",
                          help="the website's list: YAML sections services, service_areas, lead_sources, offers, "
                               "memberships with label (website slug, zips optional), or CSV columns "
                               "kind,label[,website,zips]")
    drafting.add_argument("--force", action="store_true", help="replace a titan-map.yaml that already has entries")
    confirming = actions.add_parser(
        "confirm", help="record that a customer role reviewed Titan Map entries (never automatic)",
        description="Mark the named entries confirmed, with the customer's reviewing role and the date, and record "
                    "them in evidence/titan-map-review-<date>.md. SECTION/WEBSITE=ID confirms another record than "
                    "the proposed one.")
    confirming.add_argument("tenant_dir", type=Path, metavar="TENANT_DIR")
    # nargs="+" (not "*"): argparse then still takes the entries when they follow --role.
    confirming.add_argument("entries", nargs="+", metavar="SECTION/WEBSITE[=ID]|all",
                            help="e.g. services/drain-cleaning or lead_sources/google-ads=24001; 'all' confirms "
                                 "every entry still in review (you reviewed all of them with the customer)")
    confirming.add_argument("--role", required=True,
                            help="the customer's role that reviewed them, e.g. 'Office Manager'")
    confirming.add_argument("--on", type=_iso_date, default=None, metavar="YYYY-MM-DD",
                            help="review date (default: today)")


def _map(args: argparse.Namespace) -> int:
    from readiness.mapping import draft

    if args.map_action == "draft":
        result = draft.draft(args.tenant_dir, args.website, force=args.force)
        print(f"wrote {result.path.as_posix()}: {result.entries} entries, {result.proposed} with a proposed match, "
              "all status: needs-review")
        for name in result.without_candidate:
            print(f"  {name}: no close match; pick one at the review ({name}=ID)")
        print("next: review each entry with the customer, then: python -m readiness map confirm "
              f"{args.tenant_dir.as_posix()} --role 'Office Manager' SECTION/WEBSITE ... (or all)")
        return 0
    entries = [e for e in args.entries if e != "all"]
    result = draft.confirm(args.tenant_dir, entries, args.role, all_entries="all" in args.entries, on=args.on)
    print(f"confirmed {len(result.confirmed)} entries in {result.path.as_posix()} (reviewed by {args.role}); "
          f"recorded in {result.record.as_posix()}")
    if result.still_unreviewed:
        print(f"still in review: {', '.join(result.still_unreviewed)}")
        print(f"next: python -m readiness map confirm {args.tenant_dir.as_posix()} --role '{args.role}' "
              f"{' '.join(result.still_unreviewed)}")
    else:
        print(f"next: python -m readiness leads import {args.tenant_dir.as_posix()} FORM-EXPORT.csv")
    return 0


def _leads_arguments(parser: argparse.ArgumentParser) -> None:
    from readiness.intake import leads

    actions = parser.add_subparsers(dest="leads_action", required=True, metavar="ACTION")
    importing = actions.add_parser(
        "import", help="form submissions (CSV or JSON lines) -> leads, consent records and queue items",
        description=leads.__doc__.splitlines()[0])
    importing.add_argument("tenant_dir", type=Path, metavar="TENANT_DIR")
    importing.add_argument("file", type=Path, metavar="FILE", help="the form tool's export (.csv, .jsonl, .ndjson)")
    importing.add_argument("--product-dir", type=Path, default=Path("fixtures/product"),
                           help="the offline product: its config/site.yaml names the consent text the form shows "
                                "(default: fixtures/product)")
    _policies_dir_argument(importing)


def _leads(args: argparse.Namespace) -> int:
    from readiness.intake import leads

    result = leads.import_submissions(args.tenant_dir, args.file, product_dir=args.product_dir,
                                      policies_dir=args.policies_dir)
    queued = ", ".join(f"{n} {state}" for state, n in sorted(result.states.items())) or "none"
    print(f"imported {result.imported} submissions into {(args.tenant_dir / 'leads/submissions.jsonl').as_posix()} "
          f"({result.skipped} already there) with their consent records; queue items: {queued}")
    if result.dropped:
        print(f"dropped (outside the lead envelope, never written): {', '.join(result.dropped)}")
    for log in result.logs:
        print(f"listed for the office to enter by hand: {log.as_posix()}")
    print(f"next: {_gate_command(args.tenant_dir)}")
    return 0


# -- registration ------------------------------------------------------------------------------------------------

COMMANDS: list[Command] = [
    Command("scan-credentials", "scan folders or files for credentials (the gate's credential boundary)",
            _scan_credentials_arguments, _scan_credentials,
            description="Scan folders or files with the gate's credential detectors and allow-list. Prints one line "
                        "per finding (file:line, detector, masked value); exit 1 when something was found or could "
                        "not be read, 0 when clean."),
    Command("queue", "print a tenant's sync queue: items, states, counts and what needs an operator",
            _queue_arguments, _queue, description="Print a tenant's offline sync queue without running the gate."),
    Command("simulator", "serve a fixture tenant as a local ServiceTitan simulator",
            _simulator_arguments, _simulator,
            description="Serve a fixture tenant on 127.0.0.1 through ServiceTitan's paths and shapes. Results "
                        "against it are dry runs, never evidence."),
    Command("merge", "merge shard reports into one readiness.json, .md and .html", _merge_arguments, _merge,
            documented_by="readiness.report.merge"),
    Command("diff", "what changed between two readiness.json reports", _diff_arguments, _diff,
            documented_by="readiness.report.history"),
    Command("verify", "re-hash a report's inputs and list what changed since it was made", _verify_arguments, _verify,
            documented_by="readiness.report.verify"),
    Command("pdf", "print the evidence report (readiness.html) to readiness.pdf with headless Chromium",
            _pdf_arguments, _pdf, documented_by="readiness.report.pdf"),
    Command("synth", "write a synthetic tenant with a known planted set of drift and unmatched leads",
            _synth_arguments, _synth, documented_by="readiness.gate.synth"),
    Command("tenant", "tenant new SLUG: write a new tenant folder and the checklist of what the customer brings",
            _tenant_new_arguments, _tenant_new, documented_by="readiness.intake.scaffold"),
    Command("import", "import a customer's CSV or XLSX exports into a tenant's exports/, in ServiceTitan's shapes",
            _import_arguments, _import, documented_by="readiness.intake.importer"),
    Command("conform", "check a tenant's exports/ against ServiceTitan's published schemas",
            _conform_arguments, _conform, documented_by="readiness.intake.conform"),
    Command("map", "map draft | map confirm: draft the Titan Map from the website's list; confirm reviewed entries",
            _map_arguments, _map, documented_by="readiness.mapping.draft"),
    Command("leads", "leads import: the website's form submissions -> leads, consent records and queue items",
            _leads_arguments, _leads, documented_by="readiness.intake.leads"),
]


def parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    """The command line for ``argv``: every command is listed, and only the one ``argv`` names (its first word;
    the top level has no option but --help) gets its description and arguments, so only its modules load."""
    chosen = next((word for word in argv if not word.startswith("-")), None)
    top = argparse.ArgumentParser(prog="python -m readiness", description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        sub = commands.add_parser(command.name, help=command.help)
        if command.name == chosen:
            sub.description = command.describe()
            command.add_arguments(sub)
        sub.set_defaults(run=command.run)
    return top


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parser(argv).parse_args(argv)
    try:
        return args.run(args)
    except ReadinessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
