"""Who may do what: the one role table of API.md, deny by default.

The caller comes from the authorizer's context (the verified token plus the
directory entry of its organisation), never from a request body.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from signpost.errors import Forbidden, Unauthorised
from signpost.models.common import OrgType, Role

# How a sensitive service (e.g. a sexual-health clinic) appears anywhere outside the audit.
SENSITIVE_SERVICE_LABEL = "a health service"


class Action(StrEnum):
    MANAGE_RECORDS = "manage_records"  # register / read / update / close / transfer own LA's children
    SEARCH = "search"
    INBOX = "inbox"
    ACCESS_LOG = "access_log"  # own children's (LA) or any child's (auditor)
    ACCESS_LOG_OWN = "access_log_own"
    ACCESS_LOG_ANY = "access_log_any"
    READ_DIRECTORY = "read_directory"
    BREAK_GLASS = "break_glass"
    MANAGE_SHIELDING = "manage_shielding"
    SUBJECT_ACCESS = "subject_access"
    DIRECTORY_ADMIN = "directory_admin"
    IMPORT = "import"


_LA = frozenset(
    {
        Action.MANAGE_RECORDS,
        Action.SEARCH,
        Action.INBOX,
        Action.ACCESS_LOG,
        Action.ACCESS_LOG_OWN,
        Action.IMPORT,
        Action.READ_DIRECTORY,
    }
)

ROLE_PERMISSIONS: Mapping[Role, frozenset[Action]] = {
    Role.LA_PRACTITIONER: _LA,
    Role.LA_MANAGER: _LA | {Action.BREAK_GLASS, Action.MANAGE_SHIELDING, Action.SUBJECT_ACCESS},
    Role.HEALTH: frozenset({Action.SEARCH, Action.READ_DIRECTORY}),
    Role.EDUCATION: frozenset({Action.SEARCH, Action.READ_DIRECTORY}),
    Role.POLICE: frozenset({Action.SEARCH, Action.READ_DIRECTORY}),
    Role.AUDITOR: frozenset({Action.ACCESS_LOG, Action.ACCESS_LOG_ANY, Action.READ_DIRECTORY}),
    Role.ADMIN: frozenset({Action.DIRECTORY_ADMIN, Action.READ_DIRECTORY}),
}

# A role belongs to one type of organisation; any other pairing is refused (401).
ROLE_ORG_TYPE: Mapping[Role, OrgType] = {
    Role.LA_PRACTITIONER: OrgType.LOCAL_AUTHORITY,
    Role.LA_MANAGER: OrgType.LOCAL_AUTHORITY,
    Role.HEALTH: OrgType.HEALTH,
    Role.EDUCATION: OrgType.EDUCATION,
    Role.POLICE: OrgType.POLICE,
    Role.AUDITOR: OrgType.NATIONAL,
    Role.ADMIN: OrgType.NATIONAL,
}


def role_fits_org(role: str, org_type: str) -> bool:
    try:
        return ROLE_ORG_TYPE[Role(role)] == OrgType(org_type)
    except ValueError:
        return False


@dataclass(frozen=True)
class Caller:
    sub: str
    org: str
    role: Role
    org_type: OrgType
    org_name: str
    area: str | None
    sensitive_service: bool

    def can(self, action: Action) -> bool:
        return action in ROLE_PERMISSIONS.get(self.role, frozenset())

    def require(self, action: Action) -> None:
        if not self.can(action):
            raise Forbidden("your role may not do this")

    @property
    def is_police(self) -> bool:
        return self.role == Role.POLICE

    def as_context(self) -> dict[str, str]:
        """The authorizer's context (API Gateway passes string values only)."""
        return {
            "sub": self.sub,
            "org": self.org,
            "role": self.role.value,
            "org_type": self.org_type.value,
            "org_name": self.org_name,
            "org_area": self.area or "",
            "sensitive_service": "true" if self.sensitive_service else "false",
            # What API Gateway's access log may record: a sensitive service is never named there.
            "shown_org": SENSITIVE_SERVICE_LABEL if self.sensitive_service else self.org,
        }

    @classmethod
    def from_context(cls, context: Mapping[str, Any] | None) -> Caller:
        """Rebuild the caller from `requestContext.authorizer`; anything malformed is 401."""
        if not context:
            raise Unauthorised("missing caller context")
        try:
            role = Role(str(context["role"]))
            org_type = OrgType(str(context["org_type"]))
            sub, org = str(context["sub"]), str(context["org"])
        except (KeyError, ValueError) as exc:
            raise Unauthorised("invalid caller context") from exc
        if not sub or not org or ROLE_ORG_TYPE[role] != org_type:
            raise Unauthorised("invalid caller context")
        return cls(
            sub=sub,
            org=org,
            role=role,
            org_type=org_type,
            org_name=str(context.get("org_name", "")),
            area=str(context.get("org_area") or "") or None,
            sensitive_service=str(context.get("sensitive_service", "false")).lower() == "true",
        )
