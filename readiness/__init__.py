"""Readiness library: policies + tenant data -> findings -> evidence report.

Pure Python; it knows nothing of pytest. The gate (``pytest`` with the root
conftest and ``steps/``) and the command line (``python -m readiness``) call it.
"""

__version__ = "0.1.0"
