"""Storage at scale: bytes per child and per search, from the items the benchmark wrote.

A test-only Scan of moto's tables (the product never scans) sizes every item as DynamoDB
does, with its copies in global secondary indexes and DynamoDB's 100 bytes of overhead per
item, grouped by kind (the partition key's prefix). Snapshots before and after the searches
give what a search leaves behind: kept for ever (audit), for 14 days (outbox) or 365 (inbox).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from infrastructure.local.aws import LocalAws
from tests.bench import cost_model
from tests.bench.aws_usage import INDEX_ENTRY_OVERHEAD, item_size, template_indexes
from tests.support.tables import scan

CHILDREN_AT_SCALE = 500_000


def table_bytes(aws: LocalAws) -> dict[str, Counter[str]]:
    """Bytes and items by table and kind of item (its key prefix), with index copies
    (test-only Scan of moto's tables: the product never scans)."""
    indexes = template_indexes(aws.tables)
    out: dict[str, Counter[str]] = {}
    for logical_id, name in aws.tables.items():
        sizes: Counter[str] = Counter()
        for item in scan(aws, logical_id):
            key = item.get("pk") or item.get("id") or {}
            kind = str(key.get("S", "item")).split("#")[0] if logical_id != "DirectoryTable" else "org"
            size = item_size(item) + INDEX_ENTRY_OVERHEAD  # DynamoDB's per-item overhead
            for key_attribute, projection in indexes[name].values():
                if key_attribute in item:  # its copy in the index
                    projected = (
                        item
                        if projection == "ALL"
                        else {k: v for k, v in item.items() if k in ("pk", "sk", "id", key_attribute)}
                    )
                    size += item_size(projected) + INDEX_ENTRY_OVERHEAD
            sizes[f"{logical_id}:{kind}:bytes"] += size
            sizes[f"{logical_id}:{kind}:items"] += 1
        out[logical_id] = sizes
    return out


def _bytes(
    snapshot: dict[str, Counter[str]], *, only: tuple[str, ...] = (), skip: tuple[str, ...] = ()
) -> int:
    total = 0
    for sizes in snapshot.values():
        for key, value in sizes.items():
            _table, kind, what = key.split(":")
            if what != "bytes" or (only and kind not in only) or kind in skip:
                continue
            total += value
    return total


def storage_model(
    after_population: dict[str, Counter[str]],
    after_searches: dict[str, Counter[str]],
    children: int,
    searches: int,
) -> dict[str, Any]:
    per_child = _bytes(after_population, skip=("OUTBOX", "INBOX", "org")) / max(children, 1)
    delta: dict[str, Counter[str]] = {
        t: after_searches[t] - after_population.get(t, Counter()) for t in after_searches
    }
    per_search_kept = _bytes(delta, skip=("OUTBOX", "INBOX", "org")) / max(searches, 1)
    per_search_outbox = _bytes(delta, only=("OUTBOX",)) / max(searches, 1)
    per_search_inbox = _bytes(delta, only=("INBOX",)) / max(searches, 1)
    searches_a_year = cost_model.DESIGN_LOAD.per_day["POST /v1/searches"] * 365
    at_start = CHILDREN_AT_SCALE * per_child
    # outbox items live 14 days (TTL), inbox items 365: a year in, both are at steady state
    after_year = at_start + searches_a_year * (
        per_search_kept + per_search_outbox * 14 / 365 + per_search_inbox
    )
    return {
        "bytes_per_child": round(per_child),
        "bytes_per_search_kept": round(per_search_kept),
        "bytes_per_search_outbox_ttl_14d": round(per_search_outbox),
        "bytes_per_search_inbox_ttl_365d": round(per_search_inbox),
        "children": CHILDREN_AT_SCALE,
        "gb_at_start": round(at_start / 1e9, 3),
        "gb_after_one_year": round(after_year / 1e9, 2),
        "by_kind_per_search": {
            k.rsplit(":", 1)[0]: round(v / max(searches, 1))
            for sizes in delta.values()
            for k, v in sizes.items()
            if k.endswith(":bytes") and v > 0
        },
    }
