"""The control mapping (policies/controls.yaml) and the "by control" view of the report and security packet."""

from __future__ import annotations

from pathlib import Path

import pytest

from readiness.core.policy import PolicySet
from readiness.report import controls, packets
from yaml_edit import edit_yaml

ROOT = Path(__file__).resolve().parent.parent
MAPPING_SCENARIO = "Every control mapping names known requirements and declared controls"


@pytest.fixture(scope="module")
def policies() -> PolicySet:
    return PolicySet.load(ROOT / "policies")


def _rows(statuses: dict[str, str]) -> list[dict]:
    return [{"id": r, "status": s, "scenarios": [f"features/x.feature: proves {r}"]} for r, s in statuses.items()]


def test_the_bundled_mapping_is_whole_and_names_isa_soc2_and_asvs(policies):
    assert controls.mapping_problems(policies) == []
    frameworks = {c["framework"] for c in policies["controls"]["controls"]}
    assert frameworks == {"servicetitan-isa", "soc2-tsc", "owasp-asvs"}
    ids = {c["id"] for c in policies["controls"]["controls"]}
    assert {"CC6.1", "CC6.7", "CC7.2", "ISA-SOC2-TYPE2", "ISA-ENCRYPTION", "ISA-INCIDENT-RESPONSE",
            "ISA-MAINTENANCE-NOTICES"} <= ids and any(i.startswith("V") for i in ids)


def test_a_control_is_only_as_proven_as_its_weakest_requirement_and_uncovered_ones_are_gaps(policies):
    statuses = {r["id"]: "met" for r in policies["requirements"]["requirements"]}
    view = controls.view(policies["controls"], _rows(statuses | {"SANDBOX-PROTOCOL": "pending",
                                                                 "FAIL-DRIFT": "waived"}))
    by_id = {c["id"]: c for c in view["controls"]}
    assert by_id["CC8.1"]["status"] == "pending"  # proved by the sandbox protocol, which awaits access
    assert by_id["CC7.2"]["status"] == "waived" and by_id["PI1.2"]["status"] == "waived"  # never met while waived
    assert by_id["CC6.1"]["status"] == "met" and by_id["CC6.1"]["scenarios"]
    gaps = [c for c in view["controls"] if c["status"] == "gap"]
    assert gaps and all(c["gap"] and not c["requirements"] for c in gaps)  # at least one honest gap, explained
    assert view["summary"]["gap"] == len(gaps) and view["summary"]["met"] < len(view["controls"])


def test_a_planned_requirement_does_not_make_its_control_met(policies):
    statuses = {r["id"]: "met" for r in policies["requirements"]["requirements"]} | {"WEBHOOK-INGEST": "uncovered"}
    view = controls.view(policies["controls"], _rows(statuses))
    assert {c["id"]: c["status"] for c in view["controls"]}["V13.1"] == "gap"


def test_the_packet_shows_the_mapping_and_the_gaps(policies):
    [text] = packets.security_packet(policies, []).values()
    section = text.split("## 7. By control", 1)[1]
    assert "`ISA-SOC2-TYPE2` An independent SOC 2 Type II report | none | gap:" in section
    assert "`CC6.1`" in section and "`SEC-NO-CREDENTIALS`" in section


@pytest.mark.parametrize(("change", "kind"), [
    (lambda d: d["requirements"].update({"SEC-NO-SUCH-THING": ["CC6.1"]}), "control-unknown-requirement"),
    (lambda d: d["requirements"]["FAIL-DRIFT"].append("CC9.9"), "control-unknown-control"),
    (lambda d: d["controls"].append({"id": "CC1.1", "framework": "soc2-tsc", "title": "x"}), "control-gap-unexplained"),
    (lambda d: d["controls"][0].update(framework="iso-27001"), "control-unknown-framework"),
    (lambda d: d["requirements"].update({"GATE-TRACE": ["CC4.1", "ISA-SOC2-TYPE2"]}), "control-gap-but-mapped"),
    (lambda d: d["requirements"].pop("PKG-MANUAL"), "control-requirement-unmapped"),
])
def test_each_mapping_problem_is_found(tmp_path, change, kind):
    import shutil

    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    edit_yaml(tmp_path / "policies" / "controls.yaml", change)
    found = controls.mapping_problems(PolicySet.load(tmp_path / "policies"))
    assert [f.kind for f in found] == [kind]
    assert found[0].subject.startswith("controls.yaml")


def test_the_gate_fails_on_a_mapped_requirement_that_does_not_exist(workspace):
    edit_yaml(workspace.policies / "controls.yaml", lambda d: d["requirements"].update({"SEC-NO-SUCH-THING": ["CC6.1"]}))
    result = workspace.run(tenants=["comfort-launch"])
    row = result.assert_fails(MAPPING_SCENARIO, "GATE-TRACE")
    assert "requirement SEC-NO-SUCH-THING is mapped to controls but is not in requirements.yaml" in row["reason"]
