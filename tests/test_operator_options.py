"""The gate's options come from the installed package's pytest11 entry point, so both spellings work anywhere."""

from __future__ import annotations

import inspect
import subprocess
import sys
from importlib import metadata

import pytest
from _pytest.config import Config
from _pytest.config.findpaths import determine_setup

from tests.conftest import ROOT

ENTRY_POINT = "readiness_pytest"


def test_the_installed_package_registers_the_options_plugin():
    names = {ep.name: ep.value for ep in metadata.entry_points(group="pytest11")}
    assert names.get(ENTRY_POINT) == "readiness_pytest", (
        "the pytest11 entry point is missing: reinstall the package (pip install -e .)")


def test_the_pytest_internals_the_rootdir_fix_uses_still_exist():
    """readiness_pytest.rootdir leans on these; a pytest upgrade that renames one must fail here, loudly."""
    assert {"inifile", "override_ini", "args", "rootdir_cmd_arg", "invocation_dir"} <= set(
        inspect.signature(determine_setup).parameters)
    for name in ("_unconfigure_python_path", "_configure_python_path", "_validate_args"):
        assert callable(getattr(Config, name)), name
    config = Config.fromdictargs({}, [])
    for name in ("_rootpath", "_inipath", "_inicfg", "_inicache"):
        assert hasattr(config, name), name


@pytest.mark.slow
@pytest.mark.parametrize("spelling", ["space", "equals"])
def test_paths_outside_the_repository_work_with_a_space_or_an_equals_sign(tmp_path, spelling):
    """Run from the repository's root with both folders outside it, as an operator types the command."""
    tenants, out = ROOT / "fixtures" / "tenants", tmp_path / "out"
    outside = tmp_path / "tenants"
    outside.mkdir()
    (outside / "comfort-launch").symlink_to(tenants / "comfort-launch", target_is_directory=True)
    options = [("--tenants-dir", str(outside)), ("--report-dir", str(out))]
    args = [part for pair in options for part in (pair if spelling == "space" else ["=".join(pair)])]
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "unrecognized arguments" not in done.stderr
    assert (out / "readiness.json").is_file()
