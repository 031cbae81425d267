"""Steps for features/customer-intake.feature: reviewed Titan Map entries and screenshots read with OCR."""

from pytest_bdd import given, then, when

from readiness.boundaries import credentials, screenshots
from readiness.mapping import review

SCREENSHOT_TEXT_KINDS = {"credential", "screenshot-personal-data"}
SCREENSHOT_NAME_KINDS = {"screenshot-name-not-in-export", "screenshot-export-name-not-shown",
                         "screenshot-no-name-column"}


@given("the tenant's Titan Map entries", target_fixture="titan_map")
def titan_map(tenant):
    return tenant.titan_map


@when("its entries are checked for the customer's review", target_fixture="review_findings")
def check_review(titan_map, scenario_evidence):
    found = review.findings(titan_map)
    scenario_evidence.add(found)
    return found


@then("every entry was confirmed by a customer role on a date")
def every_entry_confirmed(review_findings):
    assert not review_findings, "\n".join(str(f) for f in review_findings)


@given("the screenshots in the tenant's evidence", target_fixture="screenshot_tenant")
def screenshot_tenant(tenant):
    return tenant


@when("they are read with OCR", target_fixture="screenshot_check")
def read_screenshots(gate, screenshot_tenant, scenario_evidence):
    policy = credentials.CredentialPolicy.from_policies(gate.policies)
    check = screenshot_tenant.derived("screenshots read", lambda: screenshots.check(screenshot_tenant, policy))
    scenario_evidence.add([f for f in check.findings if f.kind in {"screenshot-not-read", "screenshot-unreadable"}])
    return check


@then("every screenshot could be opened, and one OCR could not read is reported as not read")
def all_read(screenshot_check):
    """A broken image fails; an unread one is an info finding, or fails where OCR is required (CI)."""
    failing = [f for f in screenshot_check.findings
               if f.kind in {"screenshot-not-read", "screenshot-unreadable"} and f.severity != "info"]
    assert not failing, "\n".join(str(f) for f in failing)


@then("no credential or personal data is in their text")
def text_clean(screenshot_check, scenario_evidence):
    found = [f for f in screenshot_check.findings if f.kind in SCREENSHOT_TEXT_KINDS]
    scenario_evidence.add(found)
    assert not found, "\n".join(str(f) for f in found)


@then("every name on a list screenshot is in its export, and every active exported name is on it")
def names_agree(screenshot_check, scenario_evidence):
    found = [f for f in screenshot_check.findings if f.kind in SCREENSHOT_NAME_KINDS]
    scenario_evidence.add(found)
    assert not found, "\n".join(str(f) for f in found)
