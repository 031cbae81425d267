"""The readiness gate: every feature under features/ bound to the steps in steps/."""

from pytest_bdd import scenarios

scenarios(".")
