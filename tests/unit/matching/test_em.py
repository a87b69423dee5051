"""Expectation-maximisation recovers m from a mixture whose m, u and share are known."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from signpost.matching.em import (
    EmResult,
    Pattern,
    combine_sessions,
    expectation_maximisation,
    level_frequencies,
    pattern_of,
)

LEVELS = {
    "name": ("exact", "fuzzy", "disagree"),
    "dob": ("exact", "swapped", "disagree"),
    "postcode": ("exact", "disagree"),
}
TRUE_M = {
    "name": {"exact": 0.7, "fuzzy": 0.2, "disagree": 0.1},
    "dob": {"exact": 0.8, "swapped": 0.05, "disagree": 0.15},
    "postcode": {"exact": 0.6, "disagree": 0.4},
}
TRUE_U = {
    "name": {"exact": 0.01, "fuzzy": 0.04, "disagree": 0.95},
    "dob": {"exact": 0.02, "swapped": 0.01, "disagree": 0.97},
    "postcode": {"exact": 0.05, "disagree": 0.95},
}
FLAT_M = {f: {lvl: 1 / len(levels) for lvl in levels} for f, levels in LEVELS.items()}


def draw(rng: random.Random, probabilities: dict[str, dict[str, float]]) -> Pattern:
    pattern = []
    for field, dist in probabilities.items():
        levels, weights = zip(*dist.items(), strict=True)
        pattern.append((field, rng.choices(levels, weights)[0]))
    return tuple(pattern)


def mixture(n: int, share: float, seed: int) -> Counter[Pattern]:
    rng = random.Random(seed)
    return Counter(draw(rng, TRUE_M if rng.random() < share else TRUE_U) for _ in range(n))


def test_em_recovers_known_m_and_share_from_a_synthetic_mixture() -> None:
    result = expectation_maximisation(mixture(60_000, 0.2, seed=1), FLAT_M, TRUE_U, estimate=LEVELS)
    assert result.converged
    assert result.match_share == pytest.approx(0.2, abs=0.01)
    for field, levels in TRUE_M.items():
        for level, m in levels.items():
            assert result.m[field][level] == pytest.approx(m, abs=0.02), (field, level)


def test_em_starting_far_off_still_finds_the_matches() -> None:
    wrong_start = {f: dict(reversed(list(d.items()))) for f, d in TRUE_M.items()}
    result = expectation_maximisation(
        mixture(60_000, 0.1, seed=2), wrong_start, TRUE_U, estimate=LEVELS, match_share=0.5
    )
    assert result.match_share == pytest.approx(0.1, abs=0.01)
    assert result.m["name"]["exact"] == pytest.approx(0.7, abs=0.03)


def test_fields_chosen_by_the_blocking_rule_are_left_alone() -> None:
    # Pairs blocked on the postcode: every pair agrees on it, so it is not estimated.
    blocked = Counter(
        {(p[0], p[1], ("postcode", "exact")): c for p, c in mixture(30_000, 0.3, seed=3).items()}
    )
    result = expectation_maximisation(blocked, FLAT_M, TRUE_U, estimate=("name", "dob"))
    assert result.m["postcode"] == FLAT_M["postcode"]
    assert result.m["dob"]["exact"] == pytest.approx(0.8, abs=0.02)


def test_u_from_random_pairs_is_each_levels_share_with_a_floor_for_unseen_levels() -> None:
    rng = random.Random(4)
    patterns = [draw(rng, TRUE_U) for _ in range(50_000)]
    u = level_frequencies(patterns, LEVELS)
    assert u["name"]["disagree"] == pytest.approx(0.95, abs=0.01)
    unseen = level_frequencies([(("name", "exact"),)], LEVELS)
    assert 0 < unseen["name"]["fuzzy"] < unseen["name"]["exact"]


def test_sessions_are_averaged_per_field_and_a_field_no_session_estimated_is_an_error() -> None:
    one = EmResult(m={"name": {"exact": 0.6, "disagree": 0.4}}, match_share=0.1, iterations=1, converged=True)
    two = EmResult(m={"name": {"exact": 0.8, "disagree": 0.2}}, match_share=0.1, iterations=1, converged=True)
    combined = combine_sessions([(one, ["name"]), (two, ["name"])], ["name"])
    assert combined["name"]["exact"] == pytest.approx(0.7)
    with pytest.raises(ValueError, match="dob"):
        combine_sessions([(one, ["name"])], ["name", "dob"])


def test_missing_fields_are_left_out_of_a_pattern() -> None:
    assert pattern_of({"name": "exact", "dob": "missing"}, ["name", "dob"]) == (("name", "exact"),)
