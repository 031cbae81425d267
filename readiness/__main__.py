"""``python -m readiness``: see :mod:`readiness.cli`."""

import sys

from readiness.cli import main

if __name__ == "__main__":
    sys.exit(main())
