"""Estimating the Fellegi-Sunter m and u probabilities from unlabelled pairs (training only).

The approach is Splink's:

- u (P(level | different children)) is counted on random pairs, which are almost all
  of different children: :func:`level_frequencies`.
- m (P(level | same child)) is estimated by expectation-maximisation over candidate
  pairs, u held fixed: each pair is a mixture of "same child" (probability lambda) and
  "different children"; the E step gives each pair's probability of being a match
  under the current m, the M step re-estimates m and lambda from those probabilities
  (:func:`expectation_maximisation`). Identical comparison patterns are counted once,
  so an iteration costs the number of distinct patterns, not of pairs.
- Pairs are chosen by a blocking rule (say, "same date of birth"); the fields the rule
  selects on are not independent of the match status any more, so one EM session
  estimates only the other fields, and several sessions with different rules cover all
  of them (their estimates are averaged: :func:`combine_sessions`).

Pure Python over plain counts: the service never imports this module.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# A comparison pattern: (field, level) for every field compared on both sides (missing ones omitted).
Pattern = tuple[tuple[str, str], ...]
Probabilities = dict[str, dict[str, float]]  # field -> level -> probability


def pattern_of(fields: Mapping[str, str], compared: Iterable[str], missing: str = "missing") -> Pattern:
    """The pattern of one pair, keeping only the fields in ``compared`` that are not missing."""
    return tuple((f, fields[f]) for f in compared if fields.get(f, missing) != missing)


def level_frequencies(
    patterns: Iterable[Pattern], levels: Mapping[str, Iterable[str]], floor: float = 0.5
) -> Probabilities:
    """Each field's level distribution over ``patterns`` (u from random pairs). A level never seen
    gets ``floor`` counts, so no probability is zero."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for pattern in patterns:
        for field, level in pattern:
            counts[field][level] += 1
    result: Probabilities = {}
    for field, field_levels in levels.items():
        observed = {level: max(float(counts[field][level]), floor) for level in field_levels}
        total = sum(observed.values())
        result[field] = {level: n / total for level, n in observed.items()}
    return result


@dataclass(frozen=True)
class EmResult:
    m: Probabilities
    match_share: float  # lambda: the share of the candidate pairs that are the same child
    iterations: int
    converged: bool


def expectation_maximisation(
    patterns: Mapping[Pattern, int],
    m: Probabilities,
    u: Probabilities,
    estimate: Iterable[str],
    *,
    match_share: float = 0.1,
    max_iterations: int = 200,
    tolerance: float = 1e-7,
    floor: float = 1e-6,
) -> EmResult:
    """Re-estimate m for the fields in ``estimate`` (and lambda) over pattern counts, u fixed.

    Only the fields being estimated enter the likelihood: the others were chosen by the
    blocking rule and say nothing about match status within these pairs.
    """
    fields = tuple(estimate)
    m = {f: dict(levels) for f, levels in m.items()}
    items = [
        (tuple((f, lvl) for f, lvl in pattern if f in fields), count) for pattern, count in patterns.items()
    ]
    merged: Counter[Pattern] = Counter()
    for pattern, count in items:
        merged[pattern] += count
    total = float(sum(merged.values()))
    if not total:
        raise ValueError("no pairs to estimate from")
    lam = match_share
    converged = False
    iteration = 0
    for iteration in range(1, max_iterations + 1):  # noqa: B007 - reported below
        m_counts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        matched = 0.0
        for pattern, count in merged.items():
            log_m = math.log(lam)
            log_u = math.log(1 - lam)
            for f, lvl in pattern:
                log_m += math.log(max(m[f][lvl], floor))
                log_u += math.log(max(u[f][lvl], floor))
            diff = log_u - log_m
            p = 1.0 / (1.0 + math.exp(diff)) if diff < 700 else 0.0
            weight = p * count
            matched += weight
            for f, lvl in pattern:
                m_counts[f][lvl] += weight
        change = abs(matched / total - lam)
        lam = min(max(matched / total, 1e-9), 1 - 1e-9)
        for f in fields:
            field_total = sum(m_counts[f].values())
            if field_total <= 0:
                continue
            for lvl in m[f]:
                new = max(m_counts[f].get(lvl, 0.0) / field_total, floor)
                change = max(change, abs(new - m[f][lvl]))
                m[f][lvl] = new
            norm = sum(m[f].values())
            m[f] = {lvl: p / norm for lvl, p in m[f].items()}
        if change < tolerance:
            converged = True
            break
    return EmResult(m=m, match_share=lam, iterations=iteration, converged=converged)


def combine_sessions(
    sessions: Iterable[tuple[EmResult, Iterable[str]]], fields: Iterable[str]
) -> Probabilities:
    """Average each field's m over the sessions that estimated it."""
    collected: dict[str, list[dict[str, float]]] = defaultdict(list)
    for result, estimated in sessions:
        for f in estimated:
            collected[f].append(result.m[f])
    combined: Probabilities = {}
    for f in fields:
        runs = collected.get(f)
        if not runs:
            raise ValueError(f"no session estimated {f}")
        levels = runs[0].keys()
        combined[f] = {lvl: sum(r[lvl] for r in runs) / len(runs) for lvl in levels}
    return combined
