"""Agency scale: parallel and sharded runs, report merge, readiness over time, reproducible evidence, progress."""

from __future__ import annotations

import gc
import json
import re
import shutil
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pluggy
import pytest

from plugins import gc_tuning, idle_hypothesis
from readiness.core import evidence, features
from readiness.report import history, merge, document
from readiness.__main__ import main
from readiness.gate.progress import TenantProgress
from readiness.core.errors import OptionError, ReadinessError
from readiness.gate.run import GateRun, Options
from readiness.gate.shard import Shard, shard_of
from readiness.report.verify import verify

# The harness classes of tests/conftest.py (already imported by pytest; "conftest" names the root one too).
_HARNESS = next(m for m in list(sys.modules.values())
                if getattr(m, "__file__", None) == str(Path(__file__).with_name("conftest.py")))
GateResult, Workspace = _HARNESS.GateResult, _HARNESS.Workspace

EPOCH = "1795953600"  # 2026-11-29T12:00Z: after the fixtures were captured, inside their retention windows
REPORT_FILES = ("readiness.json", "readiness.md", "readiness.html")
FORMAT_FILES = {"--sarif": "readiness.sarif", "--oscal": "oscal.json", "--cucumber": "cucumber.json"}
TENANT_SCENARIO = "A tenant's documents claim no approval and no sandbox evidence"
PLANTED_FILE = "evidence/titan-map-review-2026-11-18.md"
SLUGS = tuple(sorted(p.parent.name for p in (Path(__file__).parents[1] / "fixtures/tenants").glob("*/tenant.yaml")))


def gate(ws: Workspace, name: str, *args: str) -> GateResult:
    """A gate run over the workspace writing to its own report folder, reproducibly dated."""
    report_dir = ws.base / name
    result = ws.run(*args, f"--report-dir={report_dir}")
    return GateResult(result.exit_code, result.output, report_dir)


def report_bytes(result: GateResult, names=REPORT_FILES) -> dict[str, bytes]:
    return {name: (result.report_dir / name).read_bytes() for name in names}


def with_formats(ws: Workspace, name: str) -> list[str]:
    """The options that make a run also write SARIF, OSCAL and cucumber JSON into its report folder."""
    return [f"{option}={ws.base / name / file}" for option, file in FORMAT_FILES.items()]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One workspace and its unsharded serial run, shared by the tests below (each gate run costs seconds)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
        ws = Workspace(tmp_path_factory.mktemp("scale"))
        serial = gate(ws, "serial", "-vv", *with_formats(ws, "serial"))
        assert serial.exit_code == 0, serial.output[-3000:]
        yield ws, serial, patch


# --- parallel runs --------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_two_workers_write_the_serial_report_and_formats_byte_for_byte(runs):
    ws, serial, _ = runs
    parallel = gate(ws, "parallel", "-n", "2", "-vv", *with_formats(ws, "parallel"))
    assert parallel.exit_code == 0, parallel.output[-3000:]
    every_file = (*REPORT_FILES, *FORMAT_FILES.values())
    assert report_bytes(parallel, every_file) == report_bytes(serial, every_file)
    assert json.loads(report_bytes(parallel, ["cucumber.json"])["cucumber.json"])  # pytest-bdd's own writes [] under xdist
    assert "scheduling tests via TenantGroupScheduling" in parallel.output  # the default under -n
    for slug in SLUGS:  # each tenant's scenarios ran on one worker
        workers = set(re.findall(r"\[(gw\d+)\] \[ *\d+%%\] \w+ test_gate\.py::\w+\[%s\]" % re.escape(slug), parallel.output))
        assert len(workers) == 1, (slug, workers)
    line = r"tenant {slug}: \d+ scenarios \([^)]+\), \d+ findings, \d+\.\d\ds \[\d+/%d tenants\]" % len(SLUGS)
    for output in (serial.output, parallel.output):  # progress lines serially and under xdist
        for slug in SLUGS:
            assert re.search(line.format(slug=slug), output), output[-2000:]


@pytest.mark.slow
def test_a_serial_run_judges_one_tenant_after_another_and_says_so_as_each_finishes(runs):
    _, serial, _ = runs
    events = re.findall(r"test_gate\.py::\w+\[([\w-]+)\] PASSED|^tenant ([\w-]+): ", serial.output, re.M)
    sequence = [(slug, "scenario") if slug else (done, "line") for slug, done in events]
    groups = [slug for index, (slug, event) in enumerate(sequence)
              if event == "scenario" and (index == 0 or sequence[index - 1] != (slug, "scenario"))]
    assert groups == list(SLUGS)  # each tenant's scenarios in one stretch, tenants in their order
    lines = [index for index, (_, event) in enumerate(sequence) if event == "line"]
    assert [sequence[i - 1][0] for i in lines] == [sequence[i][0] for i in lines] == list(SLUGS)  # right after it


@pytest.mark.slow
def test_without_the_speed_plugins_the_gate_writes_the_same_report(runs):
    """The memoised step lookup, the garbage-collector tuning and the idle Hypothesis plugin change no result."""
    ws, serial, _ = runs
    plain = gate(ws, "plain", "-p", "no:plugins.step_index", "-p", "no:plugins.gc_tuning",
                 "-p", "no:plugins.idle_hypothesis")
    assert plain.exit_code == 0, plain.output[-3000:]
    assert report_bytes(plain) == report_bytes(serial)


class _Config:
    def __init__(self, manager=None):
        self.pluginmanager, self.cleanups = manager, []

    def add_cleanup(self, function):
        self.cleanups.append(function)


def test_gc_tuning_raises_the_young_threshold_for_the_run_and_freezes_what_lives(monkeypatch):
    before, frozen = gc.get_threshold(), []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append("freeze"))
    config = _Config()
    gc_tuning.pytest_configure(config)
    try:
        assert gc.get_threshold() == (gc_tuning.YOUNG_THRESHOLD, *before[1:])
        gc_tuning.pytest_collection_finish(None)
        finish = gc_tuning.pytest_sessionfinish(None)
        next(finish)  # frozen before any other plugin's end-of-session work
        assert frozen == ["freeze", "freeze"]
    finally:
        for cleanup in config.cleanups:
            cleanup()
    assert gc.get_threshold() == before


@pytest.mark.parametrize("imported, controller, kept", [(False, False, False), (True, False, True), (False, True, True)])
def test_hypothesis_plugin_is_set_aside_only_where_no_property_test_ran(monkeypatch, imported, controller, kept):
    manager = pluggy.PluginManager("pytest")
    manager.register(object(), name=idle_hypothesis.PLUGIN)
    if controller:
        manager.register(object(), name="dsession")
    if imported:
        monkeypatch.setitem(sys.modules, "hypothesis", sys.modules.get("hypothesis") or ModuleType("hypothesis"))
    else:
        monkeypatch.delitem(sys.modules, "hypothesis", raising=False)
    idle_hypothesis.pytest_sessionfinish(SimpleNamespace(config=_Config(manager)))
    assert manager.has_plugin(idle_hypothesis.PLUGIN) is kept


class _FakeGate:
    """What TenantProgress reads of a GateRun."""

    def __init__(self):
        self.scenarios = [features.ScenarioSpec("f", "s", 1, ("per-tenant",)),
                          features.ScenarioSpec("f", "t", 2, ("per-tenant",)), features.ScenarioSpec("f", "p", 3, ())]
        self.tenants = ["a", "b"]
        self.records = {}


def test_progress_line_when_a_tenants_last_scenario_finishes_and_partial_ones_at_the_end():
    gate_run = _FakeGate()
    progress = TenantProgress(gate_run)
    assert progress.expected == 2
    for node, tenant, status, findings in (("1", "a", "passed", []), ("2", "a", "failed", [{}]),
                                           ("3", "b", "passed", []), ("4", None, "passed", [])):
        gate_run.records[node] = {"tenant": tenant, "status": status, "findings": findings}
    assert progress.observe("1", "setup", 0.25) is None
    assert progress.observe("1", "teardown", 0.25) is None
    assert progress.observe("4", "teardown", 1.0) is None  # a product scenario
    assert progress.observe("2", "teardown", 0.5) == (
        "tenant a: 2 scenarios (1 failed, 1 passed), 1 findings, 1.00s [1/2 tenants]")
    assert progress.observe("3", "teardown", 0.125) is None
    assert progress.unfinished() == ["tenant b: 1 scenarios (1 passed), 0 findings, 0.12s [2/2 tenants, partial]"]


def test_the_run_holds_only_the_tenant_it_is_judging(tmp_path):
    root = Path(__file__).parents[1]
    gate_run = GateRun(Options(tenants_dir=root / "fixtures/tenants", policies_dir=root / "policies",
                               product_dir=root / "fixtures/product", report_dir=tmp_path, features_dir=root / "features"))
    first = gate_run.tenant(SLUGS[0])
    assert first.derived("shared", lambda: ["first's"]) == ["first's"]
    assert gate_run.tenant(SLUGS[0]).derived("shared", list) == ["first's"]  # its own scenarios share it
    lead = first.submissions()[0]
    assert first.submissions()[0] is lead  # parsed once while it is judged
    second = gate_run.tenant(SLUGS[1])
    assert first.derived("shared", lambda: ["again"]) == ["again"]  # let go once the next tenant began
    assert first.submissions()[0] == lead and first.submissions()[0] is not lead
    assert second.derived("shared", lambda: ["second's"]) == ["second's"]


# --- sharded runs and merge -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shards(runs):
    ws, _, _ = runs
    return [gate(ws, f"shard-{k}", f"--shard={k}/3") for k in (1, 2, 3)]


@pytest.mark.slow
def test_three_shards_merged_equal_the_unsharded_report(runs, shards, tmp_path, capsys):
    _, serial, _ = runs
    for shard in shards:
        assert shard.exit_code == 0, shard.output[-3000:]
    built = [s.report for s in shards]
    assert [b["shard"] for b in built] == [{"index": k, "count": 3} for k in (1, 2, 3)]
    tenants = [{t["slug"] for t in b["tenants"]} for b in built]
    assert [sorted(t) for t in tenants] == [sorted(s for s in SLUGS if shard_of(s, 3) == k) for k in (1, 2, 3)]
    assert sum(map(len, tenants)) == len(SLUGS)  # each tenant in exactly one shard
    assert all(r["tenant"] for b in built[1:] for r in b["scenarios"])  # product scenarios in shard 1 only

    out = tmp_path / "merged"
    code = main(["merge", str(out), *(str(s.report_dir / "readiness.json") for s in shards)])
    assert code == 0, capsys.readouterr()
    merged = GateResult(0, "", out)
    assert report_bytes(merged) == report_bytes(serial)
    assert "shard" not in merged.report


@pytest.mark.slow
def test_a_shard_without_tenants_passes_with_an_empty_report(shards):
    # With the bundled slugs shard 2 of 3 holds no tenant (the split is a hash of each slug, so this is fixed).
    assert [shard_of(s, 3) for s in SLUGS].count(2) == 0
    empty = shards[1]
    assert empty.exit_code == 0, empty.output[-2000:]
    assert empty.report["scenarios"] == [] and empty.report["tenants"] == []
    assert empty.report["gate"]["status"] == "passed"
    assert "shard: 2/3 (0 tenants); combine the shards with: python -m readiness merge" in empty.output


@pytest.mark.slow
def test_a_bad_shard_option_is_a_clear_error(runs):
    ws, _, _ = runs
    result = gate(ws, "bad-shard", "--shard=4/3")
    assert result.exit_code != 0
    assert "--shard 4/3: K must be between 1 and N" in result.output


@pytest.mark.parametrize("text", ["3", "0/2", "2/1", "a/b", "1/0", ""])
def test_shard_spec_is_validated(text):
    with pytest.raises(OptionError, match="--shard"):
        Shard.parse(text)


def test_shards_partition_tenants_deterministically():
    slugs = [f"tenant-{n:03d}" for n in range(300)]
    shards = [Shard.parse(f"{k}/4") for k in range(1, 5)]
    groups = [{s for s in slugs if shard.holds(s)} for shard in shards]
    assert set().union(*groups) == set(slugs) and sum(map(len, groups)) == len(slugs)
    assert all(40 <= len(g) <= 110 for g in groups), [len(g) for g in groups]  # roughly a quarter each
    assert [shard_of(s, 4) for s in slugs] == [shard_of(s, 4) for s in slugs]
    assert shards[0].runs_product and not shards[1].runs_product and str(shards[2]) == "3/4"


def _write(path: Path, built: dict) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(built))
    return str(path)


def _shard_reports(serial: GateResult, tmp_path: Path) -> list[dict]:
    full = serial.report
    a = {**full, "shard": {"index": 1, "count": 2},
         "scenarios": [r for r in full["scenarios"] if r["tenant"] != "summit-multi-bu"],
         "tenants": [t for t in full["tenants"] if t["slug"] != "summit-multi-bu"]}
    b = {**full, "shard": {"index": 2, "count": 2},
         "scenarios": [r for r in full["scenarios"] if r["tenant"] == "summit-multi-bu"],
         "tenants": [t for t in full["tenants"] if t["slug"] == "summit-multi-bu"]}
    return [a, b]


@pytest.mark.slow
@pytest.mark.parametrize("change, message", [
    (lambda b: b.update(policy_digest="0" * 64), "refusing to merge reports from different policy versions"),
    (lambda b: b.update(commit="f" * 40), "refusing to merge reports from different commits"),
    (lambda b: b.update(mode="simulator"), "refusing to merge reports from different sandbox modes"),
    (lambda b: b.update(shard={"index": 1, "count": 2}), "shard 1/2 given twice"),
    (lambda b: b.update(shard={"index": 2, "count": 3}), "refusing to merge shards of different splits"),
    (lambda b: b.pop("shard"), "refusing to merge an unsharded report with shard reports"),
    (lambda b: b.update(evidence=[{**e, "sha256": "1" * 64} for e in b["evidence"]]), "has a different SHA-256"),
])
def test_merge_refuses_reports_that_do_not_belong_together(runs, tmp_path, capsys, change, message):
    _, serial, _ = runs
    first, second = _shard_reports(serial, tmp_path)
    change(second)
    paths = [_write(tmp_path / "a" / "readiness.json", first), _write(tmp_path / "b" / "readiness.json", second)]
    assert main(["merge", str(tmp_path / "out"), *paths]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert not (tmp_path / "out" / "readiness.json").exists()


@pytest.mark.slow
def test_merge_refuses_a_missing_shard_and_overlapping_reports(runs, tmp_path):
    _, serial, _ = runs
    first, second = _shard_reports(serial, tmp_path)
    with pytest.raises(ReadinessError, match="incomplete set of shards: missing 2/2"):
        merge.merge([(Path("a.json"), first)])
    unsharded = {k: v for k, v in serial.report.items() if k != "shard"}
    with pytest.raises(ReadinessError, match="the reports overlap"):
        merge.merge([(Path("a.json"), unsharded), (Path("b.json"), unsharded)])
    with pytest.raises(ReadinessError, match="nothing to merge"):
        merge.merge([])
    assert merge.merge([(Path("a.json"), first), (Path("b.json"), second)]) == {
        k: v for k, v in serial.report.items() if k != "shard"}


def test_merge_copies_packets_and_names_those_that_differ_between_shards(tmp_path):
    for name, text in (("a", "same"), ("b", "same")):
        (tmp_path / name / "packets" / "x").mkdir(parents=True)
        (tmp_path / name / "packets" / "x" / "p.md").write_text(text)
        (tmp_path / name / "packets" / "all.md").write_text(f"tenants of {name}")
    reports = [tmp_path / "a" / "readiness.json", tmp_path / "b" / "readiness.json"]
    written, differing = merge.copy_packets(reports, tmp_path / "out")
    assert written == [tmp_path / "out" / "packets" / "x" / "p.md"] and differing == ["all.md"]
    assert not (tmp_path / "out" / "packets" / "all.md").exists()


@pytest.mark.slow
def test_a_failed_merged_gate_exits_non_zero(runs, tmp_path, capsys):
    _, serial, _ = runs
    first, second = _shard_reports(serial, tmp_path)
    second["scenarios"] = [{**r, "status": "failed", "reason": "planted"} for r in second["scenarios"]]
    paths = [_write(tmp_path / "a" / "readiness.json", first), _write(tmp_path / "b" / "readiness.json", second)]
    assert main(["merge", str(tmp_path / "out"), *paths]) == 1
    assert "gate FAILED" in capsys.readouterr().out


# --- readiness over time --------------------------------------------------------------------------------------

@pytest.mark.slow
def test_diff_of_a_report_against_itself_is_empty(runs, tmp_path, capsys):
    _, serial, _ = runs
    path = str(serial.report_dir / "readiness.json")
    assert main(["diff", path, path, f"--out-dir={tmp_path}"]) == 0
    printed = capsys.readouterr().out
    assert "No change" in printed
    written = json.loads((tmp_path / "readiness-diff.json").read_text())
    assert written["empty"] and not written["scenarios"] and not written["findings"]
    assert not written["requirements"] and not any(written["evidence"].values())
    assert (tmp_path / "readiness-diff.md").read_text() == printed.split("written: ")[0]


@pytest.fixture(scope="module")
def planted(runs):
    """The same workspace with one planted violation: a tenant document claims partner approval."""
    ws, serial, _ = runs
    copy = Workspace.__new__(Workspace)
    copy.base = ws.base / "planted-ws"
    copy.policies, copy.product, copy.tenants = ws.policies, ws.product, copy.base / "tenants"
    shutil.copytree(ws.tenants, copy.tenants)
    document = copy.tenant("comfort-launch") / PLANTED_FILE
    document.write_text(document.read_text() + "\nWe are an approved ServiceTitan partner.\n")
    return copy, gate(copy, "planted-report", f"--baseline={serial.report_dir / 'readiness.json'}")


@pytest.mark.slow
def test_diff_against_one_planted_violation_shows_exactly_that_change(runs, planted):
    _, serial, _ = runs
    _, violated = planted
    assert violated.exit_code != 0
    changes = history.diff(serial.report, violated.report)
    assert not changes["empty"]
    assert changes["scenarios"] == [{"feature": "features/claims.feature", "scenario": TENANT_SCENARIO,
                                     "tenant": "comfort-launch", "old": "passed", "new": "failed"}]
    [group] = changes["findings"]
    assert group["tenant"] == "comfort-launch" and group["resolved"] == [] and len(group["new"]) == 1
    assert group["new"][0]["subject"].startswith(PLANTED_FILE)
    assert [(r["id"], r["old"], r["new"]) for r in changes["requirements"]] == [
        ("CLAIM-APPROVAL", "met", "failed"), ("CLAIM-SANDBOX", "met", "failed")]
    # Same relative name in both runs: a file below --tenants-dir is named from that option, not its location.
    assert [e["path"] for e in changes["evidence"]["changed"]] == [f"<tenants-dir>/comfort-launch/{PLANTED_FILE}"]
    assert changes["evidence"]["added"] == changes["evidence"]["removed"] == []
    assert (changes["old"]["gate"], changes["new"]["gate"]) == ("passed", "failed")


@pytest.mark.slow
def test_baseline_option_puts_the_changes_in_the_html_report(runs, planted):
    _, serial, _ = runs
    _, violated = planted
    html = (violated.report_dir / "readiness.html").read_text()
    assert "What changed since the baseline report" in html and TENANT_SCENARIO.replace("'", "&#39;") in html
    assert violated.report["baseline"] == history.diff(serial.report, {
        k: v for k, v in violated.report.items() if k != "baseline"})
    assert "Since the baseline of" in (violated.report_dir / "readiness.md").read_text()
    assert "What changed since" not in (serial.report_dir / "readiness.html").read_text()


@pytest.mark.slow
def test_diff_lists_scenarios_and_requirements_that_appear_or_vanish(runs):
    _, serial, _ = runs
    old = serial.report
    new = json.loads(json.dumps(old))
    new["scenarios"].append({**new["scenarios"][0], "scenario": "A new scenario"})
    new["requirements"] = new["requirements"][1:]
    new["evidence"] = new["evidence"][1:] + [{"path": "policies/new.yaml", "sha256": "2" * 64}]
    changes = history.diff(old, new)
    assert {"feature": old["scenarios"][0]["feature"], "scenario": "A new scenario",
            "tenant": old["scenarios"][0]["tenant"], "old": None, "new": old["scenarios"][0]["status"]} in changes[
        "scenarios"]
    assert changes["requirements"][0]["id"] == old["requirements"][0]["id"]
    assert changes["requirements"][0]["new"] is None
    assert changes["evidence"]["added"] == ["policies/new.yaml"]
    assert changes["evidence"]["removed"] == [old["evidence"][0]["path"]]
    markdown = history.render_markdown(changes)
    assert "A new scenario" in markdown and "(absent)" in markdown and "added `policies/new.yaml`" in markdown


@pytest.mark.slow
def test_a_baseline_that_is_not_a_report_is_a_clear_error(runs, tmp_path):
    ws, _, _ = runs
    (tmp_path / "old.json").write_text('{"schema_version": "1.0"}')
    result = gate(ws, "bad-baseline", f"--baseline={tmp_path / 'old.json'}")
    assert result.exit_code != 0 and "old.json" in result.output and "missing required key 'generated_at'" in result.output


# --- reproducible evidence ------------------------------------------------------------------------------------

@pytest.mark.slow
def test_two_runs_with_source_date_epoch_are_byte_identical(runs):
    ws, serial, _ = runs
    again = gate(ws, "again")
    assert report_bytes(again) == report_bytes(serial)
    text = b"".join(report_bytes(serial).values()).decode()
    assert str(ws.base) not in text and "/tmp/" not in text  # no absolute paths
    assert serial.report["generated_at"] == "2026-11-29T12:00:00Z"


@pytest.mark.slow
def test_report_header_shows_the_root_digest_over_the_manifest(runs):
    _, serial, _ = runs
    built = serial.report
    assert built["evidence_root"] == evidence.root_digest(built["evidence"])
    assert [e["path"] for e in built["evidence"]] == sorted(e["path"] for e in built["evidence"])
    assert built["evidence_root"][:16] in (serial.report_dir / "readiness.html").read_text().split("</header>")[0]


@pytest.mark.slow
def test_verify_passes_on_unchanged_inputs(runs, capsys):
    ws, serial, _ = runs
    code = main(["verify", str(serial.report_dir), f"--tenants-dir={ws.tenants}",
                 f"--policies-dir={ws.policies}", f"--product-dir={ws.product}"])
    assert code == 0, capsys.readouterr()
    assert capsys.readouterr().out.startswith("OK: all ")


@pytest.mark.slow
def test_verify_detects_one_changed_fixture_byte(runs, tmp_path, capsys):
    ws, serial, _ = runs
    tenants = tmp_path / "tenants"
    shutil.copytree(ws.tenants, tenants)
    target = tenants / "riverside-growth" / "exports" / "jpm" / "job-types.json"
    data = bytearray(target.read_bytes())
    data[10] ^= 1
    target.write_bytes(bytes(data))
    code = main(["verify", str(serial.report_dir), f"--tenants-dir={tenants}",
                 f"--policies-dir={ws.policies}", f"--product-dir={ws.product}"])
    out = capsys.readouterr().out
    assert code == 1
    assert out.splitlines()[1:] == ["changed  <tenants-dir>/riverside-growth/exports/jpm/job-types.json"], out
    assert out.startswith("CHANGED: 1 input(s) differ from the report")


@pytest.mark.slow
def test_verify_names_missing_new_files_and_an_edited_manifest(runs, tmp_path):
    ws, serial, _ = runs
    tenants = tmp_path / "tenants"
    shutil.copytree(ws.tenants, tenants)
    (tenants / "comfort-launch" / "leads" / "consent.jsonl").unlink()
    (tenants / "comfort-launch" / "leads" / "extra.jsonl").write_text("{}\n")
    roots = {"tenants-dir": tenants, "policies-dir": ws.policies, "product-dir": ws.product}
    result = verify(serial.report, roots)
    assert result.missing == ["<tenants-dir>/comfort-launch/leads/consent.jsonl"]
    assert result.added == ["<tenants-dir>/comfort-launch/leads/extra.jsonl"]
    assert result.changed == [] and result.manifest_intact and not result.ok
    edited = {**serial.report, "evidence": serial.report["evidence"][1:]}
    assert not verify(edited, roots).manifest_intact
    assert "the report was edited" in verify(edited, roots).lines()[0]


@pytest.mark.slow
def test_verify_needs_the_input_folders_the_report_names(runs, capsys):
    _, serial, _ = runs
    assert main(["verify", str(serial.report_dir)]) == 2
    assert "give --" in capsys.readouterr().err


def test_manifest_names_files_below_the_working_directory_as_before(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "a.yaml").write_text("a: 1\n")
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir(exist_ok=True)
    (outside / "b.yaml").write_text("b: 2\n")
    entries = evidence.manifest([Path("policies/a.yaml"), outside / "b.yaml", outside / "gone.yaml"],
                                roots={"policies-dir": Path("policies"), "product-dir": outside})
    assert [e["path"] for e in entries] == ["<product-dir>/b.yaml", "policies/a.yaml"]
    assert evidence.resolve("<product-dir>/b.yaml", {"product-dir": outside}) == outside / "b.yaml"
    assert evidence.label(outside, None, {"product-dir": outside}) == "<product-dir>"
    assert evidence.label(outside / "b.yaml") == (outside / "b.yaml").as_posix()  # no root names it


def test_report_load_refuses_a_file_that_is_not_a_report(tmp_path):
    (tmp_path / "r.json").write_text("[]")
    with pytest.raises(ReadinessError, match="r.json"):
        document.load(tmp_path / "r.json")
