"""Field-by-field comparison: each pair of values falls into one named level.

Levels are ordered best first; a comparison returns the first that applies.
Names are compared as prepared once per identity (normalised, split, phonetic
codes), so scoring many candidates does not redo that work for the query.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rapidfuzz.distance import OSA, JaroWinkler

from signpost.matching.config import MISSING
from signpost.matching.nickname_table import nickname_table
from signpost.matching.normalise import (
    compact,
    name_tokens,
    normalise_name,
    phonetic,
    postcode_compact,
    postcode_outward,
)
from signpost.matching.types import NhsComparison

# Sex values that say nothing about the child.
_UNKNOWN_SEX = frozenset({"not_known", ""})


@dataclass(frozen=True, slots=True)
class PreparedName:
    """One name (given or family) ready for comparison."""

    compact: str
    tokens: tuple[str, ...]
    token_set: frozenset[str]
    first: str
    compact_code: str
    first_code: str
    token_codes: frozenset[str]

    @classmethod
    def of(cls, raw: str) -> PreparedName:
        normalised = normalise_name(raw)
        whole = compact(normalised)
        tokens = name_tokens(normalised) or ((whole,) if whole else ())
        first = tokens[0] if tokens else ""
        return cls(
            compact=whole,
            tokens=tokens,
            token_set=frozenset(tokens),
            first=first,
            compact_code=phonetic(whole) if whole else "",
            first_code=phonetic(first) if first else "",
            token_codes=frozenset(phonetic(t) for t in tokens),
        )

    @property
    def empty(self) -> bool:
        return not self.compact


# Below this length one edit turns a name into a different common name (Al/Ed, Jo/Bo).
_MIN_LENGTH_FOR_ONE_EDIT = 3


def _similar(a: str, b: str, threshold: float) -> bool:
    """Misspelt: Jaro-Winkler at or above the threshold, or one typing slip apart (a letter
    added, dropped, changed, or two adjacent letters swapped), which Jaro-Winkler undervalues
    in short names (Lucy/Lucu: 0.88)."""
    if not a or not b:
        return False
    if JaroWinkler.similarity(a, b) >= threshold:
        return True
    return min(len(a), len(b)) >= _MIN_LENGTH_FOR_ONE_EDIT and OSA.distance(a, b, score_cutoff=1) <= 1


def compare_given(q: PreparedName, c: PreparedName, jw_threshold: float) -> str:
    """The first given names: exact / fuzzy (Jaro-Winkler or one slip) / phonetic (metaphone) /
    nickname / middle (one side's first name is the other's middle name) / disagree / missing."""
    if q.empty or c.empty:
        return MISSING
    if q.first == c.first or q.compact == c.compact:
        return "exact"
    if _similar(q.first, c.first, jw_threshold) or _similar(q.compact, c.compact, jw_threshold):
        return "fuzzy"
    if q.first_code == c.first_code or q.compact_code == c.compact_code:
        return "phonetic"
    if nickname_table().related(q.first, c.first):
        return "nickname"
    if q.first in c.token_set or c.first in q.token_set:
        return "middle"
    return "disagree"


def compare_middle(q: PreparedName, c: PreparedName, jw_threshold: float) -> str:
    """Middle names, when both sides give some: agree (one of them matches, allowing a slip) / disagree."""
    q_middle, c_middle = q.tokens[1:], c.tokens[1:]
    if not q_middle or not c_middle:
        return MISSING
    if any(a == b or _similar(a, b, jw_threshold) for a in q_middle for b in c_middle):
        return "agree"
    return "disagree"


def compare_family(q: PreparedName, c: PreparedName, jw_threshold: float) -> str:
    """exact / part (one part of a hyphenated or double-barrelled name) / fuzzy / phonetic / disagree."""
    if q.empty or c.empty:
        return MISSING
    if q.compact == c.compact:
        return "exact"
    if q.token_set < c.token_set or c.token_set < q.token_set:
        return "part"
    if _similar(q.compact, c.compact, jw_threshold) or any(
        _similar(qt, ct, jw_threshold) for qt in q.tokens for ct in c.tokens
    ):
        return "fuzzy"
    if q.compact_code == c.compact_code or not q.token_codes.isdisjoint(c.token_codes):
        return "phonetic"
    return "disagree"


def _digits(d: dt.date) -> str:
    return f"{d.year:04d}{d.month:02d}{d.day:02d}"


def _adjacent_transposition(a: str, b: str) -> bool:
    """Two equal-length strings that differ only by two neighbouring characters swapped."""
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


def compare_dates(q: dt.date, c: dt.date) -> str:
    """exact / day_month_swapped / transposed (two neighbouring digits swapped: 12 for 21) /
    year_digit / year_off_by_one / one_digit (day or month) / disagree."""
    if q == c:
        return "exact"
    if q.year == c.year and q.day == c.month and q.month == c.day:
        return "day_month_swapped"
    if _adjacent_transposition(_digits(q), _digits(c)):
        return "transposed"
    if q.month == c.month and q.day == c.day:
        if sum(a != b for a, b in zip(f"{q.year:04d}", f"{c.year:04d}", strict=True)) == 1:
            return "year_digit"
        if abs(q.year - c.year) == 1:
            return "year_off_by_one"
        return "disagree"
    if q.year == c.year and sum(a != b for a, b in zip(_digits(q), _digits(c), strict=True)) == 1:
        return "one_digit"
    return "disagree"


def compare_postcodes(q: str | None, c: str | None) -> str:
    """exact / one_slip (one character wrong, added, dropped, or two swapped) / district (same
    outward code) / disagree / missing."""
    qc, cc = postcode_compact(q), postcode_compact(c)
    if qc is None or cc is None:
        return MISSING
    if qc == cc:
        return "exact"
    if OSA.distance(qc, cc, score_cutoff=1) <= 1:
        return "one_slip"
    if postcode_outward(qc) == postcode_outward(cc):
        return "district"
    return "disagree"


def compare_sex(q: str | None, c: str | None) -> str:
    if q is None or c is None or q in _UNKNOWN_SEX or c in _UNKNOWN_SEX:
        return MISSING
    return "agree" if q == c else "disagree"


def compare_nhs(q: str | None, c: str | None) -> NhsComparison:
    if not q or not c:
        return "missing"
    return "agree" if q == c else "disagree"
