"""One source of truth for each ServiceTitan fact: endpoints and scopes live in ``readiness.servicetitan.catalog``,
request and response bodies in the published schemas it reads (``readiness.servicetitan.openapi``); the
simulator, the client, the protocol, the handoff, the matrix checks and the data boundaries read them there."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from readiness.access import matrix
from readiness.core.policy import PolicySet
from readiness.core.tenants import FixtureTenant
from readiness.sandbox import protocol
from readiness.sandbox import simulator as sim
from readiness.servicetitan import catalog

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "readiness"
CATALOG_MODULE = LIBRARY / "servicetitan" / "catalog.py"
OPENAPI_MODULE = LIBRARY / "servicetitan" / "openapi.py"
POLICIES = PolicySet.load(ROOT / "policies")
TENANTS = [FixtureTenant(p) for p in sorted((ROOT / "fixtures" / "tenants").iterdir()) if (p / "tenant.yaml").exists()]
SCOPE = re.compile(r"tn\.[a-z]+\.[a-z0-9]+:[rw]")
# A path of the tenant API, or one below the tenant (plain words like "leads" name fixture folders too).
ENDPOINT_PATH = re.compile(r"/v2/tenant/|booking-provider/|^leads/form$|^[a-z-]+-attributions$")


def test_every_operation_is_a_published_endpoint_with_its_published_scope_and_body():
    for operation in catalog.OPERATIONS:
        assert catalog.scope_of(operation.method, operation.template) == operation.scope
        if operation.method == "POST":
            assert catalog.request_fields(operation), operation


def test_the_simulator_serves_exactly_catalog_operations():
    served = [endpoint.operation for endpoint in sim.ENDPOINTS]
    assert all(any(op is known for known in catalog.OPERATIONS) for op in served)
    assert {(e.method, e.module, e.pattern, e.scope) for e in sim.ENDPOINTS} == {
        (op.method, op.module, op.path, op.scope) for op in served}


def test_the_client_calls_only_catalog_operations():
    """Every path the reference client sent during the whole protocol is a catalog operation's."""
    tests = yaml.safe_load((ROOT / "policies" / "sandbox-protocol.yaml").read_text())["tests"]
    context = protocol.context(POLICIES)
    sent = set()
    for test in tests:
        session = protocol.simulator_session(protocol.pick_simulator_tenant(TENANTS), "catalog-test")
        outcome = protocol.run(session, test, context)
        sent |= {(e["method"], e["path"]) for e in outcome.transcript if e["path"] != "/connect/token"}
    unknown = sorted(f"{m} {p}" for m, p in sent if catalog.called(m, p) is None)
    # the protocol's own refusal probes (wrong key, foreign tenant) still call catalog paths
    assert sent and not unknown, unknown


def test_the_protocol_probes_and_the_matrix_endpoints_take_scopes_from_the_catalog():
    for probe in protocol.family_probes(POLICIES):
        assert probe.operation.scope == probe.scope
    assert not matrix.published_endpoints(matrix.Matrix(POLICIES))


def _python_sources(library: Path):
    """The library's modules except the catalog and the reader of the published documents."""
    owners = {library / CATALOG_MODULE.relative_to(LIBRARY), library / OPENAPI_MODULE.relative_to(LIBRARY)}
    return [p for p in sorted(library.rglob("*.py")) if p not in owners]


def _string_constants(path: Path):
    tree = ast.parse(path.read_text(), str(path))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node


def _scopes_and_paths(library: Path):
    for path in _python_sources(library):
        for node in _string_constants(path):
            if SCOPE.search(node.value) or ENDPOINT_PATH.search(node.value):
                yield f"{path.relative_to(library.parent)}:{node.lineno} {node.value!r}"


def test_no_module_but_the_catalog_names_a_scope_or_an_endpoint_path():
    found = list(_scopes_and_paths(LIBRARY))
    assert not found, "ServiceTitan endpoints and scopes belong in readiness/servicetitan/catalog.py:\n" + "\n".join(found)


def _field_lists(library: Path):
    """Every literal set, list or tuple outside the catalog, with the string constants in it."""
    for path in _python_sources(library):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, (ast.Set, ast.List, ast.Tuple)):
                continue  # a dict literal is a record (synthetic exports), not a list of a request's fields
            items = node.elts
            names = {i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str)}
            yield f"{path.relative_to(library.parent)}:{node.lineno}", names


POSTS = [op for op in catalog.OPERATIONS if op.method == "POST"]


def _field_list_copies(operation, library: Path) -> list[str]:
    """Literals holding three or more of one request body's field names (or its web session's)."""
    # Words the website's own records use too (a lead's name, address parts) are not ServiceTitan's to own.
    common = {"name", "summary", "source", "address", "priority", "start"}
    fields = set(catalog.request_fields(operation)) - common
    for field in set(catalog.request_fields(operation)) - common:
        fields |= set(catalog.subfields(operation, field))
    return [f"{where}: {sorted(names & fields)}" for where, names in _field_lists(library) if len(names & fields) >= 3]


@pytest.mark.parametrize("operation", POSTS, ids=[op.path for op in POSTS])
def test_no_module_but_the_catalog_lists_the_fields_of_a_request_body(operation):
    """A second copy of a published field list, like the simulator's BOOKING_FIELDS once was."""
    copies = _field_list_copies(operation, LIBRARY)
    assert not copies, f"{operation.path} fields listed outside the catalog:\n" + "\n".join(copies)


def test_a_second_field_list_is_caught(tmp_path):
    # Planted in a library folder of its own: a file added to the real package would be seen (and imported) by
    # tests running at the same time on the other xdist worker.
    library = tmp_path / "readiness"
    (library / "sandbox").mkdir(parents=True)
    (library / "sandbox" / "_planted_copy.py").write_text(
        'BOOKING = {"externalId", "isFirstTimeClient", "customerType", "campaignId"}\n'
        'PATH = "/crm/v2/tenant/{tenant}/leads/form"\n')
    [copy] = _field_list_copies(catalog.CREATE_BOOKING, library)
    assert copy.startswith("readiness/sandbox/_planted_copy.py:1:")
    [mention] = _scopes_and_paths(library)
    assert mention.startswith("readiness/sandbox/_planted_copy.py:2 ")


def test_no_policy_restates_the_booking_create_fields():
    """Policies say what the product may send (envelopes.yaml); what ServiceTitan takes is the catalog's."""
    assert "booking_create" not in POLICIES["data-boundaries"]
    create = set(catalog.request_fields(catalog.CREATE_BOOKING))
    assert set(POLICIES["envelopes"]["booking"]["fields"]) <= create
