"""The readiness gate's command-line options, registered through a ``pytest11`` entry point.

Options a conftest registers are unknown while pytest pre-parses the command line, so ``--tenants-dir /path``
(with a space) made ``/path`` a test path and the rootdir ``/``. A plugin of the installed package is loaded
before that pre-parse. It is active in every pytest run of the environment, so it only declares options and ini
keys: the gate's wiring stays in the repository's ``conftest.py``.
"""

from __future__ import annotations

from readiness_pytest.rootdir import reread_setup

PATH_OPTIONS = {
    "tenants_dir": "folder of tenant folders to judge",
    "policies_dir": "folder of policy YAML files",
    "product_dir": "the offline product's customer-facing copy and configuration",
    "report_dir": "where readiness.json, .md and .html are written",
}
FORMAT_OPTIONS = {
    "sarif": "also write the findings that name a file as SARIF 2.1.0 (GitHub code scanning)",
    "oscal": "also write the run as an OSCAL assessment-results document (JSON)",
    "cucumber": "also write cucumber JSON (cucumber-jvm's form) from the report: complete under xdist too",
}


def pytest_addoption(parser) -> None:
    group = parser.getgroup("readiness", "ServiceTitan readiness gate")
    for name, text in PATH_OPTIONS.items():
        group.addoption(f"--{name.replace('_', '-')}", dest=name, default=None, metavar="PATH",
                        help=f"{text} (ini: readiness_{name})")
        parser.addini(f"readiness_{name}", text)
    group.addoption("--tenant", dest="tenant_names", action="append", default=[], metavar="NAME",
                    help="judge only this tenant (repeatable; default: all)")
    group.addoption("--sandbox", default="off", metavar="MODE",
                    help="off (default: @sandbox scenarios pending) | simulator | integration")
    group.addoption("--shard", default=None, metavar="K/N",
                    help="judge only shard K of N of the tenants (stable hash of the slug); product scenarios "
                         "run in shard 1; combine with: python -m readiness merge")
    group.addoption("--baseline", default=None, metavar="PATH",
                    help="an earlier readiness.json: the report shows what changed since")
    for name, text in FORMAT_OPTIONS.items():
        group.addoption(f"--{name}", default=None, metavar="PATH", help=text)


def pytest_load_initial_conftests(early_config, parser, args) -> None:
    """A path option's value may have been taken for a test path (``--tenants-dir /abs/path``): find the rootdir
    and ini file again with our options known, or the repository's conftest and pyproject are never read."""
    reread_setup(early_config, parser, args)
