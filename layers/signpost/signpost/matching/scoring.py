"""Scoring candidates (Fellegi-Sunter weights) and deciding match / possible_match / no_match."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from signpost.matching.compare import (
    PreparedName,
    compare_dates,
    compare_family,
    compare_given,
    compare_middle,
    compare_nhs,
    compare_postcodes,
    compare_sex,
)
from signpost.matching.config import DEFAULT, MISSING, MatchConfig
from signpost.matching.frequency import name_frequencies
from signpost.matching.types import Decision, MatchIdentity, MatchScore


@dataclass(frozen=True, slots=True)
class PreparedIdentity:
    identity: MatchIdentity
    names: tuple[tuple[PreparedName, PreparedName], ...]  # (given, family): primary first, then aliases

    @classmethod
    def of(cls, identity: MatchIdentity) -> PreparedIdentity:
        given, family = PreparedName.of(identity.given_names), PreparedName.of(identity.family_name)
        names = [(given, family)]
        for alias in identity.other_names:
            alias_given = PreparedName.of(alias.given_names) if alias.given_names.strip() else given
            alias_family = PreparedName.of(alias.family_name) if alias.family_name.strip() else family
            if (alias_given, alias_family) not in names:
                names.append((alias_given, alias_family))
        return cls(identity=identity, names=tuple(names))


def _given_weight(level: str, q: PreparedName, c: PreparedName, config: MatchConfig) -> float:
    if level != "exact" or not config.name_frequency_adjustment:
        return config.weight("given", level)
    name = q.first if q.first == c.first else q.compact
    return config.exact_name_weight("given", name_frequencies().of_given(name))


def _family_weight(level: str, q: PreparedName, config: MatchConfig) -> float:
    if level != "exact" or not config.name_frequency_adjustment:
        return config.weight("family", level)
    return config.exact_name_weight("family", name_frequencies().of_family(q.compact))


def _name_fields(
    query: PreparedIdentity, candidate: PreparedIdentity, config: MatchConfig
) -> tuple[float, dict[str, str]]:
    """The best reading of the names: as given or swapped, against the primary name or an alias.

    The reading is chosen on the given and family names alone; the middle names are then
    compared in that reading (as given only), so a disagreeing middle name cannot make an
    unlikely reading win."""
    jw = config.jaro_winkler_threshold
    q_given, q_family = query.names[0]
    best: tuple[float, str, PreparedName, PreparedName, dict[str, str]] | None = None
    for source, (c_given, c_family) in enumerate(candidate.names):
        readings = (
            ("as_given", q_given, q_family, 0.0),
            ("swapped", q_family, q_given, config.name_swap_weight),
        )
        for order, given, family, adjustment in readings:
            given_level = compare_given(given, c_given, jw)
            family_level = compare_family(family, c_family, jw)
            weight = (
                _given_weight(given_level, given, c_given, config)
                + _family_weight(family_level, family, config)
                + adjustment
            )
            if best is None or weight > best[0]:
                levels = {
                    "given": given_level,
                    "family": family_level,
                    "name_order": order,
                    "name_source": "primary" if source == 0 else "alias",
                }
                best = (weight, order, given, c_given, levels)
    assert best is not None  # a candidate always has its primary name
    weight, order, given, c_given, levels = best
    middle_level = compare_middle(given, c_given, jw) if order == "as_given" else MISSING
    levels["middle_names"] = middle_level
    return weight + config.weight("middle_names", middle_level), levels


def score_prepared(
    query: PreparedIdentity, candidate: PreparedIdentity, config: MatchConfig = DEFAULT
) -> MatchScore:
    q, c = query.identity, candidate.identity
    weight, fields = _name_fields(query, candidate, config)
    fields["date_of_birth"] = compare_dates(q.date_of_birth, c.date_of_birth)
    fields["postcode"] = compare_postcodes(q.postcode, c.postcode)
    fields["sex"] = compare_sex(q.sex, c.sex)
    for name in ("date_of_birth", "postcode", "sex"):
        weight += config.weight(name, fields[name])
    nhs = compare_nhs(q.nhs_number, c.nhs_number)
    if nhs == "agree":
        weight += config.nhs_agree_weight
    elif nhs == "disagree":
        weight += config.nhs_disagree_weight
    return MatchScore(weight=round(weight, 4), nhs=nhs, fields=fields)


def score(query: MatchIdentity, candidate: MatchIdentity, config: MatchConfig = DEFAULT) -> MatchScore:
    """Compare two identities field by field; the weight is a log2 likelihood ratio."""
    return score_prepared(PreparedIdentity.of(query), PreparedIdentity.of(candidate), config)


def _may_be_match(s: MatchScore, config: MatchConfig) -> bool:
    if s.weight < config.match_threshold:
        return False
    if s.nhs == "agree":
        return True
    if s.nhs == "disagree":
        return False  # a different NHS number is a different child, whatever else agrees
    return not (config.require_given_name_for_match and s.fields.get("given") == "disagree")


def corroborated(s: MatchScore, config: MatchConfig) -> bool:
    """Two independent fields agree exactly (config.corroborating_pairs: date of birth and postcode,
    family name and date of birth)."""
    return any(
        s.fields.get(a) == "exact" and s.fields.get(b) == "exact" for a, b in config.corroborating_pairs
    )


def _plausible(s: MatchScore, config: MatchConfig) -> bool:
    if s.weight >= config.possible_threshold or s.nhs == "agree":
        return True
    floor = config.corroborated_threshold
    return floor is not None and s.weight >= floor and s.nhs != "disagree" and corroborated(s, config)


def classify(scores: Sequence[MatchScore], config: MatchConfig = DEFAULT) -> Decision:
    """Map candidate scores to one outcome.

    - `match`: the best candidate clears match_threshold, may be a match (NHS number
      not different; given name not in disagreement unless the NHS number agrees), and
      no other candidate above possible_threshold comes within ambiguity_margin of it.
      Candidates whose NHS number agrees rank above all others.
    - `possible_match`: otherwise, up to max_possible candidates above possible_threshold
      (or with an agreeing NHS number, or above corroborated_threshold with two independent
      fields in exact agreement).
    - `no_match`: nothing clears possible_threshold.
    """
    order = sorted(range(len(scores)), key=lambda i: (scores[i].nhs != "agree", -scores[i].weight, i))
    # An agreeing NHS number always keeps a candidate in view, whatever else disagrees.
    plausible = [i for i in order if _plausible(scores[i], config)]
    if not plausible:
        return Decision("no_match", (), tuple(scores))
    best = plausible[0]
    # Only a candidate that is plausible on its weight (not merely corroborated) can make the best ambiguous.
    contenders = [
        i for i in plausible[1:] if scores[i].weight >= config.possible_threshold or scores[i].nhs == "agree"
    ]
    runner_up = contenders[0] if contenders else None
    if _may_be_match(scores[best], config):
        best_score = scores[best]
        if runner_up is None:
            return Decision("match", (best,), tuple(scores))
        runner = scores[runner_up]
        nhs_decides = best_score.nhs == "agree" and runner.nhs != "agree"
        if nhs_decides or best_score.weight - runner.weight >= config.ambiguity_margin:
            return Decision("match", (best,), tuple(scores))
    return Decision("possible_match", tuple(plausible[: config.max_possible]), tuple(scores))


def decide(
    query: MatchIdentity, candidates: Sequence[MatchIdentity], config: MatchConfig = DEFAULT
) -> Decision:
    """Score every candidate against the query and classify (the search and register paths call this)."""
    prepared_query = PreparedIdentity.of(query)
    scores = [score_prepared(prepared_query, PreparedIdentity.of(c), config) for c in candidates]
    return classify(scores, config)
