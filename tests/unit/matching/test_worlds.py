"""The evaluation worlds' mappings (tests/bench/matching_worlds.py), on a small FEBRL-format fixture."""

from __future__ import annotations

import datetime as dt
import random
import sys
from pathlib import Path

import pytest
from signpost.models.identity import normalise_postcode

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from matching_population import NamePools, generate_population
from matching_worlds import (
    apply_change,
    febrl_child_dob,
    febrl_file,
    febrl_uk_postcode,
    febrl_world,
    read_febrl,
    twin_sibling_queries,
)

# FEBRL's layout, made-up people: one with a duplicate, one without, one whose duplicate lost its date.
FIXTURE = (
    "rec_id, given_name, surname, street_number, address_1, address_2, suburb, postcode, state, "
    "date_of_birth, soc_sec_id\n"
    """rec-1-org, rosalind, fairbairn, 4, high street, , lakeside, 2617, nsw, 19130621, 1234567
rec-1-dup-0, rosalind, fairburn, 4, high street, , lakeside, 2617, nsw, 19130612, 1234567
rec-2-org, tobias, quenneville, 12, mill road, , westbury, 3040, vic, 19840229, 7654321
rec-3-org, amira, okonjo, 7, park lane, , northcote, 4101, qld, 19771103, 1112223
rec-3-dup-0, amira, okonjo, 7, park lane, , northcote, 4101, qld, , 1112223
"""
)


def test_dates_of_birth_move_into_childhood_keeping_day_month_and_leap_years() -> None:
    assert febrl_child_dob("19130621") == dt.date(2009, 6, 21)
    assert febrl_child_dob("19840229") == dt.date(2008, 2, 29)  # a leap year stays a leap year
    assert febrl_child_dob("19840230") is None
    assert febrl_child_dob("") is None
    assert all(2002 <= febrl_child_dob(f"{y}0101").year <= 2025 for y in range(1900, 2001))  # type: ignore[union-attr]


def test_postcodes_become_uk_ones_character_for_character() -> None:
    a = febrl_uk_postcode("2617", "1", 1)
    b = febrl_uk_postcode("2618", "1", 1)
    assert a is not None
    assert b is not None
    assert normalise_postcode(a) == a  # a valid UK postcode, as the API writes it
    assert sum(x != y for x, y in zip(a, b, strict=True)) == 1  # one digit wrong -> one character wrong
    assert febrl_uk_postcode("2617", "2", 1) != a  # another household
    assert febrl_uk_postcode("26x7", "1", 1) is None


def test_a_febrl_world_enrols_originals_and_searches_with_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "dataset1.csv"
    path.write_text(FIXTURE)
    population: list = []
    world = febrl_world(
        1, population, lambda _: None, seed=1, rows=read_febrl(path)
    )  # seed 1: none held back
    assert [p.family_name for p in population] == ["Fairbairn", "Quenneville", "Okonjo"]
    assert world.unsearchable == 1  # the duplicate without a date of birth
    (query,) = world.queries
    assert (query.identity.family_name, query.identity.date_of_birth) == ("Fairburn", dt.date(2009, 6, 12))
    assert query.truth == 0
    assert query.errors == ("febrl:family+dob",)


def test_people_held_back_are_searched_for_as_never_enrolled(tmp_path: Path) -> None:
    path = tmp_path / "dataset1.csv"
    path.write_text(FIXTURE)
    population: list = []
    seed = next(s for s in range(100) if random.Random(s).random() < 0.1)  # the first person held back
    world = febrl_world(1, population, lambda _: None, seed=seed, rows=read_febrl(path))
    assert "Fairbairn" not in [p.family_name for p in population]
    never = [q for q in world.queries if q.truth is None]
    assert {q.identity.family_name for q in never} >= {"Fairbairn", "Fairburn"}  # original and duplicate


def test_only_febrl_data_sets_one_to_three_are_read() -> None:
    with pytest.raises(ValueError, match="not one this benchmark may read"):
        febrl_file(0)


def test_real_world_changes_change_what_they_say() -> None:
    pools = NamePools.build(7, postcode_count=2000)
    children = generate_population(200, 7, pools)
    rng = random.Random(3)
    record = next(c for c in children if " " in c.given_names and c.postcode)
    assert apply_change(record, record, "surname_change", pools, rng).family_name != record.family_name
    assert (
        apply_change(record, record, "middle_as_first", pools, rng).given_names
        == record.given_names.split(" ")[1]
    )
    moved = apply_change(record, record, "moved", pools, rng).postcode
    assert moved is not None
    assert moved.split(" ")[0] != record.postcode.split(" ")[0]


def test_twin_and_sibling_searches_name_the_other_child() -> None:
    pools = NamePools.build(7, postcode_count=2000)
    children = generate_population(3000, 7, pools)
    queries = twin_sibling_queries(children, 50, 1, pools)
    assert queries
    for q in queries:
        assert q.truth is not None
        assert q.sibling is not None
        truth, other = children[q.truth], children[q.sibling]
        assert (truth.family_name, truth.postcode) == (other.family_name, other.postcode)
        assert q.kind in {"twin", "sibling"}
        assert (q.kind == "twin") == (truth.date_of_birth == other.date_of_birth)
