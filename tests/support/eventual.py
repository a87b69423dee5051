"""Eventually consistent reads that lag, as DynamoDB's may and moto's never do.

On AWS a GSI Query, a Scan, and a GetItem/BatchGetItem/Query without
``ConsistentRead`` may miss a write that completed a moment ago. moto answers them
from the live table. Inside :func:`lagging_reads` those reads of the named tables
see the tables as they were when the block started (or at the last
:meth:`LaggingReads.catch_up`); strongly consistent reads of the base table see
everything, as on AWS.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.dynamodb.models import dynamodb_backends

from infrastructure.local.aws import ACCOUNT_ID

_EVENTUAL = {"Query", "Scan", "GetItem", "BatchGetItem"}


def _eventual(model: Any, params: dict[str, Any]) -> bool:
    if model.name not in _EVENTUAL:
        return False
    if model.name == "BatchGetItem":
        return not all(t.get("ConsistentRead") for t in params["RequestItems"].values())
    return bool(params.get("IndexName")) or model.name == "Scan" or not params.get("ConsistentRead")


class LaggingReads:
    def __init__(self, client: Any, tables: list[str]) -> None:
        self._client = client
        self._tables = tables
        self._snapshots: dict[str, Any] = {}
        self._live: dict[str, Any] = {}
        self.lagged = 0  # reads answered from the past

    @property
    def _backend(self) -> Any:
        return dynamodb_backends[ACCOUNT_ID][self._client.meta.region_name]

    def catch_up(self) -> None:
        """Let eventually consistent reads see every write made so far."""
        self._snapshots = {name: copy.deepcopy(self._backend.tables[name].items) for name in self._tables}

    def before(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        if not _eventual(model, params):
            return
        self.lagged += 1
        for name, items in self._snapshots.items():
            table = self._backend.tables[name]
            self._live[name] = table.items
            table.items = items

    def after(self, **_: Any) -> None:
        for name, items in self._live.items():
            self._backend.tables[name].items = items
        self._live.clear()


@contextmanager
def lagging_reads(client: Any, tables: list[str]) -> Iterator[LaggingReads]:
    """Eventually consistent reads of `tables` through `client` lag behind writes until catch_up."""
    lag = LaggingReads(client, tables)
    lag.catch_up()
    events = client.meta.events
    events.register("provide-client-params.dynamodb.*", lag.before)
    events.register("after-call.dynamodb.*", lag.after)
    events.register("after-call-error.dynamodb.*", lag.after)
    try:
        yield lag
    finally:
        events.unregister("provide-client-params.dynamodb.*", lag.before)
        events.unregister("after-call.dynamodb.*", lag.after)
        events.unregister("after-call-error.dynamodb.*", lag.after)
        lag.after()
