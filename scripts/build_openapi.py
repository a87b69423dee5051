"""Generate the OpenAPI document from the handlers' own routes and models.

Each API function's Powertools resolver describes its routes (through `signpost.api_doc.operation`);
the resolvers are merged (Powertools OpenAPIMerge) into one document, completed here with what every
route shares - the standard problem+json errors and their headers, the roles that may call each route
(from `signpost.authz`, the one role table), the Idempotency-Key header - and written into the shared
layer, so that GET /openapi.json serves it. `make openapi` runs this; `make test` fails when the
committed document is out of date (`--check`).
"""

from __future__ import annotations

import importlib
import json
import re
import sys
import warnings
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from pydantic.json_schema import models_json_schema
from signpost.api_doc import IDEMPOTENT, PROBLEM_JSON, STANDARD_ERRORS, problem_doc
from signpost.authz import ROLE_PERMISSIONS
from signpost.models.problems import DuplicateChildProblem, Problem, ValidationProblem

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "layers" / "signpost" / "signpost" / "openapi.json"
API_FUNCTIONS = ("records", "search", "transfers", "inbox", "imports")
SCHEMAS = "#/components/schemas/"

DESCRIPTION = """\
Signpost answers one question for a professional anywhere in England: is this child known to
children's services, and whom do I call? `docs/API.md` in the repository is the reader's copy of
this contract.

Every `/v1` request carries `Authorization: Bearer <JWT>` (claims `sub`, `org`, `role`); each
operation says which roles may call it. A record the caller may not see answers exactly as one
that does not exist (404). Every error is `application/problem+json` (RFC 9457) with `type:
about:blank`, the HTTP status phrase as `title`, a `detail`, and for invalid requests `errors:
[{field, message}]`. No error ever quotes a child's name, date of birth, NHS number or postcode.

Bodies are JSON (`Content-Type: application/json`; a body without it is 415). Dates are
`YYYY-MM-DD` (the date in England), timestamps RFC 3339 UTC. Unknown fields are refused (400).
"""
TAGS = [
    {"name": "children", "description": "The signpost records: register, read, correct, close; who looked"},
    {"name": "search", "description": "Is this child known, and whom do I call?"},
    {"name": "transfers", "description": "A child moves between local authorities"},
    {"name": "imports", "description": "Bulk CSV import of a local authority's existing caseload"},
    {"name": "notifications", "description": "Each organisation's inbox"},
    {"name": "directory", "description": "The organisations Signpost knows"},
    {"name": "service", "description": "Health and this document"},
]
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Makes a retry safe: a retry with the same key and body answers the first "
    "response again (nothing is done twice); the same key with another body is 409. A key is the "
    "practitioner's own and is kept for 24 hours.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    "example": "camden-2026-0001",
}
NO_FIELDS_BODY = {
    "required": False,
    "description": "Takes no fields: send no body, or `{}`.",
    "content": {"application/json": {"schema": {"type": "object", "maxProperties": 0}, "example": {}}},
}
WRITES = ("post", "put", "patch")


def build() -> dict[str, Any]:
    merge = OpenAPIMerge(
        title="Signpost API",
        version="1.0.0",
        description=DESCRIPTION,
        security_schemes={"bearer": HTTPBearer(scheme="bearer", bearerFormat="JWT")},
        security=[{"bearer": []}],
        on_conflict="error",
    )
    resolvers = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a handler that fails to import must fail the build
        for name in API_FUNCTIONS:
            if (ROOT / "functions" / name / "app.py").exists():
                resolver = importlib.import_module(f"functions.{name}.app").app
                resolvers.append(resolver)
                merge.add_schema(resolver.get_openapi_schema())
        schema: dict[str, Any] = json.loads(merge.get_openapi_json_schema())
    complete(schema, resolvers)
    return schema


def complete(schema: dict[str, Any], resolvers: list[Any]) -> None:
    """What every operation shares: roles, standard errors and their headers, request headers."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    _add_models(components, [Problem, ValidationProblem, DuplicateChildProblem])
    schema["tags"] = [tag for tag in TAGS if _tag_used(schema, tag["name"])]
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            public, roles = _who(resolvers, method.upper(), path)
            operation["description"] = _describe(operation.get("description", ""), public, roles)
            operation["x-signpost-roles"] = roles
            if public:
                operation["security"] = []
            if method in WRITES and "requestBody" not in operation:
                operation["requestBody"] = NO_FIELDS_BODY
            if operation.pop(IDEMPOTENT, False):
                operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)  # validation errors are 400 problem+json here
            for status in _standard_statuses(path, method, operation, public):
                if str(status) not in responses:
                    responses[str(status)] = _as_refs(problem_doc(status, STANDARD_ERRORS[status]))
            for status, response in responses.items():
                if PROBLEM_JSON in response.get("content", {}) and int(status) == 403 and roles:
                    response["description"] = response["description"].replace(
                        "(see the roles above)", "(" + _roles_text(roles) + ")"
                    )
    _drop_unused(schema)


def _who(resolvers: list[Any], method: str, path: str) -> tuple[bool, list[str]]:
    """(public, the roles that may call it), from the resolver's route table and signpost.authz."""
    for resolver in resolvers:
        route = (method, path)
        if route in getattr(resolver, "public", ()):
            return True, []
        action = getattr(resolver, "permissions", {}).get(route)
        if action is not None:
            return False, [role.value for role, actions in ROLE_PERMISSIONS.items() if action in actions]
    raise SystemExit(f"{method} {path} is neither in a resolver's permissions nor public: deny by default")


def _roles_text(roles: list[str]) -> str:
    return "roles " + ", ".join(f"`{role}`" for role in roles)


def _describe(description: str, public: bool, roles: list[str]) -> str:
    who = "anyone, without a token" if public else _roles_text(roles)
    return f"**Who may call it:** {who}.\n\n{description}".strip()


def _standard_statuses(path: str, method: str, operation: dict[str, Any], public: bool) -> list[int]:
    statuses = [403, 429, 500]  # the web application firewall, throttling and faults reach every route
    if not public:
        statuses += [401, 503]
    if operation.get("parameters") or method in WRITES:
        statuses.append(400)
    if re.search(r"\{[^}]+\}", path):
        statuses.append(404)
    if method in WRITES:
        statuses += [413, 415]
    return sorted(statuses)


def _as_refs(response: Any) -> dict[str, Any]:
    """A response from api_doc with its pydantic model replaced by a reference to the component."""
    doc = dict(response)
    doc["content"] = {
        media: {
            **{k: v for k, v in body.items() if k != "model"},
            "schema": {"$ref": SCHEMAS + body["model"].__name__},
        }
        for media, body in response["content"].items()
    }
    return doc


def _add_models(components: dict[str, Any], models: list[Any]) -> None:
    _, top = models_json_schema([(m, "serialization") for m in models], ref_template=SCHEMAS + "{model}")
    for name, definition in top.get("$defs", {}).items():
        components.setdefault(name, definition)


def _tag_used(schema: dict[str, Any], tag: str) -> bool:
    return any(tag in op.get("tags", []) for ops in schema.get("paths", {}).values() for op in ops.values())


def _drop_unused(schema: dict[str, Any]) -> None:
    """Remove component schemas that no operation reaches (e.g. Powertools' 422 shapes)."""
    components = schema["components"]["schemas"]
    reached: set[str] = set()
    pending = _refs(schema["paths"])
    while pending:
        name = pending.pop()
        if name not in reached and name in components:
            reached.add(name)
            pending |= _refs(components[name])
    for name in set(components) - reached:
        del components[name]


def _refs(node: Any) -> set[str]:
    text = json.dumps(node)
    return set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', text))


def main() -> int:
    sys.path.insert(0, str(ROOT))  # the functions package
    text = json.dumps(build(), indent=2, sort_keys=True) + "\n"
    if "--check" in sys.argv:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print("openapi.json is out of date: run `make openapi`", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({len(json.loads(text)['paths'])} paths)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
