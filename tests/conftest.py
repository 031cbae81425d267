"""Harness for the project's own tests: run the gate on copies of the bundled data with one planted violation."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


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
    """A scratch copy of the policies, tenants and product that a test may break on purpose."""

    def __init__(self, base: Path):
        self.base = base
        self.policies = base / "policies"
        self.tenants = base / "tenants"
        self.product = base / "product"
        shutil.copytree(ROOT / "policies", self.policies)
        shutil.copytree(ROOT / "fixtures" / "tenants", self.tenants)
        shutil.copytree(ROOT / "fixtures" / "product", self.product)

    def tenant(self, slug: str) -> Path:
        return self.tenants / slug

    def run(self, *args: str, tenants: list[str] = (), timeout: int = 600, cwd: Path = ROOT) -> GateResult:
        report_dir = self.base / "reports"
        command = [
            sys.executable, "-m", "pytest", "-p", "no:randomly", "-q", "--no-header",
            f"--policies-dir={self.policies}", f"--tenants-dir={self.tenants}",
            f"--product-dir={self.product}", f"--report-dir={report_dir}",
            *[f"--tenant={t}" for t in tenants], *args,
        ]
        env = {k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_WORKER"}
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
        return GateResult(done.returncode, done.stdout + done.stderr, report_dir)


class Project(Workspace):
    """A scratch copy of the whole gate (features, steps, conftest) for planting violations in features or steps."""

    GATE_FILES = ("conftest.py", "test_gate.py", "pyproject.toml")

    def __init__(self, base: Path):
        super().__init__(base)
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


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)
