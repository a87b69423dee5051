"""Matching benchmark (issue 5), in memory: no DynamoDB, no KMS.

    python tests/bench/bench_matching.py [--children 500000] [--queries 20000] [--never 1000]

1. Builds a seeded synthetic population of children (see matching_population.py)
   and every record's blocking keys, held in an in-memory key -> children index
   (what the blind-index GSI holds, minus the HMAC).
2. Part B, blocking at scale: block sizes, and how many candidates each search
   reads (the union of its keys' blocks), p50/p99/max.
3. Part A, matching quality: corrupted searches for enrolled children (error types
   in the stated proportions) and searches for never-enrolled children, decided by
   the matcher over the candidates blocking found. Prints the rates per error type.

``--calibrate`` also prints m/u estimates per field level (m from corrupted searches
against the true record, u from random pairs) to refresh MatchConfig's defaults.
The last line of output is one JSON object with all figures.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from matching_population import (
    InMemoryIndex,
    InMemorySearcher,
    NamePools,
    PopulationSpec,
    Query,
    corrupted_queries,
    evaluate,
    exact_name_dob_collisions,
    generate_population,
    name_sharing,
    never_enrolled_queries,
    percentile,
    summarise_counts,
)
from signpost.matching import DEFAULT, MatchIdentity, record_blocking_keys, score


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def calibrate(population: list[MatchIdentity], queries: list[Query], seed: int, pairs: int = 200_000) -> None:
    """Print m and u estimates per field level."""
    rng = random.Random(seed)
    m_counts: dict[str, Counter[str]] = defaultdict(Counter)
    u_counts: dict[str, Counter[str]] = defaultdict(Counter)
    enrolled = [q for q in queries if q.truth is not None]
    for q in enrolled:
        assert q.truth is not None
        for name, level in score(q.identity, population[q.truth]).fields.items():
            m_counts[name][level] += 1
    for _ in range(pairs):
        q = rng.choice(enrolled)
        other = rng.randrange(len(population))
        if other == q.truth:
            continue
        for name, level in score(q.identity, population[other]).fields.items():
            u_counts[name][level] += 1
    print("\nCalibration: level, m = P(level|same child), u = P(level|different), log2(m/u)")
    for name in ("given", "family", "date_of_birth", "postcode", "sex", "name_order", "name_source"):
        m_total = sum(v for k, v in m_counts[name].items() if k != "missing") or 1
        u_total = sum(v for k, v in u_counts[name].items() if k != "missing") or 1
        print(f"  {name}")
        for level in sorted(set(m_counts[name]) | set(u_counts[name])):
            if level == "missing":
                continue
            m = m_counts[name][level] / m_total
            u = u_counts[name][level] / u_total
            weight = f"{(m / u):.3g}" if u else "inf"
            print(f"    {level:<20} m={m:.5f}  u={u:.6f}  m/u={weight}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--children", type=int, default=500_000)
    parser.add_argument("--queries", type=int, default=20_000, help="corrupted searches of enrolled children")
    parser.add_argument(
        "--never", type=int, default=5_000, help="searches for never-enrolled children (0.1%% of 5,000 is 5)"
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--surname-tail",
        type=float,
        default=PopulationSpec().surname_tail_share,
        help="share of households with a surname outside Faker's 500 commonest (0 = Faker en_GB only)",
    )
    parser.add_argument("--calibrate", action="store_true")
    parser.add_argument("--show-failures", type=int, default=0, help="print this many misses")
    parser.add_argument("--show-kind", default="", help="only print misses of this kind")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    log(f"name pools (Faker en_GB, seed {args.seed})")
    pools = NamePools.build(args.seed)
    log(f"population: {args.children:,} children")
    nhs_taken: set[str] = set()
    spec = PopulationSpec(surname_tail_share=args.surname_tail)
    population = generate_population(args.children, args.seed, pools, spec, nhs_taken=nhs_taken)
    never_children = generate_population(args.never, args.seed + 1, pools, spec, nhs_taken=nhs_taken)

    log("record blocking keys -> in-memory index")
    index = InMemoryIndex()
    keys_per_record: list[int] = []
    largest_by_prefix: Counter[str] = Counter()
    t0 = time.perf_counter()
    for i, child in enumerate(population):
        keys = record_blocking_keys(child)
        keys_per_record.append(len(keys))
        index.add(i, keys)
        if (i + 1) % 100_000 == 0:
            log(f"  {i + 1:,} records, {len(index):,} distinct keys, peak RSS {peak_rss_mb()} MB")
    index_seconds = time.perf_counter() - t0
    gc.collect()
    block_sizes = sorted(index.block_sizes())
    # Which key families make the biggest blocks (sampled on the largest few hundred keys).
    for i in range(0, len(population), max(1, len(population) // 20_000)):
        for key in record_blocking_keys(population[i]):
            largest_by_prefix[key.split(":", 1)[0]] = max(
                largest_by_prefix[key.split(":", 1)[0]], len(index.block(key))
            )
    log(
        f"index: {len(index):,} keys, {index.entries:,} entries, built in {index_seconds:.1f}s; "
        f"largest block {block_sizes[-1]}, p99 block {percentile(block_sizes, 99)}"
    )

    log(f"queries: {args.queries:,} corrupted searches of enrolled children + {args.never:,} never enrolled")
    queries = corrupted_queries(population, args.queries, args.seed + 2, pools)
    never = never_enrolled_queries(never_children, args.seed + 3)
    collisions = exact_name_dob_collisions(population, never_children)
    sharing = name_sharing(population)

    log("searching")
    evaluation = evaluate(
        InMemorySearcher(population, index),
        [*queries, *never],
        progress=lambda n: log(f"  {n:,} searches"),
        keep_failures=args.show_failures if not args.show_kind else 10**9,
    )
    summary = evaluation.summary()

    print("\nPart B - blocking at scale")
    print(f"  children                      {len(population):,}")
    print(f"  record keys per child         {summarise_counts(keys_per_record)}")
    print(f"  distinct keys / entries       {len(index):,} / {index.entries:,}")
    print(f"  largest block / p99 block     {block_sizes[-1]} / {percentile(block_sizes, 99)}")
    print(f"  largest block by key family   {dict(largest_by_prefix.most_common())} (sampled)")
    print(
        f"  keys per search               p50 {summary['keys_per_search_p50']}, "
        f"p99 {summary['keys_per_search_p99']}, max {summary['keys_per_search_max']}"
    )
    print(
        f"  candidates read per search    p50 {summary['candidates_p50']}, p99 {summary['candidates_p99']}, "
        f"max {summary['candidates_max']}"
    )

    print("\nPart A - matching quality (in-memory blocking + score + classify)")
    header = (
        f"  {'kind':<16}{'n':>7}{'match':>9}{'m|poss':>9}{'wrong':>8}{'any m':>8}{'poss':>8}{'blocked':>9}"
    )
    print(header)
    for kind in sorted(evaluation.by_kind):
        t = evaluation.by_kind[kind].as_dict()
        print(
            f"  {kind:<16}{t['searches']:>7}{t['correct_match']:>9.4f}{t['match_or_possible']:>9.4f}"
            f"{t['wrong_child_match']:>8.4f}{t['any_match']:>8.4f}{t['possible_match']:>8.4f}"
            f"{t['blocking_recall']:>9.4f}"
        )
    print(
        f"  never-enrolled children sharing first name, surname and DOB with an enrolled child: "
        f"{collisions} of {len(never_children)}"
    )
    print(
        f"  chance two children share a first name {sharing['first_name']:.5f}, "
        f"a surname {sharing['surname']:.5f} (what drives false matches)"
    )
    for query, outcome, named, levels in evaluation.failures:
        if args.show_kind and query.kind != args.show_kind:
            continue
        truth = population[query.truth] if query.truth is not None else None
        print(f"\n  MISS {query.kind}: {outcome} {named}\n    query  {query.identity}\n    truth  {truth}")
        for line in levels[:4]:
            print(f"    {line}")

    if args.calibrate:
        calibrate(population, queries, args.seed + 4)

    figures = {
        "children": len(population),
        "seed": args.seed,
        "surname_tail_share": args.surname_tail,
        **summary,
        "never_enrolled_exact_name_dob_collisions": collisions,
        "p_share_first_name": round(sharing["first_name"], 5),
        "p_share_surname": round(sharing["surname"], 5),
        "record_keys_per_child_mean": round(sum(keys_per_record) / len(keys_per_record), 2),
        "record_keys_per_child_max": max(keys_per_record),
        "index_distinct_keys": len(index),
        "index_entries": index.entries,
        "largest_block": block_sizes[-1],
        "p99_block": percentile(block_sizes, 99),
        "match_threshold": DEFAULT.match_threshold,
        "possible_threshold": DEFAULT.possible_threshold,
        "ambiguity_margin": DEFAULT.ambiguity_margin,
        "by_kind": {kind: tally.as_dict() for kind, tally in sorted(evaluation.by_kind.items())},
        "peak_rss_mb": peak_rss_mb(),
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(figures, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
