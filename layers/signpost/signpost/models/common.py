"""Closed vocabularies of the API (API.md) and small shared shapes."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, EmailStr, Field

# Ids are opaque (API.md): the service issues 32 hex digits; anything longer than this cannot
# exist and is answered as an unknown id (404), never refused for its shape.
MAX_ID_LENGTH = 128


class StrictModel(BaseModel):
    """Request models: unknown fields are rejected (API.md: 400)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OutModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


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
    status: str = "ok"
