"""The organisation directory as the API shows it.

Changing an entry is audited like any action on a child: who changed which field of which
organisation, with the old and the new value, on the entry's own chain (`DIRECTORY#<code>`, the
chain `signpost-admin directory apply` appends to too),
in the same transaction as the change. Redirecting a local authority's `manager_contact` is
how an insider would steer shielded signposts, so it must never go unrecorded. (Directory
entries describe organisations, not children: their values may be kept in the audit.)
"""

from __future__ import annotations

from typing import Any, Protocol

from signpost.authz import Action, Caller
from signpost.errors import BadRequest, NotFound
from signpost.logic.audit_trail import AuditTrail, commit_with_retries, directory_chain
from signpost.logic.services import Services
from signpost.models.domain import Changes
from signpost.models.organisation import Organisation, OrganisationIn

AUDITED_FIELDS = ("name", "type", "area", "sensitive_service", "contact", "manager_contact", "active")


class Directory(Protocol):
    def get(self, code: str) -> Organisation | None: ...
    def put(self, organisation: Organisation) -> None: ...


def get_organisation(directory: Directory, caller: Caller, code: str) -> Organisation:
    del caller  # any authenticated caller may read the directory
    org = directory.get(code)
    if org is None:
        raise NotFound("no such organisation")
    return org


def put_organisation(
    services: Services, caller: Caller, code: str, body: OrganisationIn
) -> tuple[Organisation, bool]:
    """Create or replace an entry; the entry and its audit entry are written together."""
    caller.require(Action.DIRECTORY_ADMIN)
    if body.code != code:
        raise BadRequest(
            "the code in the body must match the path",
            errors=[{"field": "code", "message": "must match the path"}],
        )
    org = Organisation.model_validate(body.model_dump())

    def attempt() -> bool:
        # Read uncached: the old values go into the audit. Two admins racing on one entry
        # race on its chain too, so each audit entry's old values are what it replaced.
        before = services.store.directory.current(code)
        changes = Changes(put_organisations=[org])
        AuditTrail(services, caller).add(
            changes,
            directory_chain(code),
            "organisation_create" if before is None else "organisation_update",
            details={"changes": field_changes(before, org)},
        )
        services.store.commit(changes)
        return before is None

    return org, commit_with_retries(attempt)


def field_changes(before: Organisation | None, after: Organisation) -> dict[str, dict[str, Any]]:
    """{field: {"old": ..., "new": ...}} for every audited field the change sets or alters."""
    old = before.model_dump(mode="json") if before else {}
    new = after.model_dump(mode="json")
    return {
        name: {"old": old.get(name), "new": new.get(name)}
        for name in AUDITED_FIELDS
        if before is None or old.get(name) != new.get(name)
    }
