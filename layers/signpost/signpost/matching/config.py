"""All of the matcher's tunable numbers, in one place.

Weights follow Fellegi-Sunter: each field comparison falls into one level, and
the level adds log2(m / u) to the candidate's score, where
m = P(level | same child) and u = P(level | different children).
m and u are learned from data, not set by hand: ``make train-matching``
(``scripts/train_matching.py``) estimates u from random pairs and m by
expectation-maximisation over candidate pairs, chooses the thresholds from those
weights and the enrolled population size, and writes ``data/match_config.json``,
which is the default configuration. A deployment overrides it through the
environment (see :func:`load_match_config`), never by editing code.

Thresholds grow with the register: a search compares one child against N enrolled
ones, so the prior odds that a given candidate is the child are about 1/N, and the
weight needed for the same confidence grows by log2(N): one bit per doubling.
``population_size`` is the N the thresholds are set for; MATCH_POPULATION_SIZE moves
them to another N (:meth:`MatchConfig.for_population`).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

GIVEN_LEVELS = ("exact", "fuzzy", "phonetic", "nickname", "middle", "disagree")
MIDDLE_LEVELS = ("agree", "disagree")
FAMILY_LEVELS = ("exact", "part", "fuzzy", "phonetic", "disagree")
DOB_LEVELS = (
    "exact",
    "day_month_swapped",
    "transposed",
    "year_digit",
    "year_off_by_one",
    "one_digit",
    "disagree",
)
POSTCODE_LEVELS = ("exact", "one_slip", "district", "disagree")
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
# Fields whose exact agreement on a value says how common that value is (name frequency).
FREQUENCY_FIELDS = ("given", "family")
_PACKAGED = "match_config.json"


class LevelProbability(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    m: float = Field(gt=0, le=1, description="P(level | same child)")
    u: float = Field(gt=0, le=1, description="P(level | different children)")

    @property
    def weight(self) -> float:
        return math.log2(self.m / self.u)


class MatchConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # Decision thresholds, in log2 likelihood-ratio units, for `population_size` enrolled children.
    match_threshold: float
    possible_threshold: float
    population_size: int = Field(default=500_000, ge=1)
    # The best candidate is a `match` only if it beats the runner-up (when that one
    # clears possible_threshold) by this much; otherwise both are `possible_match`.
    ambiguity_margin: float = 5.0
    max_possible: int = Field(default=3, ge=1)
    # A candidate under possible_threshold is still a `possible_match` when two independent
    # fields agree exactly (INDEPENDENT_PAIRS) and its weight reaches this (None: never).
    corroborated_threshold: float | None = None
    # The pairs of fields that count as corroboration: fields that vary independently between
    # children (family name and postcode are no such pair: siblings share both).
    corroborating_pairs: tuple[tuple[str, str], ...] = (
        ("date_of_birth", "postcode"),
        ("family", "date_of_birth"),
    )
    # The Jaro-Winkler similarity from which two names count as the same, misspelt.
    jaro_winkler_threshold: float = Field(default=0.92, gt=0, le=1)
    # How far an exact name agreement's weight follows the name's frequency (0: not at all,
    # 1: log2(m / frequency) in place of log2(m / u)); see signpost.matching.frequency.
    name_frequency_adjustment: float = Field(default=1.0, ge=0, le=1)
    # Names rarer than this count as this common (Splink's minimum u for term frequencies): the
    # table cannot vouch for a rarer name, which may be common in one community or a variant
    # spelling of a common one, so no single name agreement weighs more than log2(m / floor).
    name_frequency_floor: float = Field(default=1e-4, gt=0, le=1)

    # NHS number: equality is decisive, a different number a strong negative. Searches rarely
    # carry one, so these are set, not learned.
    nhs_agree_weight: float = 30.0
    nhs_disagree_weight: float = -20.0
    # Given and family names entered the other way round.
    name_swap_weight: float = -1.5
    # Twins and siblings share everything but the given name: a candidate whose given
    # name disagrees is never a `match` unless the NHS number agrees.
    require_given_name_for_match: bool = True

    # m and u per level of each field (learned: see the module docstring).
    given: dict[str, LevelProbability]
    middle_names: dict[str, LevelProbability]
    family: dict[str, LevelProbability]
    date_of_birth: dict[str, LevelProbability]
    postcode: dict[str, LevelProbability]
    sex: dict[str, LevelProbability]
    # How the numbers were made (command, seeds, data): informational.
    provenance: dict[str, Any] = Field(default_factory=dict)

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
        if self.corroborated_threshold is not None and self.corroborated_threshold > self.possible_threshold:
            raise ValueError("corroborated_threshold must not exceed possible_threshold")
        for pair in self.corroborating_pairs:
            if not set(pair) <= set(FIELD_LEVELS) or len(set(pair)) != 2:
                raise ValueError(f"corroborating_pairs: {pair} is not two different fields")
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

    def exact_name_weight(self, field_name: str, frequency: float) -> float:
        """An exact name agreement's weight, given the share of children with that name."""
        level = getattr(self, field_name)["exact"]
        frequency = max(frequency, self.name_frequency_floor)
        adjustment = self.name_frequency_adjustment * math.log2(level.u / frequency)
        return self._weights[(field_name, "exact")] + adjustment

    def for_population(self, size: int) -> MatchConfig:
        """The same weights with every threshold moved to a register of ``size`` children."""
        shift = math.log2(size / self.population_size)
        update: dict[str, Any] = {
            "population_size": size,
            "match_threshold": self.match_threshold + shift,
            "possible_threshold": self.possible_threshold + shift,
        }
        if self.corroborated_threshold is not None:
            update["corroborated_threshold"] = self.corroborated_threshold + shift
        return MatchConfig.model_validate({**self.model_dump(), **update})


def packaged_config_data() -> dict[str, Any]:
    """The configuration ``make train-matching`` wrote (data/match_config.json)."""
    raw = resources.files("signpost.matching").joinpath("data", _PACKAGED).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(raw)
    return data


DEFAULT = MatchConfig.model_validate(packaged_config_data())

# Environment variables for the thresholds operators most often tune; the whole
# configuration (levels too) can be given as JSON in MATCH_CONFIG_JSON.
ENV_OVERRIDES = {
    "MATCH_THRESHOLD": "match_threshold",
    "POSSIBLE_MATCH_THRESHOLD": "possible_threshold",
    "MATCH_AMBIGUITY_MARGIN": "ambiguity_margin",
    "MAX_POSSIBLE_MATCHES": "max_possible",
    "MATCH_NHS_AGREE_WEIGHT": "nhs_agree_weight",
    "MATCH_NHS_DISAGREE_WEIGHT": "nhs_disagree_weight",
    "MATCH_CORROBORATED_THRESHOLD": "corroborated_threshold",
    "MATCH_NAME_FREQUENCY_ADJUSTMENT": "name_frequency_adjustment",
}


def load_match_config(env: Mapping[str, str] | None = None) -> MatchConfig:
    """The packaged configuration with any overrides from the environment applied (validated).

    Order: MATCH_CONFIG_JSON (any fields), then MATCH_POPULATION_SIZE (moves the thresholds to
    that register size), then the single-threshold variables (which win)."""
    source = os.environ if env is None else env
    data: dict[str, Any] = DEFAULT.model_dump()
    raw_json = source.get("MATCH_CONFIG_JSON", "").strip()
    if raw_json:
        data.update(json.loads(raw_json))
    config = MatchConfig.model_validate(data)
    population = source.get("MATCH_POPULATION_SIZE", "").strip()
    if population:
        config = config.for_population(int(population))
    data = config.model_dump()
    for variable, field_name in ENV_OVERRIDES.items():
        value = source.get(variable, "").strip()
        if value:
            data[field_name] = value
    return MatchConfig.model_validate(data)
