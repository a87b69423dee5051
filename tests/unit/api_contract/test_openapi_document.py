"""The published OpenAPI document as a contract: what client generators and validators rely on."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from importlib import resources
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from signpost.authz import ROLE_PERMISSIONS
from signpost.errors import status_phrase

PROBLEM_JSON = "application/problem+json"
# Property names that hold a closed vocabulary wherever they appear.
VOCABULARY = {"status", "type", "reason", "action", "outcome", "role", "direction", "sex", "categories"}
IDEMPOTENT = {"registerChild", "requestTransfer"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(resources.files("signpost").joinpath("openapi.json").read_text(encoding="utf-8"))


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield method.upper(), path, operation


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_operation_ids_are_short_hand_written_and_unique(document: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in operations(document)]
    assert len(ids) == len(set(ids))
    for operation_id in ids:
        assert re.fullmatch(r"[a-z][A-Za-z]{2,30}", operation_id), operation_id


def test_each_operation_names_the_roles_that_may_call_it_from_the_role_table(
    document: dict[str, Any],
) -> None:
    for method, path, op in operations(document):
        roles = op["x-signpost-roles"]
        assert set(roles) <= {role.value for role in ROLE_PERMISSIONS}, (method, path)
        if path in ("/health", "/openapi.json"):
            assert roles == []
            assert op["security"] == []
            assert op["description"].startswith("**Who may call it:** anyone, without a token.")
        else:
            assert roles, (method, path)
            named = re.match(r"\*\*Who may call it:\*\* roles (.+?)\.\n", op["description"])
            assert named, (method, path)
            assert re.findall(r"`(\w+)`", named.group(1)) == roles
        assert op["summary"]
        assert len(op["description"]) > 60, (method, path)


def test_roles_follow_authz(document: dict[str, Any]) -> None:
    by_id = {op["operationId"]: op["x-signpost-roles"] for _, _, op in operations(document)}
    assert by_id["registerChild"] == ["la_practitioner", "la_manager"]
    assert by_id["breakGlass"] == ["la_manager"]
    assert by_id["putOrganisation"] == ["admin"]
    assert "auditor" in by_id["getAccessLog"]
    assert "police" in by_id["searchChildren"]
    assert "police" not in by_id["getChild"]


def test_every_error_is_problem_json_with_a_specific_description(document: dict[str, Any]) -> None:
    for method, path, op in operations(document):
        assert "422" not in op["responses"], (method, path)
        for status, response in op["responses"].items():
            if int(status) < 400:
                continue
            assert list(response["content"]) == [PROBLEM_JSON], (method, path, status)
            media = response["content"][PROBLEM_JSON]
            schema = resolve(document, media["schema"])
            assert {"type", "title", "status", "detail"} <= set(schema["properties"])
            example = media["examples"]["problem"]["value"]
            assert example["title"] == status_phrase(int(status))
            assert len(response["description"]) > 25, (method, path, status)
            assert response["description"] != "Problem"


def test_register_409_is_problem_json_with_signposts(document: dict[str, Any]) -> None:
    conflict = document["paths"]["/v1/children"]["post"]["responses"]["409"]
    schema = resolve(document, conflict["content"][PROBLEM_JSON]["schema"])
    signposts = schema["properties"]["signposts"]["anyOf"][0]
    assert signposts["items"]["$ref"].endswith("/SignpostOut")
    assert conflict["content"][PROBLEM_JSON]["examples"]["problem"]["value"]["signposts"]


def test_headers_are_documented(document: dict[str, Any]) -> None:
    for method, path, op in operations(document):
        responses = op["responses"]
        if "401" in responses:
            assert responses["401"]["headers"]["WWW-Authenticate"]["required"] is True
        assert responses["429"]["headers"]["Retry-After"]["required"] is True, (method, path)
        names = [p["name"] for p in op.get("parameters", []) if p["in"] == "header"]
        assert ("Idempotency-Key" in names) == (op["operationId"] in IDEMPOTENT), (method, path)
    assert document["paths"]["/v1/children"]["post"]["responses"]["201"]["headers"]["Location"]["required"]


def test_no_unused_or_framework_schemas(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert not {"HTTPValidationError", "ValidationError", "ResponseValidationError"} & set(schemas)
    text = json.dumps(document["paths"])
    reached: set[str] = set()
    pending = set(re.findall(r"#/components/schemas/(\w+)", text))
    while pending:
        name = pending.pop()
        reached.add(name)
        pending |= set(re.findall(r"#/components/schemas/(\w+)", json.dumps(schemas[name]))) - reached
    assert set(schemas) == reached


def test_the_document_documents_itself(document: dict[str, Any]) -> None:
    assert document["paths"]["/openapi.json"]["get"]["operationId"] == "getOpenApiDocument"


def test_closed_vocabularies_are_enums(document: dict[str, Any]) -> None:
    open_ones = []
    for name, schema in document["components"]["schemas"].items():
        for prop, definition in schema.get("properties", {}).items():
            if prop not in VOCABULARY or definition.get("type") == "integer":
                continue
            text = json.dumps(definition)
            if '"enum"' not in text and '"const"' not in text and "$ref" not in text:
                open_ones.append(f"{name}.{prop}")
    assert open_ones == []
    entry = document["components"]["schemas"]["AccessLogEntry"]["properties"]
    assert {"action", "reason", "outcome", "role"} <= {p for p, d in entry.items() if "$ref" in json.dumps(d)}
    assert "TransferStatus" in json.dumps(document["components"]["schemas"]["OpenTransfer"])


def test_field_rules_are_in_the_schema(document: dict[str, Any]) -> None:
    register = document["components"]["schemas"]["RegisterRequest"]["properties"]
    nhs = register["nhs_number"]["anyOf"][0]
    assert re.fullmatch(nhs["pattern"], "943 476 5919")
    assert not re.fullmatch(nhs["pattern"], "94347659")
    postcode = register["postcode"]["anyOf"][0]
    assert re.fullmatch(postcode["pattern"], "sw1a1aa")
    assert not re.fullmatch(postcode["pattern"], "ZZ99 ZZZZ")
    assert register["date_of_birth"]["format"] == "date"
    assert "YYYY-MM-DD" in register["date_of_birth"]["description"]
    assert "YYYY-MM-DD" in register["review_by"]["description"]


def test_examples_conform_to_their_schemas(document: dict[str, Any]) -> None:
    registry = Registry().with_resource(
        "urn:signpost", Resource(contents=document, specification=DRAFT202012)
    )
    checked = 0

    def validator(schema: dict[str, Any]) -> Draft202012Validator:
        rebased = json.loads(json.dumps(schema).replace('"#/components', '"urn:signpost#/components'))
        return Draft202012Validator(rebased, registry=registry)

    for name, schema in document["components"]["schemas"].items():
        for example in schema.get("examples", []):
            errors = list(validator(schema).iter_errors(example))
            assert not errors, (name, [e.message for e in errors])
            checked += 1
    for method, path, op in operations(document):
        for status, response in op["responses"].items():
            for media in response.get("content", {}).values():
                for example in media.get("examples", {}).values():
                    errors = list(validator(media["schema"]).iter_errors(example["value"]))
                    assert not errors, (method, path, status, [e.message for e in errors])
                    checked += 1
    assert checked > 100
