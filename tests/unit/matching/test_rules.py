"""One test per rule: each error type of issue 5 is found (blocking) and matched (scoring),
and the cases that must never be a `match` are not."""

from __future__ import annotations

import datetime as dt

from signpost.matching import MatchIdentity, Name, score

from tests.unit.matching.helpers import assert_matches, child, found_by_blocking, outcome, search


def test_exact_copy_matches() -> None:
    assert_matches(child(), child())


def test_no_nhs_number_name_and_dob_match() -> None:
    assert_matches(search(), child())


def test_accents_and_case() -> None:
    record = child(given_names="Zoë Renée", family_name="Núñez-O'Brien")
    assert_matches(search(given_names="ZOE", family_name="nunez obrien"), record)


def test_single_letter_typo_in_given_name() -> None:
    assert_matches(search(given_names="Olivai"), child())


def test_single_letter_typo_in_short_given_name() -> None:
    # Jaro-Winkler alone undervalues a slip in a short name (Lucy/Lucu 0.88).
    record = child(given_names="Lucy")
    assert score(search(given_names="Lucu"), record).fields["given"] == "fuzzy"
    assert_matches(search(given_names="Lucu"), record)


def test_single_letter_typo_in_family_name() -> None:
    assert_matches(search(family_name="Hartlye"), child())


def test_phonetic_spelling_of_given_name() -> None:
    record = child(given_names="Catherine")
    query = search(given_names="Kathryn")
    assert score(query, record).fields["given"] == "phonetic"
    assert found_by_blocking(query, record)
    # A phonetic spelling alone is weaker evidence than a typo, but with the rest exact it matches.
    assert outcome(query, record).outcome == "match"


def test_phonetic_spelling_of_family_name() -> None:
    record = child(family_name="Thompson")
    assert_matches(search(family_name="Tomson"), record)


def test_nickname_alfie_matches_alfred() -> None:
    record = child(given_names="Alfred", sex="male")
    query = search(given_names="Alfie", sex="male")
    assert score(query, record).fields["given"] == "nickname"
    assert_matches(query, record)


def test_nickname_formal_name_finds_child_registered_by_nickname() -> None:
    assert_matches(search(given_names="Alfred"), child(given_names="Alfie"))


def test_nickname_to_nickname_through_formal_name() -> None:
    # Freddie and Alfie are both short for Alfred.
    record = child(given_names="Freddie", family_name="Okafor", sex="male")
    query = search(given_names="Alfie", family_name="Okafor", sex="male")
    assert score(query, record).fields["given"] == "nickname"
    assert_matches(query, record)


def test_nickname_with_day_month_swap_is_still_found() -> None:
    record = child(given_names="William", family_name="Smith")
    query = search(given_names="Bill", family_name="Smith", date_of_birth=dt.date(2015, 8, 3))
    assert found_by_blocking(query, record)
    assert outcome(query, record).outcome in {"match", "possible_match"}


def test_hyphenated_surname_part() -> None:
    record = child(family_name="Hartley-Mensah")
    for part in ("Hartley", "Mensah"):
        query = search(family_name=part)
        assert score(query, record).fields["family"] == "part"
        assert_matches(query, record)


def test_double_barrelled_surname_written_with_space_or_run_together() -> None:
    record = child(family_name="Hartley-Mensah")
    assert_matches(search(family_name="Hartley Mensah"), record)
    assert_matches(search(family_name="HartleyMensah"), record)


def test_given_family_swapped() -> None:
    query = search(given_names="Hartley", family_name="Olivia")
    assert score(query, child()).fields["name_order"] == "swapped"
    assert_matches(query, child())


def test_day_month_swap() -> None:
    query = search(date_of_birth=dt.date(2015, 8, 3))
    assert score(query, child()).fields["date_of_birth"] == "day_month_swapped"
    assert_matches(query, child())


def test_one_digit_wrong_in_year() -> None:
    query = search(date_of_birth=dt.date(2016, 3, 8))  # 2015 -> 2016
    assert score(query, child()).fields["date_of_birth"] == "year_digit"
    assert_matches(query, child())
    assert found_by_blocking(search(date_of_birth=dt.date(2005, 3, 8)), child())  # 2015 -> 2005


def test_year_digit_wrong_and_typo_in_a_name_is_still_found() -> None:
    query = search(given_names="Olvia", date_of_birth=dt.date(2016, 3, 8))
    assert found_by_blocking(query, child())
    assert outcome(query, child()).outcome in {"match", "possible_match"}


def test_postcode_from_previous_address() -> None:
    query = search(postcode="E8 1DY")
    assert score(query, child()).fields["postcode"] == "disagree"
    assert_matches(query, child())


def test_postcode_in_same_district_counts_for_something() -> None:
    near = score(search(postcode="NW1 9ZZ"), child())
    far = score(search(postcode="E8 1DY"), child())
    assert near.fields["postcode"] == "district"
    assert near.weight > far.weight


def test_former_surname_in_other_names() -> None:
    record = child(family_name="Mensah", other_names=(Name(given_names="", family_name="Hartley"),))
    query = search(family_name="Hartley")
    assert score(query, record).fields["name_source"] == "alias"
    assert_matches(query, record)


def test_known_by_middle_name_is_at_most_possible_without_more() -> None:
    query = search(given_names="Grace")
    assert score(query, child()).fields["given"] == "middle"
    assert found_by_blocking(query, child())
    assert outcome(query, child()).outcome in {"possible_match", "match"}


def test_middle_names_agreeing_add_weight() -> None:
    with_middle = score(search(given_names="Olivia Grace"), child())
    without = score(search(given_names="Olivia"), child())
    other_middle = score(search(given_names="Olivia Rose"), child())
    assert with_middle.weight > without.weight > other_middle.weight


def test_nhs_number_decisive() -> None:
    # Names misspelt and the date garbled, but the same NHS number: the same child.
    query = search(
        given_names="Olivya", family_name="Hartly", date_of_birth=dt.date(2016, 8, 3), nhs_number="9434765919"
    )
    assert found_by_blocking(query, child())
    assert outcome(query, child()).outcome == "match"


def test_two_records_with_one_nhs_number_are_only_possible() -> None:
    # A duplicate enrolment must be confirmed, not silently resolved to one of them.
    decision = outcome(search(nhs_number="9434765919"), child(), child(sex=None))
    assert decision.outcome == "possible_match"


def test_nhs_number_beats_a_closer_looking_candidate_without_one() -> None:
    lookalike = child(nhs_number=None)
    registered = child(date_of_birth=dt.date(2015, 3, 9))  # DOB one digit off, same NHS number
    decision = outcome(search(nhs_number="9434765919"), lookalike, registered)
    assert decision.outcome == "match"
    assert decision.ranked == (1,)


def test_nhs_mismatch_never_match() -> None:
    # Everything identical except a different (valid) NHS number: a different child.
    other = child(nhs_number="4010232137")
    decision = outcome(search(nhs_number="9434765919"), other)
    assert decision.outcome != "match"
    assert score(search(nhs_number="9434765919"), other).nhs == "disagree"


def test_nhs_agree_but_everything_else_different_is_only_possible() -> None:
    stranger = MatchIdentity(
        given_names="Mohammed",
        family_name="Begum",
        date_of_birth=dt.date(2009, 11, 30),
        nhs_number="9434765919",
    )
    decision = outcome(search(nhs_number="9434765919"), stranger)
    assert decision.outcome == "possible_match"


def test_twins_same_dob_different_given_names_not_match() -> None:
    # A search for a twin who is not enrolled must not land on the enrolled one.
    twin = child(given_names="Amelia")
    decision = outcome(search(given_names="Isla"), twin)
    assert decision.outcome != "match"


def test_twins_exact_search_matches_the_right_twin() -> None:
    olivia, amelia = child(), child(given_names="Amelia", nhs_number="4010232137")
    decision = outcome(search(), amelia, olivia)
    assert decision.outcome == "match"
    assert decision.ranked == (1,)


def test_twins_with_similar_names_and_a_typo_are_only_possible() -> None:
    # Ava and Eva born the same day: "Eva" mistyped as "Ava"-ish must not pick one.
    ava, eva = child(given_names="Ava", nhs_number=None), child(given_names="Eva", nhs_number=None)
    decision = outcome(search(given_names="Iva"), ava, eva)
    assert decision.outcome != "match"


def test_two_close_candidates_are_possible_not_match() -> None:
    a = child(date_of_birth=dt.date(2015, 3, 9), nhs_number=None, postcode=None)
    b = child(date_of_birth=dt.date(2015, 3, 7), nhs_number=None, postcode=None)
    decision = outcome(search(postcode=None), a, b)
    assert decision.outcome == "possible_match"
    assert set(decision.ranked) == {0, 1}


def test_possible_match_lists_at_most_three() -> None:
    near = [child(date_of_birth=dt.date(2015, 3, d), nhs_number=None) for d in (1, 2, 4, 5, 6)]
    decision = outcome(search(date_of_birth=dt.date(2015, 3, 3)), *near)
    assert decision.outcome == "possible_match"
    assert len(decision.ranked) == 3


def test_no_candidates_is_no_match() -> None:
    assert outcome(search()).outcome == "no_match"


def test_different_child_sharing_a_birthday_is_no_match() -> None:
    stranger = child(given_names="Jack", family_name="Nowak", sex="male", postcode="B1 1AA", nhs_number=None)
    decision = outcome(search(), stranger)
    assert decision.outcome == "no_match"


def test_same_name_different_birthday_is_no_match() -> None:
    other = child(date_of_birth=dt.date(2011, 10, 23), nhs_number=None, postcode="M1 1AE")
    assert outcome(search(postcode=None), other).outcome == "no_match"


def test_sex_disagreement_costs_weight() -> None:
    agree = score(search(sex="female"), child())
    disagree = score(search(sex="male"), child())
    unknown = score(search(sex="not_known"), child())
    assert disagree.weight < unknown.weight < agree.weight
    assert unknown.fields["sex"] == "missing"


def test_score_fields_hold_levels_not_identity_values() -> None:
    s = score(search(given_names="Olivai", postcode="E8 1DY"), child())
    values = " ".join(s.fields.values()).lower()
    for identity_value in ("olivia", "olivai", "hartley", "2015", "e8", "nw1", "9434765919"):
        assert identity_value not in values
