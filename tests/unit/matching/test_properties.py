"""Properties that hold for any identity, not just the examples."""

from __future__ import annotations

import datetime as dt
import string

from hypothesis import given, settings
from hypothesis import strategies as st
from signpost.matching import (
    MatchIdentity,
    Name,
    classify,
    normalise_name,
    record_blocking_keys,
    score,
    search_blocking_keys,
)
from signpost.matching.config import FIELD_LEVELS, MISSING

LETTERS = string.ascii_letters + "àáâäçèéêëìíîïñòóôöøùúûüýÿßæœłÀÉÎÖÜÆŁ"
SEPARATORS = " -'\u2019."


def _with_check_digit(digits: list[int]) -> str | None:
    check = (11 - sum(d * (10 - i) for i, d in enumerate(digits)) % 11) % 11
    return None if check == 10 else "".join(map(str, [*digits, check]))


names = st.builds(
    lambda head, tail: head + tail,
    st.text(alphabet=LETTERS, min_size=1, max_size=12),
    st.text(alphabet=LETTERS + SEPARATORS, max_size=20),
)
nhs_numbers = st.lists(st.integers(0, 9), min_size=9, max_size=9).map(_with_check_digit)
postcodes = st.from_regex(r"\A[A-Z]{1,2}[0-9]{1,2} [0-9][A-Z]{2}\Z")
identities = st.builds(
    MatchIdentity,
    given_names=names,
    family_name=names,
    date_of_birth=st.dates(dt.date(2001, 1, 1), dt.date(2026, 6, 30)),
    sex=st.sampled_from([None, "female", "male", "indeterminate", "not_known"]),
    nhs_number=nhs_numbers,  # None when the digits have no valid check digit
    postcode=st.none() | postcodes,
    other_names=st.lists(st.builds(Name, given_names=st.just("") | names, family_name=names), max_size=2).map(
        tuple
    ),
)


@given(st.text())
def test_normalise_name_is_idempotent(raw: str) -> None:
    once = normalise_name(raw)
    assert normalise_name(once) == once


@given(st.text())
def test_normalised_names_are_lower_case_words_separated_by_single_spaces(raw: str) -> None:
    normalised = normalise_name(raw)
    assert normalised == normalised.strip()
    assert "  " not in normalised
    assert all(ch.isalnum() or ch == " " for ch in normalised)


@settings(max_examples=200)
@given(identities)
def test_exact_copy_always_matches(identity: MatchIdentity) -> None:
    assert not search_blocking_keys(identity).isdisjoint(record_blocking_keys(identity))
    decision = classify([score(identity, identity)])
    assert decision.outcome == "match"
    assert decision.ranked == (0,)


@settings(max_examples=200)
@given(identities)
def test_search_as_typed_without_nhs_or_aliases_still_matches(identity: MatchIdentity) -> None:
    typed = MatchIdentity(
        given_names=identity.given_names.upper(),
        family_name=identity.family_name.lower(),
        date_of_birth=identity.date_of_birth,
        postcode=identity.postcode,
    )
    assert not search_blocking_keys(typed).isdisjoint(record_blocking_keys(identity))
    assert classify([score(typed, identity)]).outcome == "match"


@given(identities)
def test_blocking_keys_are_deterministic(identity: MatchIdentity) -> None:
    twin = MatchIdentity(**{f: getattr(identity, f) for f in MatchIdentity.__slots__})
    assert record_blocking_keys(identity) == record_blocking_keys(twin)
    assert search_blocking_keys(identity) == search_blocking_keys(twin)


@given(identities)
def test_search_keys_stay_few(identity: MatchIdentity) -> None:
    assert len(search_blocking_keys(identity)) <= 40


@given(identities, identities)
def test_score_fields_are_known_levels(a: MatchIdentity, b: MatchIdentity) -> None:
    s = score(a, b)
    for field, levels in FIELD_LEVELS.items():
        assert s.fields[field] in (*levels, MISSING)
    assert s.nhs in {"agree", "disagree", "missing"}


@settings(max_examples=200)
@given(identities, names)
def test_a_twin_whose_given_name_disagrees_is_never_a_match_without_an_nhs_number(
    identity: MatchIdentity, other_given: str
) -> None:
    twin = MatchIdentity(
        given_names=other_given,
        family_name=identity.family_name,
        date_of_birth=identity.date_of_birth,
        sex=identity.sex,
        postcode=identity.postcode,
    )
    s = score(twin, identity)
    if s.fields["given"] == "disagree":
        assert classify([s]).outcome != "match"
