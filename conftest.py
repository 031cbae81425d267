"""The readiness gate's wiring: step plugins, the pending rule and the report hook.

Everything it decides is delegated to ``readiness.gate.GateRun``; this file only
translates pytest's events.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from readiness.core import features
from readiness.core.errors import ReadinessError
from readiness.gate.run import CONTRACT_TAG, NOT_LOADED, PROPERTY, GateRun, Options, ScenarioEvidence, decode, encode
from readiness.gate.progress import TenantProgress, failure_lines, pending_lines
from readiness_pytest import FORMAT_OPTIONS, PATH_OPTIONS
from plugins.framework_internals import line_is_open, new_line, scenario_template

ROOT = Path(__file__).parent
# readiness_pytest declares the options; installed, its pytest11 entry point has loaded it already (same name).
pytest_plugins = ["readiness_pytest", "plugins.gc_tuning", "plugins.step_index", "plugins.tenant_groups",
                  "plugins.idle_hypothesis",
                  *sorted(f"steps.{p.stem}" for p in (ROOT / "steps").glob("*.py") if p.stem != "__init__")]

GATE = pytest.StashKey[GateRun]()
EVIDENCE = pytest.StashKey[ScenarioEvidence]()
STEPS = pytest.StashKey[list]()
META = pytest.StashKey["dict | None"]()


def pytest_configure(config: pytest.Config) -> None:
    paths = {name: Path(config.getoption(name) or config.getini(f"readiness_{name}")) for name in PATH_OPTIONS}
    options = Options(**paths, features_dir=config.rootpath / config.getini("bdd_features_base_dir"),
                      tenant_names=config.getoption("tenant_names"), sandbox=config.getoption("sandbox"),
                      shard=config.getoption("shard"), baseline=config.getoption("baseline"),
                      **{name: config.getoption(name) for name in FORMAT_OPTIONS})
    try:
        config.stash[GATE] = gate = GateRun(options)
    except ReadinessError as exc:
        raise pytest.UsageError(str(exc)) from None
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(ReportHook(gate), "readiness-report")


def pytest_bdd_apply_tag(tag: str, function):
    if tag == features.PER_TENANT_TAG:
        return pytest.mark.usefixtures("tenant")(function)
    return None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "tenant" in metafunc.fixturenames:
        slugs = [t.slug for t in metafunc.config.stash[GATE].tenants]
        metafunc.parametrize("tenant", slugs, ids=slugs, indirect=True)


def _scenario_meta(item: pytest.Item) -> dict | None:
    """Feature, scenario, tenant and tags of a bound scenario (tags of Examples blocks included); read once per
    item, since collection and every test phase ask."""
    if META not in item.stash:
        item.stash[META] = _read_scenario_meta(item)
    return item.stash[META]


def _read_scenario_meta(item: pytest.Item) -> dict | None:
    template = scenario_template(getattr(item, "obj", None))
    if template is None:
        return None
    tags = set(template.tags) | set(template.feature.tags) | (template.rule.tags if template.rule else set())
    callspec = getattr(item, "callspec", None)
    if callspec is not None:
        tags |= {mark.name for mark in callspec.marks}
    tenant = callspec.params.get("tenant") if callspec is not None else None
    return {
        "feature": template.feature.rel_filename,
        "line": template.line_number,
        "scenario": template.name,
        "tenant": tenant,
        "tags": sorted(tags),
        "requirements": sorted(t[len(features.REQ_PREFIX):] for t in tags if t.startswith(features.REQ_PREFIX)),
        "protocol_tests": sorted(
            t[len(features.PROTOCOL_PREFIX):] for t in tags if t.startswith(features.PROTOCOL_PREFIX)
        ),
        "template_steps": [(s.keyword, s.name) for s in template.steps],
    }


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    gate = config.stash[GATE]
    for item in items:
        meta = _scenario_meta(item)
        if meta is None:
            continue
        reason = gate.pending_reason(set(meta["tags"]))
        if reason:
            item.add_marker(pytest.mark.skip(reason=f"pending: {reason}"))
    if gate.shard:
        _keep_shard(config, items, gate)


def _keep_shard(config: pytest.Config, items: list[pytest.Item], gate: GateRun) -> None:
    """Product scenarios run in shard 1 only; a per-tenant scenario of a shard without tenants is no test."""
    slugs = {t.slug for t in gate.tenants}
    keep, drop = [], []
    for item in items:
        meta = _scenario_meta(item)
        per_tenant = "tenant" in getattr(item, "fixturenames", ())
        if meta is None or (meta["tenant"] in slugs if per_tenant else gate.shard.runs_product):
            keep.append(item)
        else:
            drop.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
def gate(request: pytest.FixtureRequest) -> GateRun:
    return request.config.stash[GATE]


@pytest.fixture
def tenant(request: pytest.FixtureRequest, gate: GateRun):
    """The tenant this copy of a @per-tenant scenario judges. A tenant whose files did not load is judged by its
    contract scenario alone; every other scenario fails closed, unjudged, without repeating the file's error."""
    tenant = gate.tenant(request.param)
    meta = _scenario_meta(request.node) or {"tags": []}
    if gate.load_problems(tenant.slug) and CONTRACT_TAG not in meta["tags"]:
        pytest.fail(gate.not_loaded_reason(tenant.slug), pytrace=False)
    return tenant


@pytest.fixture
def scenario_evidence(request: pytest.FixtureRequest) -> ScenarioEvidence:
    """Findings and report sections the steps record; the report hook carries them to the controller."""
    return request.node.stash.setdefault(EVIDENCE, ScenarioEvidence())


def pytest_bdd_after_step(request, feature, scenario, step, step_func, step_func_args) -> None:
    request.node.stash.setdefault(STEPS, []).append((step.name, "passed"))


def pytest_bdd_step_error(request, feature, scenario, step, step_func, step_func_args, exception) -> None:
    request.node.stash.setdefault(STEPS, []).append((step.name, "failed"))


def _steps(meta: dict, executed: list[dict]) -> list[dict]:
    rows = []
    for index, (keyword, name) in enumerate(meta["template_steps"]):
        ran = executed[index] if index < len(executed) else None
        rows.append({"keyword": keyword, "name": ran[0] if ran else name, "status": ran[1] if ran else "not-run"})
    return rows


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    meta = _scenario_meta(item)
    if meta is not None and (call.when == "call" or report.outcome != "passed"):
        found = item.stash.get(EVIDENCE, ScenarioEvidence())
        executed = item.stash.get(STEPS, [])
        payload = {key: value for key, value in meta.items() if key != "template_steps"}
        payload |= {
            "steps": _steps(meta, executed) if executed or call.when == "call" else [],
            "findings": [f.to_dict() for f in sorted(set(found.findings))],
            "sections": found.sections,
            # failed on a step's own assertion, not an error: only such a failure may be waived (gate.waivers)
            "assertion": call.excinfo is not None and call.excinfo.errisinstance(AssertionError),
        }
        if report.failed and call.when == "call":
            waived = item.config.stash[GATE].waived(payload)
            if waived:  # an expected failure to pytest (exit 0 when nothing else fails), never a pass
                payload["waived"] = _message(report)
                report.outcome, report.wasxfail = "skipped", waived
        report.user_properties.append((PROPERTY, encode(payload)))
    return report


def _message(report: pytest.TestReport) -> str | None:
    if report.skipped and isinstance(report.longrepr, tuple):
        return report.longrepr[2].removeprefix("Skipped: ").removeprefix("pending: ")
    if report.failed:
        crash = getattr(report.longrepr, "reprcrash", None)
        text = crash.message if crash is not None else str(report.longrepr)
        return text.strip().splitlines()[0].removeprefix("Failed: ") if text.strip() else "failed"
    return None


class ReportHook:
    """Registered on the controller only (not on xdist workers): collects records and writes the report."""

    def __init__(self, gate: GateRun):
        self.gate = gate
        self.built: dict | None = None
        self.written: list[Path] = []
        self.progress = TenantProgress(gate)
        self.terminal = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for name, value in report.user_properties:
            if name == PROPERTY:
                self._speak_in_findings()
                self.gate.observe(report.nodeid, report.when, report.outcome, decode(value), _message(report))
        self._progress(self.progress.observe(report.nodeid, report.when, report.duration))

    def _progress(self, *lines: str | None) -> None:
        terminal = self.terminal
        for line in lines:
            if line and terminal is not None:
                if line_is_open(terminal):  # after -q's progress dots
                    new_line(terminal)
                terminal.write_line(line)

    def _speak_in_findings(self) -> None:
        """Once a scenario reports (here on the controller, with or without xdist), the run is a gate run: it speaks
        in findings, in the readiness summary, not in tracebacks and pytest's short summary. -v or --tb=... keeps
        pytest's own."""
        terminal = self.terminal
        if terminal is not None and terminal.config.option.verbose <= 0 and terminal.config.option.tbstyle == "auto":
            terminal.config.option.tbstyle = "no"
            terminal.reportchars = ""

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.terminal = session.config.pluginmanager.get_plugin("terminalreporter")

    @pytest.hookimpl(tryfirst=True)  # before xdist waits for its workers to exit: they wind down meanwhile
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self._progress(*self.progress.unfinished())
        if self.gate.shard and session.exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
            session.exitstatus = pytest.ExitCode.OK  # a shard holding no tenant: its (empty) report still merges
        elif not self.gate.records:
            return
        self.built, self.written = self.gate.write_report()
        if self.built["gate"]["status"] == "failed" and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.built is None:
            return
        built, write = self.built, terminalreporter.write_line
        terminalreporter.section("readiness summary")
        write(f"mode: {built['mode_statement']}")
        counts = ", ".join(f"{n} {s}" for s, n in built["summary"].items() if s != "total" and n)
        write(f"gate: {built['gate']['status'].upper()} ({counts}; {built['summary']['total']} scenarios)")
        if built["waivers"]:
            write(f"waivers: {built['gate']['waivers_applied']} applied, "
                  + ", ".join(f"{w['id']} {w['status']}" for w in built["waivers"]))
        write("requirements: " + ", ".join(f"{n} {s}" for s, n in built["requirement_summary"].items() if n))
        if self.gate.shard:
            write(f"shard: {self.gate.shard} ({len(self.gate.tenants)} tenants"
                  f"{', and the product scenarios' if self.gate.shard.runs_product else ''}); "
                  "combine the shards with: python -m readiness merge")
        config = terminalreporter.config
        full = config.option.verbose > 0 or config.option.tbstyle not in ("auto", "no")
        for line in pending_lines(built, self.gate.protocol) + failure_lines(built, NOT_LOADED, full):
            write(line)
        for record in built["scenarios"]:
            if record["status"] == "waived":
                tenant = f" [{record['tenant']}]" if record["tenant"] else ""
                write(f"WAIVED {record['feature']}: {record['scenario']}{tenant} "
                      f"({', '.join(record['requirements'])}): {record['reason']}")
        report_dir = self.gate.options.report_dir
        write(f"report: {report_dir / 'readiness.html'} (and {len(self.written) - 1} more files in {report_dir})")
