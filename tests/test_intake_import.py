"""Customer intake: scaffold, import (round trip and bad files), receipts and conformance, through the library and CLI."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import openpyxl
import pytest

from readiness import cli
from readiness.core.exportfeed import page_files
from readiness.core.policy import PolicySet
from readiness.intake import conform, importer, layouts
from readiness.intake.sources import IntakeError

ROOT = Path(__file__).resolve().parent.parent
DEMO_TENANTS = ("comfort-launch", "riverside-growth", "summit-multi-bu", "lakeside-connected")
# Fields the round trip does not bring back, each with its reason. Personal data: a column holding a customer's or
# office's contact details is refused by name (policies/intake.yaml personal_data), so the documented layouts
# leave it out. Envelope markers: ServiceTitan sets them per call (page size, totals, opaque positions).
NOT_IMPORTED = {
    "settings/business-units": {"address", "phoneNumber", "email"},
    "crm/export/bookings": {"address"},
    "accounting/export/invoices": {"customerAddress", "locationAddress"},
}
API_ONLY_ENVELOPE = {"page", "pageSize", "totalCount", "continueFrom"}


@pytest.fixture(scope="module")
def policy() -> importer.IntakePolicy:
    return importer.IntakePolicy.from_policies(PolicySet.load(ROOT / "policies"))


def records(exports: Path, export: str) -> list[dict]:
    return [record for page in page_files(exports, export) for record in json.loads(page.read_text())["data"]]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def new_tenant(capsys, tenants: Path, slug: str = "acme-plumbing", package: str = "growth") -> Path:
    code, out, err = run_cli(capsys, "tenant", "new", slug, "--package", package, f"--tenants-dir={tenants}",
                             "--tenant-id", "123456789", "--trade", "plumbing")
    assert code == 0, err
    return tenants / slug


# -- tenant new ----------------------------------------------------------------------------------------------------


def test_scaffold_writes_the_listed_files_and_a_checklist_from_the_package_policy(tmp_path, capsys):
    folder = new_tenant(capsys, tmp_path, package="growth")
    for name in ("tenant.yaml", "titan-map.yaml", "leads/submissions.jsonl", "leads/consent.jsonl",
                 "queue/sync-queue.jsonl", "evidence/CHECKLIST.md"):
        assert (folder / name).is_file(), name
    checklist = (folder / "evidence/CHECKLIST.md").read_text()
    packages = PolicySet.load(ROOT / "policies")["packages"]["packages"]["growth"]
    for export in packages["exports"]:
        assert f"`exports/{export['path']}.json`" in checklist
    for item in packages["evidence"]:
        assert f"`evidence/{item['pattern']}`" in checklist
    assert "--kind jobs" in checklist


def test_scaffold_options_and_refusals(tmp_path, capsys):
    code, _, _ = run_cli(capsys, "tenant", "new", "acme", "--package", "launch", f"--tenants-dir={tmp_path}",
                         "--tenant-id", "7", "--modules", "crm,jpm", "--owner", "Controller=jpm",
                         "--owner", "Owner=crm")
    assert code == 0
    profile = (tmp_path / "acme/tenant.yaml").read_text()
    assert "- role: Controller" in profile and "purchased_modules:\n- crm\n- jpm" in profile
    code, out, err = run_cli(capsys, "tenant", "new", "acme", "--package", "launch", f"--tenants-dir={tmp_path}",
                             "--tenant-id", "7")
    assert code == 2 and "already exists" in err and "--force" in err
    code, _, err = run_cli(capsys, "tenant", "new", "Acme Co", "--package", "launch", f"--tenants-dir={tmp_path}",
                           "--tenant-id", "7")
    assert code == 2 and "lower-case words" in err
    code, _, err = run_cli(capsys, "tenant", "new", "acme2", "--package", "launch", f"--tenants-dir={tmp_path}",
                           "--tenant-id", "7", "--modules", "crm,payroll")
    assert code == 2 and "'payroll' is not a ServiceTitan module id" in err
    assert not (tmp_path / "acme2").exists()


@pytest.mark.slow
@pytest.mark.parametrize("package", ["launch", "growth"])
def test_the_gate_on_a_new_tenant_fails_only_for_missing_evidence_each_naming_the_file(workspace, capsys, package):
    new_tenant(capsys, workspace.tenants, "brand-new", package)
    result = workspace.run(tenants=["brand-new"])
    assert result.exit_code != 0, result.output[-2000:]
    failed = result.failed()
    assert failed, result.output[-2000:]
    missing = {"package-export-missing", "package-evidence-missing"}
    subjects = set()
    for row in failed:
        assert row["findings"], row
        for finding in row["findings"]:
            assert finding["kind"] in missing, finding
            subjects.add(finding["subject"].split(" ", 1)[1])
    checklist = (workspace.tenants / "brand-new/evidence/CHECKLIST.md").read_text()
    assert all(f"`{subject}`" in checklist for subject in subjects), subjects


# -- round trip ----------------------------------------------------------------------------------------------------


def write_documented_layouts(tenant: Path, out: Path, form: str, policy) -> list[Path]:
    """The tenant's exports as a customer would send them: one CSV per export (varied delimiters and BOM), or
    one XLSX workbook with a sheet per export."""
    by_export = {p.export: p for p in policy.profiles}
    exports = sorted({export for _, export in conform.recorded_bodies(tenant)})
    out.mkdir(parents=True)
    if form == "xlsx":
        book = out / f"{tenant.name}.xlsx"
        layouts.write_xlsx(book, [(by_export[e].sheets[0], by_export[e], records(tenant / "exports", e))
                                  for e in exports])
        return [book]
    files = []
    for number, export in enumerate(exports):
        profile = by_export[export]
        path = out / f"{profile.sheets[0].lower().replace(' ', '-')}.csv"
        layouts.write_csv(path, profile, records(tenant / "exports", export), delimiter=",;\t|"[number % 4],
                          bom=number % 2 == 0)
        files.append(path)
    return files


@pytest.mark.parametrize("form", ["csv", "xlsx"])
@pytest.mark.parametrize("slug", DEMO_TENANTS)
def test_round_trip_of_the_demo_tenants_exports(tmp_path, capsys, policy, slug, form):
    source = ROOT / "fixtures/tenants" / slug
    files = write_documented_layouts(source, tmp_path / "files", form, policy)
    target = new_tenant(capsys, tmp_path / "tenants", "round-trip")
    code, out, err = run_cli(capsys, "import", target, *files, "--reviewed-by-role", "Office Manager",
                             "--received-on", "2026-11-20")
    assert code == 0, err
    exports = sorted({export for _, export in conform.recorded_bodies(source)})
    assert sorted({export for _, export in conform.recorded_bodies(target)}) == exports
    for export in exports:
        left_out = NOT_IMPORTED.get(export, set())
        expected = [{k: v for k, v in r.items() if k not in left_out} for r in records(source / "exports", export)]
        assert records(target / "exports", export) == expected, export
        for page in page_files(target / "exports", export):
            body = json.loads(page.read_text())
            assert set(body) - {"data", "hasMore"} <= API_ONLY_ENVELOPE
    assert conform.check_tenant(target)[1] == []
    receipt = (target / "evidence/export-receipt-2026-11-20.md").read_text()
    assert "Office Manager" in receipt and all(f"`{f.name}`" in receipt for f in files)


# -- bad files -------------------------------------------------------------------------------------------------------


JOB_TYPES_CSV = "Id,Name,Business Unit Ids,Priority,Duration,Class,Summary,No Charge,Invoice Signatures Required," \
                "Modified On,Created On,Active\n"
ROW = "{id},Drain Cleaning,21001,Normal,5400,Service,Clear a drain.,FALSE,FALSE,2026-09-22T18:10:00Z," \
      "2024-03-05T16:00:00Z,TRUE\n"


def xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def job_types_rows() -> list[list]:
    header = JOB_TYPES_CSV.strip().split(",")
    return [header, ROW.format(id=22001).strip().split(","), ROW.format(id=22002).strip().split(",")]


def bad_files(folder: Path) -> dict[str, tuple[Path, str, dict]]:
    """name -> (file, words the error says, where it points: sheet/row/column)."""
    folder.mkdir()
    (folder / "missing-name.csv").write_text(JOB_TYPES_CSV.replace("Id,Name,", "Id,") + "22001,21001\n")
    (folder / "duplicate.csv").write_text(JOB_TYPES_CSV + ROW.format(id=22001) + ROW.format(id=22001))
    (folder / "not-numeric.csv").write_text(JOB_TYPES_CSV + ROW.format(id=22001) + ROW.format(id="22O02"))
    (folder / "phone.csv").write_text(JOB_TYPES_CSV.strip() + ",Customer Phone\n" + ROW.format(id=1).strip()
                                      + ",555-0100\n")
    (folder / "empty.csv").write_bytes(b"")
    (folder / "picture.csv").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(range(256)))
    with zipfile.ZipFile(folder / "archive.xlsx", "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    formula = job_types_rows()
    formula[2][4] = "=A2*2"
    return {
        "wrong sheet": (xlsx(folder / "wrong-sheet.xlsx", {"Sheet1": job_types_rows(), "Notes": [["x"]]}),
                        "no sheet this import takes", {"sheet": "Sheet1"}),
        "missing required column": (folder / "missing-name.csv", "missing required column 'Name'", {"row": 1}),
        "duplicate id": (folder / "duplicate.csv", "duplicate id 22001: row 2 has it too", {"row": 3, "column": "A"}),
        "non-numeric id": (folder / "not-numeric.csv", "not a whole number: '22O02'", {"row": 3, "column": "A"}),
        "formula cell": (xlsx(folder / "formula.xlsx", {"Job Types": formula}), "a formula (=A2*2)",
                         {"sheet": "Job Types", "row": 3, "column": "E"}),
        "personal-data column": (folder / "phone.csv", "holds phone numbers", {"row": 1, "column": "M"}),
        "empty file": (folder / "empty.csv", "the file is empty", {}),
        "not a spreadsheet": (folder / "picture.csv", "not a spreadsheet", {}),
        "zip that is not a workbook": (folder / "archive.xlsx", "not a spreadsheet", {}),
    }


@pytest.mark.parametrize("case", ["wrong sheet", "missing required column", "duplicate id", "non-numeric id",
                                  "formula cell", "personal-data column", "empty file", "not a spreadsheet",
                                  "zip that is not a workbook"])
def test_a_bad_file_is_one_clear_error_and_imports_nothing(tmp_path, capsys, policy, case):
    target = new_tenant(capsys, tmp_path / "tenants")
    path, words, where = bad_files(tmp_path / "files")[case]
    with pytest.raises(IntakeError) as raised:
        importer.import_files(target, [path], policy, reviewed_by_role="Office Manager", kind="job-types")
    error = raised.value
    assert words in str(error) and error.file == path.name
    assert {key: getattr(error, key) for key in where} == where
    # Through the command line: one line on stderr, no traceback, and nothing written.
    code, out, err = run_cli(capsys, "import", target, path, "--kind", "job-types",
                             "--reviewed-by-role", "Office Manager")
    assert code == 2 and err.count("\n") == 1 and err.startswith(f"error: {path.name}") and words in err
    assert "Traceback" not in out + err
    assert not any((target / "exports").iterdir())
    assert not list((target / "evidence").glob("export-receipt-*"))
    assert sorted(p.name for p in target.iterdir()) == ["evidence", "exports", "leads", "queue", "tenant.yaml",
                                                         "titan-map.yaml"]


def test_a_file_whose_columns_match_no_layout_says_so_in_one_line(tmp_path, capsys):
    target = new_tenant(capsys, tmp_path / "tenants")
    notes = tmp_path / "notes.txt"
    notes.write_text("hostname\nbuild-box-01\n")
    code, out, err = run_cli(capsys, "import", target, notes, "--reviewed-by-role", "Office Manager")
    assert code == 2 and err.count("\n") == 1 and "no column matches an import layout" in err, err
    assert "Traceback" not in out + err and not any((target / "exports").iterdir())


@pytest.mark.parametrize(("heading", "words"), [
    ("Customer E-mail", "holds e-mail addresses"), ("Service Address", "holds postal addresses"),
    ("Mobile", "holds phone numbers"), ("Cardholder Name", "holds payment details"),
    ("Card Number", "Payment card data is never needed"), ("Routing Number", "Bank account details"),
    ("Notes", "Free-text job notes"),
])
def test_columns_refused_by_name(tmp_path, capsys, policy, heading, words):
    target = new_tenant(capsys, tmp_path / "tenants")
    report = tmp_path / "job-types.csv"
    report.write_text(JOB_TYPES_CSV.strip() + f",{heading}\n" + ROW.format(id=1).strip() + ",x\n")
    with pytest.raises(IntakeError, match=words) as raised:
        importer.import_files(target, [report], policy, reviewed_by_role="Owner")
    assert raised.value.column == "M" and raised.value.heading == heading


def test_one_bad_file_among_several_imports_none_of_them(tmp_path, capsys):
    target = new_tenant(capsys, tmp_path / "tenants")
    zones = tmp_path / "zones.csv"
    zones.write_text("Id,Name,Active,Created By,Created On,Modified On,Service Days Enabled\n"
                     "3001,North,TRUE,1,2025-01-01T00:00:00Z,2025-01-01T00:00:00Z,FALSE\n")
    job_types = tmp_path / "job-types.csv"
    job_types.write_text(JOB_TYPES_CSV + ROW.format(id=22001) + ROW.format(id=22001))
    code, out, err = run_cli(capsys, "import", target, zones, job_types, "--reviewed-by-role", "Owner")
    assert code == 2 and "job-types.csv row 3 column A (Id): duplicate id 22001" in err
    assert not any((target / "exports").iterdir()) and not list((target / "evidence").glob("export-receipt-*"))


# -- what a customer's files look like -------------------------------------------------------------------------------


def test_delimiters_bom_excel_serials_us_dates_money_and_dropped_columns(tmp_path, capsys, policy):
    target = new_tenant(capsys, tmp_path / "tenants")
    jobs = tmp_path / "Jobs Report.csv"
    heading = ("Job #;Job Id;Customer Id;Location Id;Status;Completed On;Business Unit Id;Job Type Id;Priority;"
               "Campaign Id;Appointment Count;First Appointment Id;Last Appointment Id;No Charge;"
               "Notifications Enabled;Created Date;Created By Id;Modified On;Customer PO;Invoice Id;Total;Active;"
               "Technician Notes Count")
    rows = ["28001;28001;1;2;Completed;46330.5;21001;22001;Normal;24001;1;3;3;no;yes;11/02/2026 3:53 PM;9;"
            "2026-11-04T17:35:00Z;;29001;$1,249.50;Active;4"]
    jobs.write_text(heading + "\n" + "\n".join(rows) + "\n", encoding="utf-8-sig")
    invoices = tmp_path / "invoices.csv"
    invoices.write_text("Invoice Id\tCreated On\tSent Status\tReview Status\tActive\tTotal\n"
                        "29001\t2026-11-02T15:53:05Z\tSent\tReviewed\tTRUE\t249\n")
    result = importer.import_files(target, [jobs, invoices], policy, reviewed_by_role="Controller",
                                   received_on="2026-12-01")
    job = records(target / "exports", "jpm/export/jobs")[0]
    assert job["completedOn"] == "2026-11-04T12:00:00Z"  # Excel serial 46330.5
    assert job["createdOn"] == "2026-11-02T15:53:00Z"
    assert job["total"] == 1249.5 and job["noCharge"] is False and job["customerPo"] == ""
    assert records(target / "exports", "accounting/export/invoices")[0]["total"] == "249.00"
    assert result.files[0].sheets[0].dropped == ["Technician Notes Count"]
    receipt = result.receipt.read_text()
    assert result.receipt.name == "export-receipt-2026-12-01.md"
    assert "`Technician Notes Count`" in receipt and "Controller" in receipt
    assert "Jobs Report.csv" in receipt and hashlib.sha256(jobs.read_bytes()).hexdigest() in receipt


def test_an_import_never_overwrites_without_force_and_a_second_receipt_is_numbered(tmp_path, capsys, policy):
    target = new_tenant(capsys, tmp_path / "tenants")
    first = tmp_path / "job-types.csv"
    first.write_text(JOB_TYPES_CSV + ROW.format(id=1))
    importer.import_files(target, [first], policy, reviewed_by_role="Owner", received_on="2026-12-01")
    second = tmp_path / "job-types-2.csv"
    second.write_text(JOB_TYPES_CSV + ROW.format(id=2))
    code, _, err = run_cli(capsys, "import", target, second, "--kind", "job-types", "--reviewed-by-role", "Owner",
                           "--received-on", "2026-12-01")
    assert code == 2 and "already exists" in err and "--force" in err
    code, out, _ = run_cli(capsys, "import", target, second, "--kind", "job-types", "--reviewed-by-role", "Owner",
                           "--received-on", "2026-12-01", "--force")
    assert code == 0 and f"next: python -m readiness map draft {target.as_posix()} --website" in out  # maps nothing yet
    assert [r["id"] for r in records(target / "exports", "jpm/job-types")] == [2]
    assert sorted(p.name for p in (target / "evidence").glob("export-receipt-*")) == [
        "export-receipt-2026-12-01-2.md", "export-receipt-2026-12-01.md"]


def test_an_operator_adds_a_layout_as_policy_data(tmp_path, capsys):
    policies = tmp_path / "policies"
    policies.mkdir()
    for file in (ROOT / "policies").glob("*.yaml"):
        (policies / file.name).write_text(file.read_text())
    with (policies / "intake.yaml").open("a") as handle:
        handle.write("""
  - name: zones-by-branch-report
    kind: zones
    export: dispatch/zones
    sheets: [Branch Zones]
    fields:
      id: [Zone No]
      active: [Enabled]
      name: [Branch Zone]
      zips: [Postal Codes]
      createdBy: [Creator]
      createdOn: [Made]
      modifiedOn: [Changed]
      serviceDaysEnabled: [Service Days]
    defaults: {cities: [], businessUnits: [], territoryNumbers: [], locnNumbers: [], serviceDays: [], technicians: []}
""")
    policy = importer.IntakePolicy.from_policies(PolicySet.load(policies))
    target = new_tenant(capsys, tmp_path / "tenants")
    report = tmp_path / "branch-zones.csv"
    report.write_text("CHANGED,branch zone,Postal Codes,zone no,Enabled,Creator,Made,Service Days\n"
                      "2026-01-01T00:00:00Z,North,\"80011, 80012\",3001,yes,1,2025-01-01T00:00:00Z,no\n")
    importer.import_files(target, [report], policy, reviewed_by_role="Owner")
    zone = records(target / "exports", "dispatch/zones")[0]
    assert zone["name"] == "North" and zone["zips"] == ["80011", "80012"] and zone["id"] == 3001


def test_a_profile_naming_a_field_servicetitan_does_not_publish_is_a_policy_error(tmp_path):
    policies = tmp_path / "policies"
    policies.mkdir()
    for file in (ROOT / "policies").glob("*.yaml"):
        text = file.read_text()
        (policies / file.name).write_text(text.replace("      soldThreshold: [Sold Threshold]",
                                                       "      soldTreshold: [Sold Threshold]"))
    with pytest.raises(Exception) as raised:
        importer.IntakePolicy.from_policies(PolicySet.load(policies))
    assert "intake.yaml:" in str(raised.value) and "no field 'soldTreshold'" in str(raised.value)


# -- conform ---------------------------------------------------------------------------------------------------------


def test_conform_passes_the_demo_tenants_and_names_file_and_json_path_of_a_planted_departure(tmp_path, capsys):
    for slug in DEMO_TENANTS:
        code, out, _ = run_cli(capsys, "conform", ROOT / "fixtures/tenants" / slug)
        assert code == 0 and "all conform" in out and f"next: pytest --tenants-dir={(ROOT / 'fixtures/tenants').as_posix()} --tenant={slug} --report-dir=reports/{slug}" in out
    tenant = tmp_path / "riverside-growth"
    import shutil

    shutil.copytree(ROOT / "fixtures/tenants/riverside-growth", tenant)
    page = tenant / "exports/jpm/export/jobs/0002.json"
    body = json.loads(page.read_text())
    body["data"][1]["jobTypeId"] = "22001"
    page.write_text(json.dumps(body))
    code, out, _ = run_cli(capsys, "conform", tenant)
    assert code == 1
    assert "jpm/export/jobs/0002.json: data[1].jobTypeId: '22001' is not of type 'integer'" in out


@pytest.mark.slow
def test_the_receipt_is_hashed_in_the_evidence_manifest_and_the_import_satisfies_the_package(workspace, capsys, policy):
    target = new_tenant(capsys, workspace.tenants, "imported", "launch")
    job_types = workspace.base / "job-types.csv"
    job_types.write_text(JOB_TYPES_CSV + ROW.format(id=22001))
    result = importer.import_files(target, [job_types], policy, reviewed_by_role="Office Manager",
                                   received_on="2026-12-01")
    gate = workspace.run(tenants=["imported"])
    manifest = {entry["path"]: entry["sha256"] for entry in gate.report["evidence"]}
    assert manifest["<tenants-dir>/imported/evidence/export-receipt-2026-12-01.md"] == hashlib.sha256(result.receipt.read_bytes()).hexdigest()
    subjects = {f["subject"] for row in gate.failed() for f in row["findings"]}
    assert "imported exports/jpm/job-types.json" not in subjects
    assert "imported exports/settings/business-units.json" in subjects
    assert not any("export-receipt" in subject for subject in subjects)


def test_a_pricebook_workbook_imports_its_known_sheets_and_lists_the_rest(tmp_path, capsys, policy):
    target = new_tenant(capsys, tmp_path / "tenants")
    profiles = {p.name: p for p in policy.profiles}
    services = records(ROOT / "fixtures/tenants/riverside-growth/exports", "pricebook/services")
    categories = [{"id": 25901, "name": "Drains", "active": True, "description": None, "parentId": None,
                   "position": 1, "categoryType": "Services", "hideInMobile": False}]
    book = tmp_path / "Pricebook Template.xlsx"
    layouts.write_xlsx(book, [("Instructions", profiles["pricebook-categories"], []),
                              ("SERVICES", profiles["pricebook-services"], services),
                              ("Categories", profiles["pricebook-categories"], categories)])
    code, out, err = run_cli(capsys, "import", target, book, "--kind", "pricebook", "--reviewed-by-role", "Owner")
    assert code == 0, err
    assert "Pricebook Template.xlsx: sheets not imported: Instructions" in out
    assert records(target / "exports", "pricebook/services") == services
    assert records(target / "exports", "pricebook/categories") == categories
    receipt = next((target / "evidence").glob("export-receipt-*.md")).read_text()
    assert "| `Pricebook Template.xlsx` | SERVICES |" in receipt and "sheets not imported: Instructions" in receipt


def test_a_csv_whose_columns_fit_several_layouts_asks_for_a_profile(tmp_path, capsys, policy):
    target = new_tenant(capsys, tmp_path / "tenants")
    report = tmp_path / "export.csv"
    report.write_text("Id,Code,Name,Description,Active\n1,A,B,C,TRUE\n")
    code, _, err = run_cli(capsys, "import", target, report, "--kind", "pricebook", "--reviewed-by-role", "Owner")
    assert code == 2 and "--profile" in err and "pricebook-equipment" in err


def test_a_growth_tenant_without_outcome_exports_yet_gets_missing_export_findings(tmp_path, capsys):
    from readiness.core.tenants import FixtureTenant
    from readiness.mapping import attribution

    folder = new_tenant(capsys, tmp_path, "fresh-growth", "growth")
    checked = attribution.check(FixtureTenant(folder), PolicySet.load(ROOT / "policies"))
    assert checked.result is None and checked.blocking == checked.findings
    assert {(f.kind, f.subject) for f in checked.findings} == {
        ("package-export-missing", f"fresh-growth exports/{path}.json")
        for path in ("crm/export/bookings", "jpm/export/jobs", "accounting/export/invoices",
                     "accounting/export/payments")}


CELLS = ["", " ", "\t", None, "0", "42", "007", " 42", "-3", "4.0", "4.5", "²", "١٢", "1e3", "9" * 25, "TRUE",
         "false", "Yes", "no", "N", "X", "active", "Inactive", "maybe", "249.00", "$1,249.5", "NaN", "Infinity",
         "2026-11-04T17:15:00Z", "2026-13-45T00:00:00Z", "11/04/2026 5:15 PM", "45234.5", "2026-11-04",
         "Demo job 1.", '{"jobId": 7}', "1; 2|3", 12, 4.0, True, 45234.25]


def _reference(leaf, value):
    """What a cell of ``leaf`` becomes by the converters' definitions (fill_empty for an empty cell)."""
    from readiness.intake import profiles
    if value is None or value == "" or (type(value) is str and value.isspace()):
        return profiles.fill_empty(leaf)
    return leaf.convert(value)


def test_each_columns_converter_answers_every_cell_as_the_field_converter_does(policy):
    """The per-column converters (chosen once per sheet, common cells answered inline) agree with the field
    converters and fill_empty on every kind of cell, errors included, for every mapped field of every profile."""
    from readiness.intake import profiles
    checked = 0
    for profile in policy.profiles:
        for leaf in profile.leaves:
            fast = profiles.cell_converter(leaf)
            for value in CELLS:
                try:
                    expected = ("ok", _reference(leaf, value))
                except profiles.CellError as exc:
                    expected = ("error", str(exc))
                try:
                    got = ("ok", fast(value))
                except profiles.CellError as exc:
                    got = ("error", str(exc))
                assert got == expected and type(got[1]) is type(expected[1]), (profile.name, leaf.field, value)
                checked += 1
    assert checked > 5000


def test_the_duplicate_id_index_names_the_first_row_of_an_id_across_table_growth():
    """Ids are kept in 8-byte arrays (flat memory); a repeat, however far back, names the row that had it first,
    and ids no 64-bit array holds (left to the schema's int64 check) are still compared."""
    index = importer._IdIndex()
    ids = [(n * 7919) % 100_003 - 50_000 for n in range(40_000)]  # distinct, negative and positive, past growth
    assert all(index.add(ident, row) is None for row, ident in enumerate(ids, start=2))
    assert index.add(ids[0], 99_999) == 2 and index.add(ids[-1], 99_999) == len(ids) + 1
    assert index.add(1 << 70, 5) is None and index.add(1 << 70, 9) == 5
