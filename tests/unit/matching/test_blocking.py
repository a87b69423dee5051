from __future__ import annotations

import datetime as dt

from signpost.matching import (
    MatchIdentity,
    Name,
    ranked_search_keys,
    record_blocking_keys,
    search_blocking_keys,
)

from tests.unit.matching.helpers import child, found_by_blocking, search

KEY_FAMILIES = {"nhs", "nd", "ci", "nn", "ym", "pd", "pn", "di", "nm"}


def test_keys_are_plain_prefixed_strings() -> None:
    for key in record_blocking_keys(child()) | search_blocking_keys(search()):
        assert key.split(":", 1)[0] in KEY_FAMILIES, key
    assert "nhs:9434765919" in record_blocking_keys(child())


def test_keys_are_deterministic_and_depend_only_on_the_identity() -> None:
    a = MatchIdentity("Olivia Grace", "Hartley", dt.date(2015, 3, 8), "female", None, "NW1 2AB")
    b = MatchIdentity("Olivia Grace", "Hartley", dt.date(2015, 3, 8), "female", None, "NW1 2AB")
    assert record_blocking_keys(a) == record_blocking_keys(b)
    assert ranked_search_keys(a) == ranked_search_keys(b)


def test_keys_ignore_case_accents_and_punctuation() -> None:
    assert record_blocking_keys(child(given_names="ZOË", family_name="o'brien")) == record_blocking_keys(
        child(given_names="Zoe", family_name="O'Brien")
    )


def test_search_asks_a_handful_of_keys() -> None:
    assert len(search_blocking_keys(search())) <= 16
    hyphenated_nickname = search(given_names="Alfie", family_name="Hartley-Mensah", nhs_number="9434765919")
    assert len(search_blocking_keys(hyphenated_nickname)) <= 26


def test_search_keys_most_specific_first() -> None:
    keys = ranked_search_keys(search(nhs_number="9434765919"))
    assert keys[0] == "nhs:9434765919"
    assert keys[1].startswith("pd:")


def test_search_without_postcode_or_nhs_has_no_such_keys() -> None:
    keys = search_blocking_keys(search(postcode=None))
    assert not any(k.startswith(("nhs:", "pd:", "pn:")) for k in keys)


def test_every_search_key_carries_a_date_part_or_the_postcode_or_both_whole_names() -> None:
    # What keeps blocks small: no key is one bare name or one name's sound alone.
    for key in search_blocking_keys(search()):
        family, _, rest = key.partition(":")
        assert family == "pn" or "|" in rest, key
    assert "nm:olivia|hartley" in search_blocking_keys(search())


def test_record_keys_include_aliases() -> None:
    record = child(family_name="Mensah", other_names=(Name(given_names="", family_name="Hartley"),))
    assert found_by_blocking(search(family_name="Hartley"), record)
    assert found_by_blocking(search(family_name="Mensah"), record)


def test_nhs_number_alone_finds_the_record() -> None:
    stranger_details = MatchIdentity("Mo", "Begum", dt.date(2009, 11, 30), nhs_number="9434765919")
    assert search_blocking_keys(stranger_details) & record_blocking_keys(child()) == {"nhs:9434765919"}


def test_postcode_and_dob_find_a_child_whose_names_are_both_wrong() -> None:
    assert found_by_blocking(search(given_names="Livvy", family_name="Smith"), child())


def test_postcode_and_name_find_a_child_whose_dob_is_badly_wrong() -> None:
    assert found_by_blocking(search(family_name="Hartly", date_of_birth=dt.date(2012, 11, 30)), child())


def test_day_month_swap_with_typo_in_name_is_found() -> None:
    query = search(given_names="Olvia", date_of_birth=dt.date(2015, 8, 3), postcode=None)
    assert found_by_blocking(query, child())


def test_day_month_swap_with_year_digit_is_found() -> None:
    query = search(date_of_birth=dt.date(2016, 8, 3), postcode=None)
    assert found_by_blocking(query, child())


def test_unrelated_child_shares_no_keys() -> None:
    stranger = MatchIdentity("Jack", "Nowak", dt.date(2011, 6, 20), "male", "4010232137", "B1 1AA")
    assert not found_by_blocking(search(), stranger)
