"""The shipped ServiceTitan schemas: bundled exports conform, planted departures are named by JSON path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from readiness.servicetitan import openapi

ROOT = Path(__file__).resolve().parent.parent
JOB_TYPES = "/jpm/v2/tenant/{tenant}/job-types"


def job_types() -> dict:
    return json.loads((ROOT / "fixtures/tenants/riverside-growth/exports/jpm/job-types.json").read_text())


def test_every_bundled_export_conforms():
    for exports in sorted((ROOT / "fixtures/tenants").glob("*/exports")):
        for page in sorted(exports.rglob("*.json")):
            parts = page.relative_to(exports).with_suffix("").parts
            export = "/".join(parts[:-1] if parts[-1].isdigit() else parts)
            assert openapi.validate_body(openapi.api_path(export), "GET", 200, json.loads(page.read_text())) == [], page


@pytest.mark.parametrize(("plant", "json_path", "words"), [
    (lambda body: body["data"][1].update(id="21002"), "data[1].id", "is not of type 'integer'"),
    (lambda body: body["data"][0].pop("name"), "data[0]", "'name' is a required property"),
    (lambda body: body["data"][2].update(shoeSize=9), "data[2]", "Additional properties"),
    (lambda body: body.pop("hasMore"), "(body)", "'hasMore' is a required property"),
    (lambda body: body["data"][0].update(createdOn="last Tuesday"), "data[0].createdOn", "is not a 'date-time'"),
])
def test_a_planted_departure_is_named_by_json_path(plant, json_path, words):
    body = job_types()
    plant(body)
    problems = openapi.validate_body(JOB_TYPES, "GET", 200, body)
    assert [p.json_path for p in problems] == [json_path]
    assert words in problems[0].message


def test_called_paths_find_their_template_and_request_bodies_are_judged():
    assert openapi.validate_body("/crm/v2/tenant/900000202/leads/form", "POST", None, {"name": "Pat Example"}) == []
    problems = openapi.validate_body("/crm/v2/tenant/900000202/booking-provider/12/bookings", "POST", None,
                                     {"name": "Pat Example"})
    assert "'externalId' is a required property" in {p.message for p in problems}
    problems = openapi.validate_body("/marketingads/v2/tenant/9/web-lead-form-attributions", "post", None,
                                     {"leadId": 1, "webSessionData": {"landingPageUrl": "https://example.com/"}})
    assert [p.json_path for p in problems] == ["webSessionData"]


def test_nullable_references_accept_null_as_servicetitan_publishes_them():
    body = json.loads((ROOT / "fixtures/tenants/riverside-growth/exports/pricebook/services.json").read_text())
    assert body["data"][0]["warranty"] is None
    body["data"][0]["warranty"] = "none"
    assert [p.json_path for p in openapi.validate_body("/pricebook/v2/tenant/{tenant}/services", "GET", 200, body)] \
        == ["data[0].warranty"]


def test_an_operation_the_suite_does_not_ship_is_one_problem_not_a_crash():
    problems = openapi.validate_body("/crm/v2/tenant/{tenant}/customers", "GET", 200, {})
    assert [p.json_path for p in problems] == ["(operation)"]
    assert "tools/extract_openapi.py" in problems[0].message
    assert openapi.validate_body(JOB_TYPES, "GET", 418, {})[0].json_path == "(operation)"


def test_record_fields_come_from_the_published_schema():
    assert "businessUnitIds" in openapi.required_fields(JOB_TYPES)
    assert openapi.field_schemas("/pricebook/v2/tenant/{tenant}/services")["code"]["type"] == "string"


@pytest.mark.skipif(not Path("/work/shared/servicetitan-openapi").is_dir(), reason="published documents not at hand")
def test_shipped_schemas_are_what_the_extraction_script_makes(tmp_path):
    """Reproducible: the script, run on the published documents, writes exactly the package data."""
    script = (ROOT / "tools/extract_openapi.py").read_text().replace(
        'OUT = Path(__file__).resolve().parent.parent / "readiness" / "schemas" / "servicetitan"',
        f'OUT = Path({str(tmp_path / "readiness/schemas/servicetitan")!r})')
    copy_of_script = tmp_path / "extract.py"
    copy_of_script.write_text(script)
    subprocess.run([sys.executable, str(copy_of_script)], check=True, capture_output=True)
    shipped = ROOT / "readiness/schemas/servicetitan"
    for made in (tmp_path / "readiness/schemas/servicetitan").glob("*.json"):
        assert made.read_text() == (shipped / made.name).read_text(), made.name


@pytest.mark.parametrize(("field", "value", "words"), [
    ("id", 1 << 63, "is not a 'int64'"),
    ("duration", "90", "is not of type 'integer'"),
    ("createdOn", "2026-13-45T00:00:00Z", "is not a 'date-time'"),
    ("active", None, "None is not of type 'boolean'"),
])
def test_the_page_validator_judges_like_validate_body_once_per_record_shape(field, value, words):
    validator = openapi.PageValidator(JOB_TYPES)
    body = job_types()
    assert validator.validate(body) == []
    assert len(validator._judged) < len(body["data"])  # same-shaped records were judged once
    body["data"][4][field] = value
    problems = validator.validate(body)
    assert problems == openapi.validate_body(JOB_TYPES, "GET", 200, body)
    assert {p.json_path for p in problems} == {f"data[4].{field}"} and any(words in p.message for p in problems)
