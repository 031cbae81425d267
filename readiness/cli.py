"""``python -m readiness COMMAND ...``: the suite's command line beside the pytest gate.

Each command lives in the module of its concern and offers ``register(subparsers)``,
which adds its parser and sets ``func`` (returning an exit code). Errors of input
are one line on stderr with exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

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
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ReadinessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
