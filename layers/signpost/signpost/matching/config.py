"""All of the matcher's tunable numbers, in one place.

Weights follow Fellegi-Sunter: each field comparison falls into one level, and
the level adds log2(m / u) to the candidate's score, where
m = P(level | same child) and u = P(level | different children).
The defaults were calibrated on the synthetic population of
``tests/bench/bench_matching.py`` (``--calibrate`` prints fresh estimates) and then
rounded; thresholds were tuned on the same benchmark. A deployment overrides them
through the environment (see :func:`load_match_config`), never by editing code.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

GIVEN_LEVELS = ("exact", "fuzzy", "phonetic", "nickname", "middle", "disagree")
MIDDLE_LEVELS = ("agree", "disagree")
FAMILY_LEVELS = ("exact", "part", "fuzzy", "phonetic", "disagree")
DOB_LEVELS = ("exact", "day_month_swapped", "year_digit", "year_off_by_one", "one_digit", "disagree")
POSTCODE_LEVELS = ("exact", "district", "disagree")
SEX_LEVELS = ("agree", "disagree")
# A field that is absent on either side is at level "missing" and adds nothing.
MISSING = "missing"

FIELD_LEVELS: dict[str, tuple[str, ...]] = {
    "given": GIVEN_LEVELS,
    "middle_names": MIDDLE_LEVELS,
    "family": FAMILY_LEVELS,
    "date_of_birth": DOB_LEVELS,
    "postcode": POSTCODE_LEVELS,
    "sex": SEX_LEVELS,
}


class LevelProbability(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    m: float = Field(gt=0, le=1, description="P(level | same child)")
    u: float = Field(gt=0, le=1, description="P(level | different children)")

    @property
    def weight(self) -> float:
        return math.log2(self.m / self.u)


def _levels(**pairs: tuple[float, float]) -> dict[str, LevelProbability]:
    return {level: LevelProbability(m=m, u=u) for level, (m, u) in pairs.items()}


class MatchConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # Decision thresholds, in log2 likelihood-ratio units.
    match_threshold: float = 25.5
    possible_threshold: float = 18.0
    # The best candidate is a `match` only if it beats the runner-up (when that one
    # clears possible_threshold) by this much; otherwise both are `possible_match`.
    ambiguity_margin: float = 5.0
    max_possible: int = Field(default=3, ge=1)
    # The Jaro-Winkler similarity from which two names count as the same, misspelt.
    jaro_winkler_threshold: float = Field(default=0.92, gt=0, le=1)

    # NHS number: equality is decisive, a different number a strong negative.
    nhs_agree_weight: float = 30.0
    nhs_disagree_weight: float = -20.0
    # Given and family names entered the other way round.
    name_swap_weight: float = -1.5
    # Twins and siblings share everything but the given name: a candidate whose given
    # name disagrees is never a `match` unless the NHS number agrees.
    require_given_name_for_match: bool = True

    # m: from corrupted searches of enrolled children against their records; u: from
    # random pairs of children. Levels the synthetic searches never produce (sex
    # disagreeing, a day or month digit wrong, a name entirely different) get a small
    # m rather than none, so they stay possible in real data. Postcodes: the synthetic
    # ones are spread uniformly, so u is set for real, clustered addresses instead.
    given: dict[str, LevelProbability] = Field(
        default_factory=lambda: _levels(
            exact=(0.71, 0.00176),
            fuzzy=(0.18, 0.00154),
            phonetic=(0.02, 0.00153),
            nickname=(0.09, 0.0015),
            middle=(0.01, 0.001),
            disagree=(0.01, 0.993),
        )
    )
    middle_names: dict[str, LevelProbability] = Field(
        default_factory=lambda: _levels(
            agree=(0.95, 0.003),
            disagree=(0.05, 0.997),
        )
    )
    family: dict[str, LevelProbability] = Field(
        default_factory=lambda: _levels(
            exact=(0.70, 0.00069),
            part=(0.12, 0.00025),
            fuzzy=(0.17, 0.00123),
            phonetic=(0.01, 0.00135),
            disagree=(0.01, 0.996),
        )
    )
    date_of_birth: dict[str, LevelProbability] = Field(
        default_factory=lambda: _levels(
            exact=(0.75, 0.0001225),
            day_month_swapped=(0.12, 0.0000425),
            year_digit=(0.12, 0.001135),
            year_off_by_one=(0.005, 0.0002),
            one_digit=(0.01, 0.0021),
            disagree=(0.01, 0.996),
        )
    )
    postcode: dict[str, LevelProbability] = Field(
        default_factory=lambda: _levels(
            exact=(0.79, 0.001),
            district=(0.06, 0.005),
            disagree=(0.15, 0.994),
        )
    )
    sex: dict[str, LevelProbability] = Field(
        default_factory=lambda: _levels(
            agree=(0.99, 0.5),
            disagree=(0.01, 0.5),
        )
    )

    _weights: dict[tuple[str, str], float] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _every_level_has_a_weight(self) -> MatchConfig:
        for field_name, levels in FIELD_LEVELS.items():
            table: dict[str, LevelProbability] = getattr(self, field_name)
            missing = set(levels) - set(table)
            unknown = set(table) - set(levels)
            if missing or unknown:
                raise ValueError(
                    f"{field_name}: levels must be exactly {levels} (missing {sorted(missing)}, "
                    f"unknown {sorted(unknown)})"
                )
        if self.possible_threshold > self.match_threshold:
            raise ValueError("possible_threshold must not exceed match_threshold")
        return self

    def model_post_init(self, _context: Any, /) -> None:
        for field_name in FIELD_LEVELS:
            table: dict[str, LevelProbability] = getattr(self, field_name)
            for level, probability in table.items():
                self._weights[(field_name, level)] = probability.weight

    def weight(self, field_name: str, level: str) -> float:
        """The log2 weight a field comparison adds (0 when the field is missing on either side)."""
        if level == MISSING:
            return 0.0
        return self._weights[(field_name, level)]


DEFAULT = MatchConfig()

# Environment variables for the thresholds operators most often tune; the whole
# configuration (levels too) can be given as JSON in MATCH_CONFIG_JSON.
ENV_OVERRIDES = {
    "MATCH_THRESHOLD": "match_threshold",
    "POSSIBLE_MATCH_THRESHOLD": "possible_threshold",
    "MATCH_AMBIGUITY_MARGIN": "ambiguity_margin",
    "MAX_POSSIBLE_MATCHES": "max_possible",
    "MATCH_NHS_AGREE_WEIGHT": "nhs_agree_weight",
    "MATCH_NHS_DISAGREE_WEIGHT": "nhs_disagree_weight",
}


def load_match_config(env: Mapping[str, str] | None = None) -> MatchConfig:
    """The default configuration with any overrides from the environment applied (validated)."""
    source = os.environ if env is None else env
    data: dict[str, Any] = DEFAULT.model_dump()
    raw_json = source.get("MATCH_CONFIG_JSON", "").strip()
    if raw_json:
        data.update(json.loads(raw_json))
    for variable, field_name in ENV_OVERRIDES.items():
        value = source.get(variable, "").strip()
        if value:
            data[field_name] = value
    return MatchConfig.model_validate(data)
