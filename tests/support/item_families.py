"""Who may write what in the records table: the expected table, from the code's own key prefixes.

One line per (function, item family): the DynamoDB actions the function's role may use on
items whose partition key starts with that family's prefix, and - where the role may change
only some attributes - which. tests/unit/test_item_writers.py proves template.yaml grants
exactly this; tests/integration/test_item_writers_observed.py proves the functions' real
writes need exactly this. A new item family (or a new writer) is one line here, plus the
prefix in the role's LeadingKeys condition in template.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass

from signpost.dal.audit import CURSOR_PREFIX
from signpost.dal.blocks import BLOCK_PREFIX, GUARD_PREFIX
from signpost.dal.clock import REMINDER_PREFIX, WATERMARK_KEY
from signpost.dal.inbox import inbox_pk
from signpost.dal.rate_limit import RATE_PREFIX
from signpost.dal.records import child_pk
from signpost.dal.reindex import CHECKPOINT_PREFIX
from signpost.dal.store import NHS_GUARD_PREFIX, OUTBOX_PREFIX
from signpost.dal.transfers import CLOCK_PK_PREFIX, TRANSFER_PREFIX


@dataclass(frozen=True)
class Family:
    name: str
    prefix: str
    exact: bool = False  # the partition key is the prefix itself (a singleton item)

    def example(self) -> str:
        return self.prefix if self.exact else f"{self.prefix}example-0001"


FAMILIES = {
    f.name: f
    for f in (
        Family("child", child_pk("")),  # the record
        Family("block", BLOCK_PREFIX),  # blind indexes: one item per key, an attribute per child
        Family("identity_guard", GUARD_PREFIX),
        Family("nhs_guard", NHS_GUARD_PREFIX),
        Family("transfer", TRANSFER_PREFIX),
        Family("transfer_clock", CLOCK_PK_PREFIX),
        Family("outbox", OUTBOX_PREFIX),
        Family("inbox", inbox_pk("")),
        Family("rate", RATE_PREFIX),
        Family("reminder", REMINDER_PREFIX),
        Family("clock_watermark", WATERMARK_KEY["pk"]["S"], exact=True),
        Family("audit_cursor", CURSOR_PREFIX),  # writers' hints, never trusted (dal/audit.py)
        Family("reindex_checkpoint", CHECKPOINT_PREFIX),  # signpost-admin reindex (an operator) only
    )
}
WRITE_ACTIONS = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
)
PUT, UPDATE, DELETE, CHECK = WRITE_ACTIONS

# (function logical id, family) -> actions. Every function is listed (an empty row: no writes).
WRITERS: dict[str, dict[str, set[str]]] = {
    "AuthorizerFunction": {},
    "RecordsFunction": {
        "child": {PUT},
        "block": {UPDATE},  # the child's own attribute in each block (created by the first)
        "identity_guard": {UPDATE},
        "nhs_guard": {PUT, DELETE},
        "transfer": {PUT},  # closing a record withdraws its open transfer ...
        "transfer_clock": {UPDATE},  # ... and stops its clocks, in the same transaction
        "outbox": {PUT},
        "audit_cursor": {PUT},
    },
    "SearchFunction": {"outbox": {PUT}, "rate": {UPDATE}, "audit_cursor": {PUT}},
    "TransfersFunction": {
        "child": {PUT},  # accepting moves the record to the receiving organisation
        "transfer": {PUT},
        "transfer_clock": {PUT, UPDATE},
        "outbox": {PUT},
        "audit_cursor": {PUT},
    },
    "InboxFunction": {"inbox": {UPDATE}},
    "NotifierFunction": {"inbox": {PUT, UPDATE}},
    "ClockFunction": {
        "transfer_clock": {UPDATE},
        "child": {UPDATE, CHECK},  # delisting: the record's block list only (ATTRIBUTE_LIMITS)
        "block": {UPDATE},  # delisting: a block's attributes are children's ids, so not limited
        "reminder": {PUT},
        "clock_watermark": {PUT},
        "outbox": {PUT},
    },
}

CLOCK_INDEX_KEYS = {"gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"}  # a stopped clock leaves both indexes
# (function, family, action) -> the only attributes that request may name (keys, values
# written, and attributes its condition reads). Absent: the whole item is the function's.
ATTRIBUTE_LIMITS: dict[tuple[str, str, str], set[str]] = {
    ("InboxFunction", "inbox", UPDATE): {"pk", "sk", "read", "read_at", "gsi1pk", "gsi1sk"},
    ("ClockFunction", "transfer_clock", UPDATE): {"pk", "sk", "fired_at", "gsi1pk", "gsi1sk", "gsi2pk"},
    ("RecordsFunction", "transfer_clock", UPDATE): {
        "pk",
        "sk",
        "stopped_at",
        "expires_at",
        *CLOCK_INDEX_KEYS,
    },
    ("ClockFunction", "child", UPDATE): {"pk", "sk", "blocks", "version", "gsi1pk"},
}


def family_of(partition_key: str) -> str:
    """The family an item belongs to, by its partition key."""
    for family in FAMILIES.values():
        if partition_key == family.prefix or (not family.exact and partition_key.startswith(family.prefix)):
            return family.name
    raise LookupError(f"no item family for partition key {partition_key[:20]!r}")
