"""The learned configuration, name frequencies, and the comparison levels and keys added with them."""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest
from pydantic import ValidationError
from signpost.matching import DEFAULT, MatchConfig, classify, load_match_config, score
from signpost.matching.compare import compare_dates, compare_postcodes
from signpost.matching.config import FIELD_LEVELS, packaged_config_data
from signpost.matching.frequency import NameFrequencies, name_frequencies
from signpost.matching.scoring import corroborated

from tests.unit.matching.helpers import assert_matches, child, found_by_blocking, outcome, search


def test_the_service_loads_the_packaged_trained_configuration() -> None:
    data = packaged_config_data()
    assert MatchConfig.model_validate(data) == DEFAULT
    assert load_match_config({}) == DEFAULT
    assert data["provenance"]["command"].startswith("make train-matching")
    for field, levels in FIELD_LEVELS.items():
        assert set(data[field]) == set(levels), field


def test_learned_weights_rank_agreement_above_disagreement() -> None:
    for field, levels in FIELD_LEVELS.items():
        assert DEFAULT.weight(field, levels[0]) > 0 > DEFAULT.weight(field, "disagree"), field


def test_thresholds_move_one_bit_per_doubling_of_the_register() -> None:
    doubled = DEFAULT.for_population(DEFAULT.population_size * 2)
    assert doubled.match_threshold == pytest.approx(DEFAULT.match_threshold + 1)
    assert doubled.possible_threshold == pytest.approx(DEFAULT.possible_threshold + 1)
    smaller = load_match_config({"MATCH_POPULATION_SIZE": str(DEFAULT.population_size // 4)})
    assert smaller.match_threshold == pytest.approx(DEFAULT.match_threshold - 2)
    assert smaller.population_size == DEFAULT.population_size // 4


def test_an_explicit_threshold_wins_over_the_population_size() -> None:
    config = load_match_config({"MATCH_POPULATION_SIZE": "1000", "MATCH_THRESHOLD": "31"})
    assert config.match_threshold == 31.0


def test_corroboration_pairs_must_name_two_fields() -> None:
    with pytest.raises(ValidationError):
        load_match_config({"MATCH_CONFIG_JSON": json.dumps({"corroborating_pairs": [["given", "given"]]})})
    with pytest.raises(ValidationError):
        load_match_config(
            {"MATCH_CONFIG_JSON": json.dumps({"corroborating_pairs": [["given", "shoe_size"]]})}
        )


# --- name frequency -------------------------------------------------------------------------


def test_agreeing_on_a_rare_name_weighs_more_than_on_a_common_one() -> None:
    frequencies = name_frequencies()
    assert frequencies.of_given("oliver") > frequencies.of_given("zebedee")
    assert frequencies.of_family("smith") > frequencies.of_family("achterberg")
    common = score(
        search(given_names="Oliver", family_name="Smith"), child(given_names="Oliver", family_name="Smith")
    )
    rare = score(
        search(given_names="Zebedee", family_name="Achterberg"),
        child(given_names="Zebedee", family_name="Achterberg"),
    )
    assert rare.weight > common.weight + 4


def test_exact_name_weight_is_log2_m_over_the_names_frequency() -> None:
    m = DEFAULT.given["exact"].m
    assert DEFAULT.exact_name_weight("given", 0.01) == pytest.approx(math.log2(m / 0.01))
    half = DEFAULT.model_copy(update={"name_frequency_adjustment": 0.5})
    unadjusted = DEFAULT.weight("given", "exact")
    assert half.exact_name_weight("given", 0.01) == pytest.approx(
        unadjusted + 0.5 * math.log2(DEFAULT.given["exact"].u / 0.01)
    )


def test_frequency_adjustment_off_gives_the_plain_level_weight() -> None:
    off = DEFAULT.model_copy(update={"name_frequency_adjustment": 0.0})
    plain = score(
        search(given_names="Oliver", family_name="Smith"),
        child(given_names="Oliver", family_name="Smith"),
        off,
    )
    level_weights = sum(off.weight(f, lvl) for f, lvl in plain.fields.items() if f in FIELD_LEVELS)
    assert plain.weight == pytest.approx(level_weights, abs=1e-3)


def test_a_name_outside_the_table_takes_the_share_for_all_others() -> None:
    table = NameFrequencies.from_json(
        {"given": {"oliver": 0.01}, "family": {}, "given_other": 1e-5, "family_other": 2e-5}
    )
    assert table.of_given("oliver") == 0.01
    assert table.of_given("zebedee") == 1e-5
    assert table.of_family("smith") == 2e-5


def test_the_frequency_table_lists_only_names_many_children_share() -> None:
    frequencies = name_frequencies()
    smallest = min([*frequencies.given.values(), *frequencies.family.values()])
    assert smallest >= 1 / 20_000
    assert frequencies.given_other < smallest
    assert frequencies.family_other < smallest


# --- levels and keys --------------------------------------------------------------------------


def test_transposed_digits_of_the_day_are_their_own_level() -> None:
    assert compare_dates(dt.date(2013, 6, 12), dt.date(2013, 6, 21)) == "transposed"
    assert compare_dates(dt.date(2013, 6, 12), dt.date(2013, 6, 13)) == "one_digit"
    assert compare_dates(dt.date(2013, 6, 12), dt.date(2013, 6, 30)) == "disagree"


def test_a_postcode_slip_is_its_own_level() -> None:
    assert compare_postcodes("NW1 2AB", "NW1 2AD") == "one_slip"
    assert compare_postcodes("NW1 2AB", "NW1 2BA") == "one_slip"
    assert compare_postcodes("NW1 2AB", "NW1 5XY") == "district"
    assert compare_postcodes("NW1 2AB", "SE5 9QT") == "disagree"


def test_family_name_typo_and_day_digits_transposed_is_found_and_matched() -> None:
    # "Rosalind Fairburn 2013-06-12" typed for a registered "Rosalind Fairbairn 2013-06-21".
    record = child(given_names="Rosalind", family_name="Fairbairn", date_of_birth=dt.date(2013, 6, 21))
    query = search(
        given_names="Rosalind", family_name="Fairburn", date_of_birth=dt.date(2013, 6, 12), postcode=None
    )
    assert_matches(query, record)


def test_given_name_wrong_and_family_name_misspelt_beyond_its_sound_is_found_by_the_day_and_initial() -> None:
    record = child(given_names="Olivia", family_name="Hartley")
    query = search(given_names="", family_name="Hurtlie", postcode="SE5 9QT")
    assert found_by_blocking(query, record)


def test_dob_and_postcode_both_wrong_is_found_by_the_whole_names() -> None:
    record = child(given_names="Zebedee", family_name="Achterberg")
    query = search(
        given_names="Zebedee",
        family_name="Achterberg",
        date_of_birth=dt.date(2009, 11, 30),
        postcode="SE5 9QT",
    )
    assert found_by_blocking(query, record)
    assert outcome(query, record).outcome in {"possible_match", "match"}


def test_surname_changed_with_everything_else_exact_is_found() -> None:
    record = child(given_names="Olivia", family_name="Hartley")
    query = search(given_names="Olivia", family_name="Mensah")
    assert found_by_blocking(query, record)
    assert outcome(query, record).outcome in {"possible_match", "match"}


def test_corroboration_needs_both_fields_of_a_pair_exact() -> None:
    s = score(search(given_names="Jack", family_name="Nowak"), child())  # only DOB and postcode agree
    assert corroborated(s, DEFAULT) == (("date_of_birth", "postcode") in DEFAULT.corroborating_pairs)
    lone = score(search(given_names="Jack", family_name="Nowak", postcode=None), child())
    assert not corroborated(lone, DEFAULT)


def test_corroborated_candidate_below_the_possible_threshold_is_shown_only_above_its_floor() -> None:
    s = score(search(given_names="Jack", family_name="Nowak"), child())
    pairs = (("date_of_birth", "postcode"),)
    low = DEFAULT.model_copy(
        update={
            "possible_threshold": s.weight + 1,
            "corroborated_threshold": s.weight - 1,
            "corroborating_pairs": pairs,
        }
    )
    assert classify([s], low).outcome == "possible_match"
    high = low.model_copy(update={"corroborated_threshold": s.weight + 0.5})
    assert classify([s], high).outcome == "no_match"
    never = low.model_copy(update={"corroborated_threshold": None})
    assert classify([s], never).outcome == "no_match"


def test_a_corroborated_candidate_never_turns_a_match_into_a_possible() -> None:
    strong = score(search(), child())
    weak = score(search(given_names="Jack", family_name="Nowak"), child())
    pairs = (("date_of_birth", "postcode"),)
    config = DEFAULT.model_copy(
        update={
            "possible_threshold": weak.weight + 1,
            "corroborated_threshold": weak.weight - 1,
            "corroborating_pairs": pairs,
        }
    )
    decision = classify([weak, strong], config)
    assert decision.outcome == "match"
    assert decision.ranked == (1,)


def test_no_name_counts_as_rarer_than_the_floor() -> None:
    floor = DEFAULT.name_frequency_floor
    assert DEFAULT.exact_name_weight("family", floor / 1000) == DEFAULT.exact_name_weight("family", floor)
    assert DEFAULT.exact_name_weight("family", floor * 10) < DEFAULT.exact_name_weight("family", floor)
