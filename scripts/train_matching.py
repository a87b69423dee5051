"""Learn the matcher's weights from data and write the configuration the service loads.

    python scripts/train_matching.py [--world own|synthetic|real_world|febrl] [--out PATH] [--check]

(``make train-matching`` runs it with the defaults, which reproduce the shipped
``layers/signpost/signpost/matching/data/match_config.json`` and
``name_frequencies.json`` from seeds.)

1. A training world: enrolled children and searches for them, some for children never
   enrolled (tests/bench/matching_worlds.py). The default, ``own``, is the project's own
   generator: its typing-slip searches and its real-world changes, half each; FEBRL 1-3
   stay out of training and are the held-out worlds. The searches' truth is not used for
   training, only unlabelled pairs.
2. u per comparison level: the level's share among random pairs of enrolled children.
3. m per level: expectation-maximisation with u fixed (signpost.matching.em), in three
   sessions whose pairs are chosen by a blocking rule - same date of birth, same postcode,
   same sound of both names - each estimating only the fields its rule did not select on;
   a field's m is the mean over the sessions that estimated it. m is floored at
   ``M_FLOOR``: no level is impossible for the same child in real data.
4. Thresholds from those weights and the register size N: a candidate's prior odds of
   being the searched-for child are about 1/N, so its posterior odds are 2^weight / N and
   a threshold is log2(N) + log2(odds). ``match``: posterior odds of at least 2^MATCH_LOG_ODDS
   (64:1); ``possible_match``: at least 2^POSSIBLE_LOG_ODDS (4:1). The odds were chosen on
   the training world at N = 500,000 as the lowest that keep never-enrolled searches under
   0.4% matched and 1% shown a possible match; the weights assume fields independent, which
   overstates the evidence, so the empirical error is far below the nominal 1/65.
   The corroborated rule (two independent fields exact) is off (CORROBORATED_LOG_ODDS None):
   on every world it found almost no child it did not already find and showed never-enrolled
   children possible matches several times as often. Each doubling of N adds one bit to
   every threshold (MatchConfig.for_population, MATCH_POPULATION_SIZE).
5. Name frequencies: each common first name's and family name's share of the training
   population (names drawn from published lists), and the expected share for all others.

``--world febrl`` or ``--world real_world`` trains on another world (``--out`` somewhere
else), to check that weights learned on one world hold on the others:
``python tests/bench/bench_matching.py --config PATH``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "bench"))

from matching_population import (  # noqa: E402
    NamePools,
    PopulationSpec,
    Query,
    corrupted_queries,
    generate_population,
    never_enrolled_queries,
    valid_nhs_number,
)
from matching_worlds import FEBRL_SETS, febrl_world, real_world_queries  # noqa: E402
from signpost.matching import MatchIdentity, normalise_name  # noqa: E402
from signpost.matching.compare import PreparedName  # noqa: E402
from signpost.matching.config import FIELD_LEVELS, MatchConfig  # noqa: E402
from signpost.matching.em import (  # noqa: E402
    EmResult,
    Pattern,
    combine_sessions,
    expectation_maximisation,
    level_frequencies,
    pattern_of,
)
from signpost.matching.normalise import compact, phonetic, postcode_compact  # noqa: E402
from signpost.matching.scoring import PreparedIdentity, score_prepared  # noqa: E402

DATA = ROOT / "layers" / "signpost" / "signpost" / "matching" / "data"
SEED = 2026
FIELDS = tuple(FIELD_LEVELS)
M_FLOOR = 0.001
EM_TOLERANCE = 1e-5  # largest change of any m (or lambda) in an iteration at which EM stops


@dataclass(frozen=True)
class Size:
    children: int = 100_000  # synthetic children in the training world
    searches: int = 20_000
    never: int = 2_000  # searches for never-enrolled children
    random_pairs: int = 400_000  # for u


THRESHOLD_POPULATION = 500_000  # the register size the shipped thresholds are for
MATCH_LOG_ODDS = 6.0  # a `match` at posterior odds of 64:1 or more
POSSIBLE_LOG_ODDS = 2.0  # a `possible_match` at 4:1 or more
CORROBORATED_LOG_ODDS: float | None = None  # possible with two independent fields exact (off)
MIN_NAME_SHARE = 1 / 20_000  # names listed in the frequency table (at least 25 in 500,000 children)

# Blocking rules of the EM sessions: what a pair must share, and the fields each session estimates.
SESSIONS: dict[str, tuple[str, ...]] = {
    "same date of birth": ("given", "middle_names", "family", "postcode", "sex"),
    "same postcode": ("given", "middle_names", "family", "date_of_birth", "sex"),
    "same sound of both names": ("date_of_birth", "postcode", "sex"),
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _first(identity: MatchIdentity) -> str:
    tokens = normalise_name(identity.given_names).split(" ")
    return tokens[0] if tokens else ""


def session_key(rule: str, identity: MatchIdentity) -> str | None:
    if rule == "same date of birth":
        return identity.date_of_birth.isoformat()
    if rule == "same postcode":
        return postcode_compact(identity.postcode)
    first, family = _first(identity), compact(normalise_name(identity.family_name))
    return f"{phonetic(first)}|{phonetic(family)}" if first and family else None


def training_world(world: str, seed: int, size: Size) -> tuple[list[MatchIdentity], list[Query]]:
    pools = NamePools.build(seed)
    nhs_taken: set[str] = set()
    if world == "febrl":
        population: list[MatchIdentity] = []
        queries: list[Query] = []

        def nhs_for(h: int) -> str | None:
            rng = random.Random(h)
            return valid_nhs_number(rng) if rng.random() < 0.7 else None

        for number in FEBRL_SETS:
            queries += febrl_world(number, population, nhs_for, seed + 10 + number).queries
        return population, queries
    population = generate_population(size.children, seed, pools, PopulationSpec(), nhs_taken=nhs_taken)
    never = generate_population(size.never, seed + 1, pools, PopulationSpec(), nhs_taken=nhs_taken)
    if world == "real_world":
        searches = real_world_queries(population, size.searches, seed + 4, pools)
    elif world == "synthetic":
        searches = corrupted_queries(population, size.searches, seed + 2, pools)
    elif world == "own":
        searches = [
            *corrupted_queries(population, size.searches // 2, seed + 2, pools),
            *real_world_queries(population, size.searches // 2, seed + 4, pools),
        ]
    else:
        raise SystemExit(f"unknown world {world}")
    return population, [*searches, *never_enrolled_queries(never, seed + 3)]


def patterns_of(
    pairs: Iterable[tuple[int, int]],
    queries: Sequence[PreparedIdentity],
    records: Sequence[PreparedIdentity],
    config: MatchConfig,
) -> Counter[Pattern]:
    counts: Counter[Pattern] = Counter()
    for q, r in pairs:
        counts[pattern_of(score_prepared(queries[q], records[r], config).fields, FIELDS)] += 1
    return counts


def session_pairs(
    rule: str, queries: Sequence[Query], population: Sequence[MatchIdentity]
) -> list[tuple[int, int]]:
    by_key: dict[str, list[int]] = defaultdict(list)
    for i, child in enumerate(population):
        key = session_key(rule, child)
        if key:
            by_key[key].append(i)
    pairs = []
    for qi, query in enumerate(queries):
        key = session_key(rule, query.identity)
        if key:
            pairs += [(qi, r) for r in by_key.get(key, ())]
    return pairs


def threshold(log_odds: float, population: int) -> float:
    """The weight at which a candidate among ``population`` children has posterior odds 2^log_odds."""
    return round(math.log2(population) + log_odds, 2)


def name_frequency_table(population: Sequence[MatchIdentity]) -> dict[str, Any]:
    def table(values: Iterable[str]) -> tuple[dict[str, float], float]:
        counts = Counter(v for v in values if v)
        total = sum(counts.values())
        listed = {k: round(n / total, 7) for k, n in sorted(counts.items()) if n / total >= MIN_NAME_SHARE}
        rest = [n / total for k, n in counts.items() if k not in listed]
        other = sum(f * f for f in rest) / sum(rest) if rest else MIN_NAME_SHARE
        return listed, float(f"{other:.4g}")

    given, given_other = table(PreparedName.of(c.given_names).first for c in population)
    family, family_other = table(PreparedName.of(c.family_name).compact for c in population)
    return {"given": given, "given_other": given_other, "family": family, "family_other": family_other}


def _significant(x: float) -> float:
    return float(f"{x:.5g}")


def _levels(**pairs: tuple[float, float]) -> dict[str, dict[str, float]]:
    return {level: {"m": m, "u": u} for level, (m, u) in pairs.items()}


# Where training starts, independent of the shipped file (so a run reproduces it): the hand-set
# weights the matcher had before it learned them. They pick the reading of a pair's names (as
# given or swapped, primary or alias) and are EM's starting m; name frequencies are not used.
BOOTSTRAP: dict[str, Any] = {
    "match_threshold": 25.5,
    "possible_threshold": 18.0,
    "name_frequency_adjustment": 0.0,
    "given": _levels(
        exact=(0.71, 0.00176),
        fuzzy=(0.18, 0.00154),
        phonetic=(0.02, 0.00153),
        nickname=(0.09, 0.0015),
        middle=(0.01, 0.001),
        disagree=(0.01, 0.993),
    ),
    "middle_names": _levels(agree=(0.95, 0.003), disagree=(0.05, 0.997)),
    "family": _levels(
        exact=(0.70, 0.00069),
        part=(0.12, 0.00025),
        fuzzy=(0.17, 0.00123),
        phonetic=(0.01, 0.00135),
        disagree=(0.01, 0.996),
    ),
    "date_of_birth": _levels(
        exact=(0.75, 0.0001225),
        day_month_swapped=(0.12, 0.0000425),
        transposed=(0.02, 0.0001),
        year_digit=(0.12, 0.001135),
        year_off_by_one=(0.005, 0.0002),
        one_digit=(0.01, 0.0021),
        disagree=(0.01, 0.996),
    ),
    "postcode": _levels(
        exact=(0.79, 0.001), one_slip=(0.02, 0.0001), district=(0.06, 0.005), disagree=(0.15, 0.994)
    ),
    "sex": _levels(agree=(0.99, 0.5), disagree=(0.01, 0.5)),
}


def train(
    world: str, seed: int, size: Size | None = None, progress: Callable[[str], None] = log
) -> tuple[dict[str, Any], dict[str, Any]]:
    size = size or Size()
    start = MatchConfig.model_validate(BOOTSTRAP)
    progress(f"training world {world!r}, seed {seed}")
    population, queries = training_world(world, seed, size)
    progress(f"{len(population):,} children, {len(queries):,} searches; preparing")
    records = [PreparedIdentity.of(c) for c in population]
    prepared = [PreparedIdentity.of(q.identity) for q in queries]

    # u from random pairs of enrolled children (two draws are the same child only by chance: skipped).
    rng = random.Random(seed + 100)
    random_pairs = [
        (rng.randrange(len(population)), rng.randrange(len(population))) for _ in range(size.random_pairs)
    ]
    random_pairs = [(a, b) for a, b in random_pairs if a != b]
    u = level_frequencies(_expand(patterns_of(random_pairs, records, records, start)), FIELD_LEVELS)
    progress(f"u from {len(random_pairs):,} random pairs")

    m_start = {f: {lvl: p.m for lvl, p in getattr(start, f).items()} for f in FIELDS}
    sessions: list[tuple[EmResult, tuple[str, ...]]] = []
    session_notes = []
    for rule, estimate in SESSIONS.items():
        pairs = session_pairs(rule, queries, population)
        counts = patterns_of(pairs, prepared, records, start)
        result = expectation_maximisation(counts, m_start, u, estimate, tolerance=EM_TOLERANCE)
        sessions.append((result, estimate))
        session_notes.append(
            {
                "rule": rule,
                "pairs": len(pairs),
                "estimated": list(estimate),
                "match_share": round(result.match_share, 5),
                "iterations": result.iterations,
                "converged": result.converged,
            }
        )
        progress(
            f"EM '{rule}': {len(pairs):,} pairs, lambda {result.match_share:.4f}, "
            f"{result.iterations} iterations"
        )
    m = combine_sessions(sessions, FIELDS)

    data: dict[str, Any] = {
        k: v for k, v in MatchConfig.model_validate(BOOTSTRAP).model_dump().items() if k not in FIELD_LEVELS
    }
    for f in FIELDS:
        floored = {lvl: max(p, M_FLOOR) for lvl, p in m[f].items()}
        total = sum(floored.values())
        data[f] = {
            lvl: {"m": _significant(floored[lvl] / total), "u": _significant(u[f][lvl])}
            for lvl in FIELD_LEVELS[f]
        }
    data["population_size"] = THRESHOLD_POPULATION
    data["match_threshold"] = threshold(MATCH_LOG_ODDS, THRESHOLD_POPULATION)
    data["possible_threshold"] = threshold(POSSIBLE_LOG_ODDS, THRESHOLD_POPULATION)
    data["corroborated_threshold"] = (
        None if CORROBORATED_LOG_ODDS is None else threshold(CORROBORATED_LOG_ODDS, THRESHOLD_POPULATION)
    )
    data["name_frequency_adjustment"] = 1.0
    data["provenance"] = {
        "command": "make train-matching" + ("" if world == "own" else f" (--world {world})"),
        "world": world,
        "seed": seed,
        "children": len(population),
        "searches": len(queries),
        "random_pairs": len(random_pairs),
        "size": asdict(size),
        "m_floor": M_FLOOR,
        "sessions": session_notes,
        "thresholds": {
            "population": THRESHOLD_POPULATION,
            "match_log2_odds": MATCH_LOG_ODDS,
            "possible_log2_odds": POSSIBLE_LOG_ODDS,
            "corroborated_log2_odds": CORROBORATED_LOG_ODDS,
        },
    }
    MatchConfig.model_validate(data)  # refuse to write what the service could not load
    return data, name_frequency_table(population)


def _expand(counts: Counter[Pattern]) -> Iterable[Pattern]:
    for pattern, n in counts.items():
        for _ in range(n):
            yield pattern


def dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--world", default="own", choices=("own", "synthetic", "febrl", "real_world"))
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=DATA / "match_config.json")
    parser.add_argument("--frequencies", type=Path, default=DATA / "name_frequencies.json")
    parser.add_argument(
        "--check", action="store_true", help="fail if the files on disk differ from a fresh run"
    )
    parser.add_argument("--children", type=int, default=Size.children, help="training population")
    parser.add_argument("--searches", type=int, default=Size.searches)
    parser.add_argument("--random-pairs", type=int, default=Size.random_pairs)
    args = parser.parse_args(argv)
    size = Size(children=args.children, searches=args.searches, random_pairs=args.random_pairs)
    config, frequencies = train(args.world, args.seed, size)
    outputs = {args.out: dump(config), args.frequencies: dump(frequencies)}
    if args.check:
        stale = [str(p) for p, text in outputs.items() if not p.exists() or p.read_text() != text]
        if stale:
            print(f"not reproduced from seed {args.seed}: {', '.join(stale)}", file=sys.stderr)
            return 1
        print("the shipped configuration is reproduced from its seeds")
        return 0
    for path, text in outputs.items():
        path.write_text(text)
        log(f"wrote {path}")
    print("level                               m          u          weight")
    for f in FIELDS:
        for lvl, p in config[f].items():
            print(f"  {f + '.' + lvl:<34}{p['m']:<11.5g}{p['u']:<11.5g}{math.log2(p['m'] / p['u']):+.2f}")
    print(
        f"thresholds at N={config['population_size']:,}: match {config['match_threshold']}, possible "
        f"{config['possible_threshold']}, corroborated {config['corroborated_threshold']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
