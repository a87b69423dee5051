from __future__ import annotations

import json
import math

import pytest
from pydantic import ValidationError
from signpost.matching import DEFAULT, MatchConfig, classify, load_match_config, score
from signpost.matching.config import FIELD_LEVELS, MISSING

from tests.unit.matching.helpers import child, search


def test_weights_are_log2_of_m_over_u() -> None:
    level = DEFAULT.given["exact"]
    assert DEFAULT.weight("given", "exact") == pytest.approx(math.log2(level.m / level.u))
    assert DEFAULT.weight("postcode", MISSING) == 0.0


def test_every_level_has_a_weight_and_agreement_beats_disagreement() -> None:
    for field, levels in FIELD_LEVELS.items():
        weights = [DEFAULT.weight(field, level) for level in levels]
        assert weights[0] == max(weights), field
        assert weights[-1] == min(weights) < 0, field


def test_thresholds_from_environment() -> None:
    config = load_match_config(
        {"MATCH_THRESHOLD": "30", "POSSIBLE_MATCH_THRESHOLD": "20", "MAX_POSSIBLE_MATCHES": "2"}
    )
    assert (config.match_threshold, config.possible_threshold, config.max_possible) == (30.0, 20.0, 2)
    assert load_match_config({}) == DEFAULT


def test_whole_configuration_from_json() -> None:
    override = {"sex": {"agree": {"m": 0.99, "u": 0.5}, "disagree": {"m": 0.001, "u": 0.5}}}
    config = load_match_config({"MATCH_CONFIG_JSON": json.dumps(override)})
    assert config.weight("sex", "disagree") == pytest.approx(math.log2(0.001 / 0.5))


def test_invalid_configuration_is_refused() -> None:
    with pytest.raises(ValidationError):
        load_match_config({"MATCH_THRESHOLD": "10", "POSSIBLE_MATCH_THRESHOLD": "20"})
    with pytest.raises(ValidationError):
        MatchConfig.model_validate({"sex": {"agree": {"m": 0.9, "u": 0.5}}})
    with pytest.raises(ValidationError):
        load_match_config({"MATCH_CONFIG_JSON": json.dumps({"given": {"exact": {"m": 0, "u": 0.1}}})})


def test_raising_the_match_threshold_turns_a_match_into_a_possible() -> None:
    s = score(search(given_names="Olivai"), child())
    assert classify([s]).outcome == "match"
    strict = DEFAULT.model_copy(update={"match_threshold": s.weight + 1})
    assert classify([s], strict).outcome == "possible_match"
