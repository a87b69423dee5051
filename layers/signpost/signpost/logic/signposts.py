"""Turning matched records into signposts: whom to contact, and only what the caller may see."""

from __future__ import annotations

import datetime as dt
from functools import partial

from signpost.authz import Caller
from signpost.logic.services import DirectoryReader
from signpost.models.common import Contact, Outcome, RecordStatus
from signpost.models.domain import ChildRecord
from signpost.models.organisation import Organisation
from signpost.models.search import SignpostOut

OPEN_TRANSFER_STATUSES = frozenset({"requested", "acknowledged"})


def organisation_or_placeholder(directory: DirectoryReader, code: str) -> Organisation:
    org = directory.get(code)
    if org is None:  # directory entries are never deleted, only deactivated
        raise LookupError("organisation missing from the directory")
    return org


def signposts_for(
    records: list[ChildRecord],
    outcome: Outcome,
    caller: Caller,
    directory: DirectoryReader,
    *,
    reveal_shielded: bool = False,
) -> list[SignpostOut]:
    make = partial(
        _signpost, outcome=outcome, caller=caller, directory=directory, reveal_shielded=reveal_shielded
    )
    out: list[SignpostOut] = []
    for record in records:
        out.append(make(record, record.org, record.since))
        transfer = record.transfer
        if outcome == Outcome.MATCH and transfer and transfer.get("status") in OPEN_TRANSFER_STATUSES:
            requested = dt.date.fromisoformat(str(transfer.get("requested_on", record.since.isoformat())))
            out.append(make(record, str(transfer["to_org"]), requested))
    return out


def _signpost(
    record: ChildRecord,
    org_code: str,
    since: dt.date,
    *,
    outcome: Outcome,
    caller: Caller,
    directory: DirectoryReader,
    reveal_shielded: bool,
) -> SignpostOut:
    org = organisation_or_placeholder(directory, org_code)
    shielded = record.shielding is not None and not reveal_shielded
    if shielded:
        contact = org.manager_contact
    elif org_code == record.org and record.contact:
        contact = Contact.model_validate(record.contact)
    else:
        contact = org.contact
    show_id = not shielded
    show_categories = outcome == Outcome.MATCH and not shielded and not caller.is_police
    return SignpostOut(
        child_id=record.child_id if show_id else None,
        status=RecordStatus(record.status),
        organisation=org.ref,
        contact=contact,
        categories=[*record.categories] if show_categories else None,
        since=since,
    )
