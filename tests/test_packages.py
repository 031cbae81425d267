"""Manual packages: definitions against the matrix, and each tenant's exports and evidence against its package."""

from __future__ import annotations

from pathlib import Path

import pytest

from readiness.access import packages
from readiness.core.policy import PolicySet
from readiness.core.tenants import FixtureTenant, discover
from yaml_edit import edit_yaml

ROOT = Path(__file__).resolve().parent.parent
POLICIES = PolicySet.load(ROOT / "policies")
REQ = "PKG-MANUAL"
SUPPLIED = "The customer has supplied every export and screenshot the package needs"
DEFINED = "Every export a package needs is one the connection matrix would read"


def test_export_endpoint():
    assert packages.export_endpoint("jpm/export/jobs") == "/jpm/v2/tenant/{tenant}/export/jobs"


def test_bundled_packages_and_tenants_are_complete():
    assert packages.definition_problems(POLICIES) == []
    for tenant in discover(ROOT / "fixtures" / "tenants"):
        assert packages.missing_inputs(POLICIES, tenant) == [], tenant.slug


def test_growth_needs_more_than_launch():
    launch = {e["path"] for e in packages.package(POLICIES, "launch")["exports"]}
    growth = {e["path"] for e in packages.package(POLICIES, "growth")["exports"]}
    assert launch < growth and "accounting/export/invoices" in growth


def test_missing_export_and_screenshot_are_findings_not_crashes(workspace):
    folder = workspace.tenant("riverside-growth")
    (folder / "exports/accounting/export/invoices.json").unlink()
    for page in (folder / "exports/jpm/export/jobs").iterdir():
        page.unlink()
    (folder / "evidence/job-types-screenshot.png").unlink()
    found = packages.missing_inputs(POLICIES, FixtureTenant(folder))
    assert sorted((f.kind, f.subject) for f in found) == [
        ("package-evidence-missing", "riverside-growth evidence/job-types-screenshot.*"),
        ("package-export-missing", "riverside-growth exports/accounting/export/invoices.json"),
        ("package-export-missing", "riverside-growth exports/jpm/export/jobs.json"),
    ]
    assert {f.runbook for f in found} == {"failed-sync"}


def test_tenant_without_evidence_folder(workspace):
    folder = workspace.tenant("comfort-launch")
    for path in (folder / "evidence").iterdir():
        path.unlink()
    (folder / "evidence").rmdir()
    found = packages.missing_inputs(POLICIES, FixtureTenant(folder))
    assert len(found) == len(packages.package(POLICIES, "launch")["evidence"])


def test_package_definitions_are_checked_against_the_matrix(workspace):
    def plant(d):
        d["packages"]["launch"]["exports"].append({"path": "crm/export/customers", "what": "Customers"})
        d["packages"]["launch"]["exports"].append({"path": "accounting/export/invoices", "what": "Invoices"})
        d["packages"]["growth"]["api_required"] = ["telematics"]
    edit_yaml(workspace.policies / "packages.yaml", plant)
    found = packages.definition_problems(PolicySet.load(workspace.policies))
    assert len(found) == 3 and all(f.subject.startswith("packages.yaml:") for f in found)
    for words in ("crm/export/customers", "accounting/export/invoices", "'telematics'"):
        assert any(words in f.detail for f in found), words


@pytest.mark.slow
def test_gate_fails_for_growth_tenant_missing_its_revenue_export(workspace):
    (workspace.tenant("riverside-growth") / "exports/accounting/export/invoices.json").unlink()
    result = workspace.run(tenants=["riverside-growth"])
    row = result.assert_fails(SUPPLIED, REQ, tenant="riverside-growth")
    assert [f["kind"] for f in row["findings"]] == ["package-export-missing"]
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_gate_fails_for_launch_tenant_missing_its_screenshot(workspace):
    (workspace.tenant("comfort-launch") / "evidence/job-types-screenshot.png").unlink()
    workspace.run(tenants=["comfort-launch"]).assert_fails(SUPPLIED, REQ, tenant="comfort-launch")


@pytest.mark.slow
def test_gate_fails_when_a_package_needs_an_export_no_family_reads(workspace):
    edit_yaml(workspace.policies / "packages.yaml", lambda d: d["packages"]["growth"]["exports"].append(
        {"path": "crm/export/customers", "what": "Customers"}))
    workspace.run(tenants=["comfort-launch"]).assert_fails(DEFINED, REQ)
