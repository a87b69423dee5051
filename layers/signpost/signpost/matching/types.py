"""The matcher's plain value types: what is compared, and what comes back."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

Outcome = Literal["match", "possible_match", "no_match"]
NhsComparison = Literal["agree", "disagree", "missing"]


@dataclass(frozen=True, slots=True)
class Name:
    """An alias or former name. Either part may be empty (the API allows a partial alias)."""

    given_names: str
    family_name: str


@dataclass(frozen=True, slots=True)
class MatchIdentity:
    """What is compared: plain values, already validated by the API layer."""

    given_names: str
    family_name: str
    date_of_birth: dt.date
    sex: str | None = None  # female | male | indeterminate | not_known
    nhs_number: str | None = None  # 10 digits, valid check digit
    postcode: str | None = None  # "NW1 2AB" form
    other_names: tuple[Name, ...] = ()  # aliases and former names (records only)


@dataclass(frozen=True, slots=True)
class MatchScore:
    """A candidate's total log2 likelihood ratio and the comparison level of each field.

    ``fields`` holds level names only ("exact", "nickname", ...), never identity values,
    so a score may be logged or counted.
    """

    weight: float
    nhs: NhsComparison
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome and the candidates it names, best first (indices into the candidate list).

    ``match``: exactly one index; ``possible_match``: one to ``max_possible``; ``no_match``: none.
    """

    outcome: Outcome
    ranked: tuple[int, ...]
    scores: tuple[MatchScore, ...] = ()
