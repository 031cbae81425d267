#!/usr/bin/env python3
"""Extract the operations the suite needs from ServiceTitan's published OpenAPI documents.

Writes ``readiness/schemas/servicetitan/<module>.json``: for each operation in ``OPERATIONS`` its request
body schema and the JSON schema of every response status, each with its ``$ref`` chains resolved into
one self-contained OpenAPI 3.0 Schema Object (Swagger 2.0's ``x-nullable`` becomes ``nullable``). Run it
again when ServiceTitan publishes new documents; the output is deterministic (sorted keys), so the diff
shows what ServiceTitan changed.

Usage: python tools/extract_openapi.py [/work/shared/servicetitan-openapi]
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from urllib.parse import urlparse

OUT = Path(__file__).resolve().parent.parent / "readiness" / "schemas" / "servicetitan"
DEFAULT_SOURCE = Path("/work/shared/servicetitan-openapi")

# module -> [(method, path below /<module>/v2/tenant/{tenant})]: catalog lists and exports the intake imports and
# the conformance check judges, plus the bodies the sandbox protocol sends and the simulator answers.
OPERATIONS: dict[str, list[tuple[str, str]]] = {
    "jpm": [("get", "job-types"), ("get", "jobs"), ("get", "export/jobs")],
    "settings": [("get", "business-units"), ("get", "export/business-units")],
    "dispatch": [("get", "zones")],
    "marketing": [("get", "campaigns")],
    "memberships": [("get", "membership-types"), ("get", "export/membership-types")],
    "pricebook": [("get", "services"), ("get", "export/services"), ("get", "materials"), ("get", "export/materials"),
                  ("get", "equipment"), ("get", "export/equipment"), ("get", "categories")],
    "accounting": [("get", "invoices"), ("get", "export/invoices"), ("get", "payments"), ("get", "export/payments")],
    "crm": [("get", "bookings"), ("get", "export/bookings"), ("post", "leads/form"), ("post", "leads"),
            ("get", "leads"), ("get", "export/leads"),
            ("get", "booking-provider/{booking_provider}/bookings"),
            ("post", "booking-provider/{booking_provider}/bookings")],
    "marketingads": [("get", "attributed-leads"), ("post", "web-booking-attributions"),
                     ("post", "web-lead-form-attributions"), ("post", "job-attributions"),
                     ("post", "external-call-attributions")],
}
# Keys that document a schema but never constrain a body (discriminator mappings point at $refs we inline).
DROPPED = {"example", "examples", "xml", "externalDocs", "discriminator", "description", "title"}


def base_path(doc: dict) -> str:
    return urlparse(doc["servers"][0]["url"]).path if "servers" in doc else doc.get("basePath", "")


def self_contained(schema: dict, doc: dict) -> dict:
    """``schema`` with its ``$ref`` chains inlined; a recursive schema (pricebook categories hold subcategories)
    becomes a ``definitions`` entry of the result, referred to as ``#/definitions/<name>``."""
    recursive: dict[str, dict | None] = {}
    root = resolve(schema, doc, (), recursive)
    while None in recursive.values():
        for ref, body in list(recursive.items()):
            if body is None:
                recursive[ref] = resolve(target_of(ref, doc), doc, (ref,), recursive)
    if recursive:
        root["definitions"] = {ref.rsplit("/", 1)[1]: body for ref, body in sorted(recursive.items())}
    return root


def target_of(ref: str, doc: dict) -> dict:
    target = doc
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return target


def resolve(node, doc: dict, trail: tuple[str, ...], recursive: dict):
    """``node`` with every local ``$ref`` replaced by its target, except one that refers back to a schema it is
    inside of: that one is kept, pointing at ``definitions``, and noted in ``recursive``."""
    if isinstance(node, list):
        return [resolve(item, doc, trail, recursive) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        if ref in trail:
            recursive.setdefault(ref, None)
            return {"$ref": "#/definitions/" + ref.rsplit("/", 1)[1]}
        return resolve(target_of(ref, doc), doc, trail + (ref,), recursive)
    out = {}
    for key, value in node.items():
        if key in DROPPED:
            continue
        if key == "x-nullable":
            if value:
                out["nullable"] = True
            continue
        if key == "properties":
            out[key] = {name: resolve(sub, doc, trail, recursive) for name, sub in value.items()}
        else:
            out[key] = resolve(value, doc, trail, recursive)
    return nullable_alternatives(out)


def nullable_alternatives(schema: dict) -> dict:
    """ServiceTitan's generator marks a referenced property ``nullable`` beside ``oneOf``/``allOf`` without a
    ``type``; OpenAPI 3.0.3 lets ``nullable`` act only beside ``type``, so the published bodies (``warranty:
    null``) would fail. Move ``nullable`` into each alternative, as the documents mean it."""
    if not schema.get("nullable") or "type" in schema:
        return schema
    for combiner in ("oneOf", "anyOf", "allOf"):
        if combiner in schema:
            schema[combiner] = [{**alternative, "nullable": True} for alternative in schema[combiner]]
            if combiner == "oneOf" and len(schema[combiner]) > 1:
                schema["anyOf"] = schema.pop("oneOf")  # null matches every alternative now
    return schema


def request_schema(op: dict):
    if "requestBody" in op:
        return op["requestBody"].get("content", {}).get("application/json", {}).get("schema")
    return next((p["schema"] for p in op.get("parameters", []) if p.get("in") == "body"), None)


def response_schemas(op: dict) -> dict[str, dict]:
    found = {}
    for status, response in op.get("responses", {}).items():
        schema = response["content"].get("application/json", {}).get("schema") if "content" in response \
            else response.get("schema")
        if schema is not None:
            found[status] = schema
    return found


def extract(source: Path, module: str, wanted: list[tuple[str, str]]) -> dict:
    name = f"{module}.json"
    doc = json.loads((source / name).read_text())
    base = base_path(doc)
    operations = {}
    for method, rest in wanted:
        full = f"/{module}/v2/tenant/{{tenant}}/{rest}"
        local = full if not base else f"/tenant/{{tenant}}/{rest}"
        op = doc["paths"][local][method]
        request = request_schema(op)
        operations[f"{method.upper()} {full}"] = {
            "operationId": op.get("operationId"),
            "request": self_contained(request, doc) if request is not None else None,
            "responses": {status: self_contained(schema, doc) for status, schema in response_schemas(op).items()},
        }
    return {
        "source": f"ServiceTitan's published OpenAPI document {name} ({doc.get('openapi') or 'swagger ' + doc['swagger']}, "
                  f"{doc.get('info', {}).get('title', module)}), extracted by tools/extract_openapi.py",
        "operations": operations,
    }


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else DEFAULT_SOURCE
    OUT.mkdir(parents=True, exist_ok=True)
    for module, wanted in OPERATIONS.items():
        target = OUT / f"{module}.json"
        target.write_text(json.dumps(extract(source, module, wanted), indent=1, sort_keys=True) + "\n")
        print(f"{target.relative_to(OUT.parent.parent.parent)}: {len(wanted)} operations, {target.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
