"""The gate's pytest plugins: the speed machinery kept apart from what the gate decides.

- ``framework_internals``: every private internal of pytest, pytest-bdd and pytest-xdist the gate uses, reached
  from there only (``tests/test_framework_internals.py`` fails when an upgrade changes one).
- ``step_index``: pytest-bdd's step lookup, memoised.
- ``tenant_groups``: a tenant's scenarios run together, on one xdist worker.
- ``gc_tuning``, ``idle_hypothesis``: garbage collection and hypothesis' summary, tuned for the run.

Each turns off with ``-p no:plugins.<name>`` and the report stays byte-identical (``tests/test_scale.py``). The
library's own speed machinery is ``readiness.gate.overlap`` (work on the second core) and
``FixtureTenant.hold/forget/derived`` (a tenant's parsed files kept while it is judged); what each saves is in
docs/scale.md.
"""
