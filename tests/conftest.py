"""Harness for the project's own tests: run the gate on copies of the bundled data with one planted violation.

A gate run happens in this process (pytest's ``pytester``, which undoes the run's imports and ``sys.path``
changes), except where a separate process is the point: pytest-xdist (``-n``), whose workers are processes anyway,
and a plugin a test plants with ``-p``, which may rebind the library's functions for the rest of its process
(unless it undoes that itself: ``SELF_RESTORING_PLUGINS``).
"""

from __future__ import annotations

import fcntl
import gc
import json
import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from hypothesis import settings

from readiness.boundaries import screenshots

pytest_plugins = ["pytester"]

# In CI every property test draws the same examples each run: a result that changes from run to run would stop a
# landing by chance. Locally they draw new ones each run, and a failure found there is kept by Hypothesis' database.
settings.register_profile("ci", derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")

ROOT = Path(__file__).resolve().parent.parent
# Packages the gate imports from its own root: a Project run must import its copies, not this process's.
GATE_MODULES = ("steps", "test_gate")


@dataclass
class GateResult:
    exit_code: int
    output: str
    report_dir: Path

    @property
    def report(self) -> dict:
        return json.loads((self.report_dir / "readiness.json").read_text())

    def scenario(self, name: str, tenant: str | None = None) -> dict:
        rows = [s for s in self.report["scenarios"] if s["scenario"] == name and (tenant is None or s["tenant"] == tenant)]
        assert rows, f"no scenario {name!r} in the report"
        return rows[0]

    def failed(self) -> list[dict]:
        return [s for s in self.report["scenarios"] if s["status"] == "failed"]

    def assert_fails(self, scenario: str, requirement: str, tenant: str | None = None) -> dict:
        """The gate exits non-zero and the report names the failing scenario and its requirement."""
        assert self.exit_code != 0, self.output[-3000:]
        row = self.scenario(scenario, tenant)
        assert row["status"] == "failed", (row, self.output[-3000:])
        assert requirement in row["requirements"]
        assert any(scenario in name for name in self.report["gate"]["failed_scenarios"])
        return row


class Workspace:
    """A scratch copy of the policies, tenants and product that a test may break on purpose.

    Given ``pytester`` (the ``workspace`` fixture does so), gate runs happen in this process; without it (a copy
    made outside a test, e.g. for a whole session) each run is a subprocess.
    """

    pytester: pytest.Pytester | None = None

    def __init__(self, base: Path, pytester: pytest.Pytester | None = None):
        self.base = base
        self.pytester = pytester
        self.policies = base / "policies"
        self.tenants = base / "tenants"
        self.product = base / "product"
        shutil.copytree(ROOT / "policies", self.policies)
        shutil.copytree(ROOT / "fixtures" / "tenants", self.tenants)
        shutil.copytree(ROOT / "fixtures" / "product", self.product)

    def tenant(self, slug: str) -> Path:
        return self.tenants / slug

    def run(self, *args: str, tenants: list[str] = (), timeout: int = 600, cwd: Path = ROOT) -> GateResult:
        """The gate on this workspace; ``timeout`` bounds a subprocess run."""
        report_dir = self.base / "reports"
        gate_args = [
            "-p", "no:randomly", "-q", "--no-header",
            f"--policies-dir={self.policies}", f"--tenants-dir={self.tenants}",
            f"--product-dir={self.product}", f"--report-dir={report_dir}",
            *[f"--tenant={t}" for t in tenants], *args,
        ]
        if self.pytester is None or _needs_own_process(args):
            env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST_")}
            done = subprocess.run([sys.executable, "-m", "pytest", *gate_args], cwd=cwd, capture_output=True,
                                  text=True, timeout=timeout, env=env)
            return GateResult(done.returncode, done.stdout + done.stderr, report_dir)
        with _as_a_fresh_process(cwd):
            done = self.pytester.runpytest_inprocess(*gate_args)
        return GateResult(int(done.ret), "\n".join([*done.outlines, *done.errlines]), report_dir)


class Project(Workspace):
    """A scratch copy of the whole gate (features, steps, conftest) for planting violations in features or steps."""

    GATE_FILES = ("conftest.py", "test_gate.py", "pyproject.toml")

    def __init__(self, base: Path, pytester: pytest.Pytester | None = None):
        super().__init__(base, pytester)
        self.root = base / "project"
        self.root.mkdir()
        for name in self.GATE_FILES:
            shutil.copy(ROOT / name, self.root / name)
        shutil.copytree(ROOT / "features", self.root / "features")
        shutil.copytree(ROOT / "steps", self.root / "steps", ignore=shutil.ignore_patterns("__pycache__"))
        (self.root / "readiness").symlink_to(ROOT / "readiness")
        (self.root / "plugins").symlink_to(ROOT / "plugins")
        self.features = self.root / "features"
        self.steps = self.root / "steps"

    def run(self, *args: str, tenants: list[str] = (), timeout: int = 600) -> GateResult:
        return super().run(*args, tenants=tenants, timeout=timeout, cwd=self.root)


# Planted plugins that undo what they change when their run ends, so their runs can stay in this process.
SELF_RESTORING_PLUGINS = ("tests.protocol_clients",)


def once_per_session(tmp_path_factory: pytest.TempPathFactory, name: str,
                     make: Callable[[Path], GateResult]) -> GateResult:
    """``make(folder)`` once per test session, shared by every module and pytest-xdist worker that asks for ``name``.

    Module-scoped fixtures run once per worker, so an expensive shared gate run would run on each. The workers of
    one session share the parent of their temporary folders and the run id xdist gives them: a lock lets the first
    worker run it while the others wait and reuse its result (read-only)."""
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent / f"{name}-{run_id}") if run_id else (base / name)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = folder / "result.json"
        if not done.exists():
            result = make(folder / "workspace")
            done.write_text(json.dumps({"exit_code": result.exit_code, "output": result.output,
                                        "report_dir": str(result.report_dir)}), encoding="utf-8")
        saved = json.loads(done.read_text(encoding="utf-8"))
    return GateResult(saved["exit_code"], saved["output"], Path(saved["report_dir"]))


def _needs_own_process(args: tuple[str, ...]) -> bool:
    """xdist (``-n``) starts processes anyway; another planted ``-p plugin`` may rebind library functions for good."""
    for flag, value in zip(args, (*args[1:], "")):
        if flag in ("-n", "--numprocesses") or flag.startswith(("--numprocesses=", "-n=")):
            return True
        if flag == "-p" and not value.startswith("no:") and value not in SELF_RESTORING_PLUGINS:
            return True
    return False


@contextmanager
def _as_a_fresh_process(cwd: Path):
    """What a subprocess run starts from: its working folder, its environment and, for a gate of its own
    (``Project``), its own steps. pytester undoes the run's imports; what the run froze is collectable again."""
    own_gate = cwd.resolve() != ROOT
    saved_cwd, saved_env = Path.cwd(), dict(os.environ)
    held = {name: module for name, module in sys.modules.items()
            if own_gate and name.split(".")[0] in GATE_MODULES}
    for name in held:
        del sys.modules[name]
    for name in [k for k in os.environ if k.startswith("PYTEST_XDIST_")]:
        del os.environ[name]
    os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        sys.modules.update(held)
        gc.unfreeze()  # plugins.gc_tuning froze the run's objects; this process runs the gate many times


@pytest.fixture(scope="session", autouse=True)
def shared_ocr_cache(tmp_path_factory: pytest.TempPathFactory):
    """pytester gives each gate run a new HOME, where the OCR cache (~/.cache) would start empty: the gate runs of
    one test process share one cache instead, so each bundled screenshot is read once per process. Tests of OCR
    itself set a cache of their own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(screenshots.CACHE_VARIABLE, str(tmp_path_factory.mktemp("ocr-cache")))
        yield


@pytest.fixture
def gate_runner(request: pytest.FixtureRequest) -> pytest.Pytester:
    """``pytester``, without moving the test into pytester's folder (tests here read paths relative to theirs)."""
    cwd = Path.cwd()
    pytester = request.getfixturevalue("pytester")
    os.chdir(cwd)
    return pytester


@pytest.fixture
def workspace(tmp_path: Path, gate_runner: pytest.Pytester) -> Workspace:
    return Workspace(tmp_path, gate_runner)


@pytest.fixture
def project(tmp_path: Path, gate_runner: pytest.Pytester) -> Project:
    return Project(tmp_path, gate_runner)
