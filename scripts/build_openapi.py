"""Generate the OpenAPI document from the handlers' own routes and models.

Every API function's resolver is merged (Powertools OpenAPIMerge) into one document,
written into the shared layer so that GET /openapi.json serves it. `make openapi`
runs this; a test fails when the committed document is out of date.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "layers" / "signpost" / "signpost" / "openapi.json"
API_FUNCTIONS = ("records", "search", "transfers", "inbox", "imports")

DESCRIPTION = """\
Signpost answers one question for a professional anywhere in England: is this child known to
children's services, and whom do I call? See API.md for the contract. Every /v1 request carries
`Authorization: Bearer <JWT>`; every error is `application/problem+json` (RFC 9457).
"""


def build() -> dict[str, Any]:
    merge = OpenAPIMerge(
        title="Signpost API",
        version="1.0.0",
        description=DESCRIPTION,
        security_schemes={"bearer": HTTPBearer(scheme="bearer", bearerFormat="JWT")},
        security=[{"bearer": []}],
        on_conflict="error",
    )
    for name in API_FUNCTIONS:
        path = ROOT / "functions" / name / "app.py"
        if path.exists():
            merge.add_file(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a handler that fails to import must fail the build
        schema: dict[str, Any] = json.loads(merge.get_openapi_json_schema())
    _problem_responses(schema)
    return schema


def _problem_responses(schema: dict[str, Any]) -> None:
    """Document the problem+json errors every operation can answer, and open /health."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = {
        "type": "object",
        "required": ["type", "title", "status"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                    "required": ["field", "message"],
                },
            },
        },
        "additionalProperties": True,
    }
    problem = {
        "description": "Problem",
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)  # validation errors are 400 problem+json here
            codes = ["400", "500"] if path == "/health" else ["400", "401", "403", "404", "409", "429", "500"]
            if "requestBody" in operation:
                codes += ["413", "415"]
            for code in codes:
                responses.setdefault(code, problem)
            if path == "/health":
                operation["security"] = []


def main() -> int:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "layers" / "signpost"))
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
