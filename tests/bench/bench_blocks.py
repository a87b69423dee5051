"""Block items at national scale, in memory: how big blocks get and what a search reads.

    python tests/bench/bench_blocks.py [--children 500000] [--queries 20000]

Enrols the synthetic population of matching_population.py under the keys a record
is stored with (key_scheme: ranked, capped at MAX_RECORD_KEYS), then prints:

- block sizes (children per block): p50, p99, max, and the largest block item's size
  in bytes as DynamoDB counts it (one attribute per child: its 32-character id and
  its status), against the 400 KB item limit and MAX_BLOCK_ENTRIES;
- per search: keys (= blocks read in its one BatchGetItem), children found in those
  blocks, and candidates read (capped at MAX_CANDIDATES, best first);
- transaction items for a child with the ten aliases API.md allows: register,
  correct every identity field, close (the store's own transaction plan).

The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from matching_population import (
    InMemoryIndex,
    NamePools,
    PopulationSpec,
    corrupted_queries,
    generate_population,
    never_enrolled_queries,
    percentile,
)
from signpost.dal.blocks import MAX_BLOCK_ENTRIES
from signpost.matching.key_scheme import KEY_SCHEME_VERSION, MAX_RECORD_KEYS, key_scheme
from signpost.settings import Settings

CHILD_ID_LENGTH = 32  # uuid4 hex
ITEM_LIMIT = 400 * 1024


def block_item_bytes(children: int) -> int:
    """pk "BLOCK#<64 hex>", sk "BLOCK", n, and one attribute per child (id -> "c:YYYY-MM-DD" at most)."""
    fixed = len("pk") + len("BLOCK#") + 64 + len("sk") + len("BLOCK") + len("n") + 4
    return fixed + children * (CHILD_ID_LENGTH + len("c:2026-01-01"))


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def ten_alias_transactions() -> dict[str, int]:
    """Items in each transaction of a ten-alias child's life, from the store's own plan (no AWS)."""
    from signpost.logic import records  # noqa: PLC0415
    from signpost.models.children import CloseRequest, RegisterRequest, UpdateRequest  # noqa: PLC0415

    from tests.support.identities import OTHER_TEN_ALIASES, TEN_ALIASES  # noqa: PLC0415
    from tests.unit.logic.conftest import CAMDEN, register_body  # noqa: PLC0415
    from tests.unit.logic.fakes import make_services  # noqa: PLC0415 - the unit fakes, only here

    services, store, _, _ = make_services()
    child = {
        "given_names": "Zofia Maria",
        "family_name": "Wiśniewska-Hart",
        "date_of_birth": "2013-09-30",
        "nhs_number": "9434765870",
        "postcode": "E8 1DY",
        "other_names": OTHER_TEN_ALIASES,
    }
    created = records.register(services, CAMDEN, RegisterRequest.model_validate(register_body(child)), None)
    child_id = created.body["child_id"]
    change = {
        "given_names": "Aleksandra Teresa",
        "family_name": "Brzeczyszczykiewicz-Lloyd",
        "date_of_birth": "2012-02-29",
        "postcode": "SW1A 1AA",
        "nhs_number": "9434765919",
        "other_names": TEN_ALIASES,
    }
    records.update_child(services, CAMDEN, child_id, UpdateRequest.model_validate(change))
    records.close_child(services, CAMDEN, child_id, CloseRequest(reason="moved_abroad"))
    register, update, close = store.transaction_sizes
    return {"register": register, "correct_every_field": update, "close": close}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--children", type=int, default=500_000)
    parser.add_argument("--queries", type=int, default=20_000)
    parser.add_argument("--never", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    scheme = key_scheme(KEY_SCHEME_VERSION)
    cap = Settings().max_candidates

    log(f"population: {args.children:,} children")
    pools = NamePools.build(args.seed)
    nhs_taken: set[str] = set()
    population = generate_population(args.children, args.seed, pools, PopulationSpec(), nhs_taken=nhs_taken)
    never = generate_population(args.never, args.seed + 1, pools, PopulationSpec(), nhs_taken=nhs_taken)

    log("blocks (keys as stored: ranked, capped)")
    blocks = InMemoryIndex()
    keys_per_record: list[int] = []
    largest_family: Counter[str] = Counter()
    for i, child in enumerate(population):
        keys = scheme.ranked_record_keys(child)
        keys_per_record.append(len(keys))
        blocks.add(i, keys)
        if (i + 1) % 100_000 == 0:
            log(f"  {i + 1:,} children, {len(blocks):,} blocks")
    sizes = sorted(blocks.block_sizes())
    for child in population[:: max(1, len(population) // 20_000)]:
        for key in scheme.ranked_record_keys(child):
            family = key.split(":", 1)[0]
            largest_family[family] = max(largest_family[family], len(blocks.block(key)))

    log("searches")
    queries = corrupted_queries(population, args.queries, args.seed + 2, pools)
    queries += never_enrolled_queries(never, args.seed + 3)
    keys_read: list[int] = []
    found: list[int] = []
    read: list[int] = []
    for query in queries:
        keys = scheme.ranked_search_keys(query.identity)
        union = blocks.candidates(keys)
        keys_read.append(len(keys))
        found.append(len(union))
        read.append(min(len(union), cap))

    figures = {
        "children": len(population),
        "key_scheme_version": KEY_SCHEME_VERSION,
        "record_keys_per_child": {
            "mean": round(sum(keys_per_record) / len(keys_per_record), 2),
            "max": max(keys_per_record),
            "cap": MAX_RECORD_KEYS,
        },
        "blocks": len(blocks),
        "block_children": {"p50": percentile(sizes, 50), "p99": percentile(sizes, 99), "max": sizes[-1]},
        "largest_block_by_family": dict(largest_family.most_common()),
        "largest_block_item_bytes": block_item_bytes(sizes[-1]),
        "block_entry_limit": MAX_BLOCK_ENTRIES,
        "block_entry_limit_item_bytes": block_item_bytes(MAX_BLOCK_ENTRIES),
        "item_limit_bytes": ITEM_LIMIT,
        "searches": len(queries),
        "blocks_read_per_search": {
            "p50": percentile(keys_read, 50),
            "p99": percentile(keys_read, 99),
            "max": max(keys_read),
        },
        "children_in_blocks_per_search": {
            "p50": percentile(found, 50),
            "p99": percentile(found, 99),
            "max": max(found),
        },
        "candidates_read_per_search": {"p50": percentile(read, 50), "p99": percentile(read, 99), "cap": cap},
        "ten_alias_child_transaction_items": ten_alias_transactions(),
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(
        f"blocks: {len(blocks):,}; children per block p50 {figures['block_children']['p50']}, "
        f"p99 {figures['block_children']['p99']}, max {sizes[-1]} "
        f"({figures['largest_block_item_bytes']:,} bytes of {ITEM_LIMIT:,}; "
        f"limit {MAX_BLOCK_ENTRIES} entries)"
    )
    print(f"largest block by key family: {figures['largest_block_by_family']} (sampled)")
    print(
        f"per search: blocks read {figures['blocks_read_per_search']}, children in them "
        f"{figures['children_in_blocks_per_search']}, candidates read {figures['candidates_read_per_search']}"
    )
    print(f"ten-alias child, items per transaction: {figures['ten_alias_child_transaction_items']}")
    print(json.dumps(figures, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
