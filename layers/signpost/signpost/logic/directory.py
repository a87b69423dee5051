"""The organisation directory as the API shows it."""

from __future__ import annotations

from typing import Protocol

from signpost.authz import Action, Caller
from signpost.errors import BadRequest, NotFound
from signpost.models.organisation import Organisation, OrganisationIn


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
    directory: Directory, caller: Caller, code: str, body: OrganisationIn
) -> tuple[Organisation, bool]:
    caller.require(Action.DIRECTORY_ADMIN)
    if body.code != code:
        raise BadRequest(
            "the code in the body must match the path",
            errors=[{"field": "code", "message": "must match the path"}],
        )
    created = directory.get(code) is None
    org = Organisation.model_validate(body.model_dump())
    directory.put(org)
    return org, created
