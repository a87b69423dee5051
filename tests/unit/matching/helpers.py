"""Small builders shared by the matching tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from signpost.matching import (
    Decision,
    MatchIdentity,
    Name,
    decide,
    record_blocking_keys,
    search_blocking_keys,
)

OLIVIA = MatchIdentity(
    given_names="Olivia Grace",
    family_name="Hartley",
    date_of_birth=dt.date(2015, 3, 8),
    sex="female",
    nhs_number="9434765919",
    postcode="NW1 2AB",
)


def child(**changes: Any) -> MatchIdentity:
    """A registered child: Olivia Grace Hartley unless told otherwise."""
    return replace(OLIVIA, **changes)


def search(**changes: Any) -> MatchIdentity:
    """What a professional types: no NHS number and only the first name unless told otherwise."""
    base = replace(OLIVIA, given_names="Olivia", nhs_number=None, other_names=())
    return replace(base, **changes)


def found_by_blocking(query: MatchIdentity, record: MatchIdentity) -> bool:
    return not search_blocking_keys(query).isdisjoint(record_blocking_keys(record))


def outcome(query: MatchIdentity, *records: MatchIdentity) -> Decision:
    return decide(query, list(records))


def assert_matches(query: MatchIdentity, record: MatchIdentity, *others: MatchIdentity) -> None:
    """Blocking finds the record and the matcher names it, alone, as the match."""
    assert found_by_blocking(query, record), "blocking keys do not meet"
    decision = outcome(query, *others, record)
    assert decision.outcome == "match", decision
    assert decision.ranked == (len(others),)


__all__ = ["OLIVIA", "Name", "assert_matches", "child", "found_by_blocking", "outcome", "search"]
