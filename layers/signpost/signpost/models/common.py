"""Closed vocabularies of the API (API.md) and small shared shapes."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

# Ids are opaque (API.md): the service issues 32 hex digits; anything longer than this cannot
# exist and is answered as an unknown id (404), never refused for its shape.
MAX_ID_LENGTH = 128


def _examples(schema: dict[str, Any], cls: type[Any]) -> None:
    """A model's own `EXAMPLES` (not inherited ones) become its JSON schema's `examples`."""
    examples = cls.__dict__.get("EXAMPLES")
    if examples:
        schema["examples"] = examples


def _closed(schema: dict[str, Any], cls: type[Any]) -> None:
    schema["additionalProperties"] = False
    _examples(schema, cls)


class StrictModel(BaseModel):
    """Request models: unknown fields are rejected (API.md: 400). `EXAMPLES` document them."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra=_examples)
    EXAMPLES: ClassVar[list[dict[str, Any]]] = []


class OutModel(BaseModel):
    """Response models: the document says a response has exactly these fields, so a validator
    catches a field the document does not describe. `EXAMPLES` document them."""

    model_config = ConfigDict(extra="ignore", json_schema_extra=_closed)
    EXAMPLES: ClassVar[list[dict[str, Any]]] = []


class Role(StrEnum):
    LA_PRACTITIONER = "la_practitioner"
    LA_MANAGER = "la_manager"
    HEALTH = "health"
    EDUCATION = "education"
    POLICE = "police"
    AUDITOR = "auditor"
    ADMIN = "admin"


class OrgType(StrEnum):
    LOCAL_AUTHORITY = "local_authority"
    POLICE = "police"
    HEALTH = "health"
    EDUCATION = "education"
    NATIONAL = "national"


class Category(StrEnum):
    LOOKED_AFTER = "looked_after"
    CHILD_PROTECTION_PLAN = "child_protection_plan"
    CHILD_IN_NEED = "child_in_need"
    DOMESTIC_ABUSE = "domestic_abuse"


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    INDETERMINATE = "indeterminate"
    NOT_KNOWN = "not_known"


class SearchReason(StrEnum):
    SAFEGUARDING_CONCERN = "safeguarding_concern"
    NEW_TO_SERVICE = "new_to_service"
    REFERRAL = "referral"
    EMERGENCY_CARE = "emergency_care"
    POLICE_ENQUIRY = "police_enquiry"


class CloseReason(StrEnum):
    PLAN_ENDED = "plan_ended"
    MOVED_ABROAD = "moved_abroad"
    REACHED_ADULTHOOD = "reached_adulthood"
    DIED = "died"
    REGISTERED_IN_ERROR = "registered_in_error"


class ShieldingReason(StrEnum):
    """The published risk criteria: the only ways a child's signpost is shielded."""

    ADOPTION = "adoption"
    WITNESS_PROTECTION = "witness_protection"
    REFUGE = "refuge"
    COURT_ORDER = "court_order"


class RecordStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class Outcome(StrEnum):
    MATCH = "match"
    POSSIBLE_MATCH = "possible_match"
    NO_MATCH = "no_match"


class Contact(StrictModel):
    team: str = Field(min_length=1, max_length=200)
    phone: str = Field(min_length=3, max_length=40, pattern=r"^[0-9+() \-]+$")
    email: EmailStr
    out_of_hours_phone: str | None = Field(
        default=None, min_length=3, max_length=40, pattern=r"^[0-9+() \-]+$"
    )


class OrganisationRef(OutModel):
    code: str
    name: str


class Health(OutModel):
    status: Literal["ok"] = "ok"


class OpenApiDocument(OutModel):
    """An OpenAPI 3.1 document."""

    model_config = ConfigDict(extra="allow", json_schema_extra=_examples)

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
