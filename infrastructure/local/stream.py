"""DynamoDB streams, locally: moto has no usable stream API, so the stream records are
built from the writes themselves and fed to the function that consumes the stream - the
records table's to the notifier, the audit table's to the audit sealer.

How: botocore event hooks on the default boto3 session (which every client the
handlers create inherits) see each successful PutItem, UpdateItem, DeleteItem,
BatchWriteItem and TransactWriteItems on the stream's table. Before the call the
items' old images are read, after it the new ones, and a stream record of the real
shape is queued (INSERT / MODIFY / REMOVE, NEW_AND_OLD_IMAGES, increasing sequence
numbers). The gateway's ``after_invoke`` hook then hands the queue to the consumer the
way the event source mapping of template.yaml would: through its FilterCriteria, in
batches of its BatchSize, retrying from the first reported batchItemFailure up to
MaximumRetryAttempts, bisecting a batch whose invocation raised, and setting aside
(as the OnFailure destination would: a message of Lambda's on-failure shape, metadata
only, in the template's failure queue) what still fails. So a notification is in the
inbox, and an audit entry sealed, when the API response that caused it is sent. The
stream keeps its records, so it can also be read again by sequence number
(`records`), as `signpost-admin redrive-notifications` reads DynamoDB Streams.
(MaximumRetryAttempts -1, "until the record expires", stops locally after
LOCAL_RETRY_CAP attempts: the records then count as expired from the stream.)
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import itertools
import json
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from signpost.dal.clients import reset_clients

from infrastructure.cfn_yaml import load_template
from infrastructure.local.aws import REGION, TEMPLATE_PATH, LocalAws

WRITE_OPERATIONS = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
NOTIFIER = "NotifierFunction"
AUDIT_SEALER = "AuditSealerFunction"
LOCAL_RETRY_CAP = 20
SHARD_ID = "shardId-00000001700000000000-10ca1000"
_RETAINED = 100_000  # records kept for reading again (DynamoDB Streams keeps 24 hours)
_CONTEXT_KEY = "signpost_local_stream"
_BATCH_GET_LIMIT = 100
_KEPT_LATENCIES = 10_000

Invoke = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class StreamMapping:
    """A function's DynamoDB event source mapping, as template.yaml declares it."""

    table: str = "RecordsTable"  # logical id of the table whose stream it reads
    on_failure: str | None = None  # logical id of the OnFailure queue
    batch_size: int = 100
    maximum_retry_attempts: int = 5
    bisect_on_error: bool = True
    report_batch_item_failures: bool = True
    filters: tuple[Mapping[str, Any], ...] = ()

    @classmethod
    def from_template(cls, template_path: Path = TEMPLATE_PATH, function: str = NOTIFIER) -> StreamMapping:
        resource = load_template(template_path)["Resources"][function]
        for event in resource["Properties"].get("Events", {}).values():
            if event.get("Type") == "DynamoDB":
                props = event["Properties"]
                patterns = [
                    json.loads(f["Pattern"]) for f in props.get("FilterCriteria", {}).get("Filters", [])
                ]
                destination = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
                return cls(
                    table=str(props["Stream"]["Fn::GetAtt"][0]),
                    on_failure=str(destination["Fn::GetAtt"][0]) if destination else None,
                    batch_size=int(props.get("BatchSize", 100)),
                    maximum_retry_attempts=int(props.get("MaximumRetryAttempts", -1)),
                    bisect_on_error=bool(props.get("BisectBatchOnFunctionError", False)),
                    report_batch_item_failures="ReportBatchItemFailures"
                    in props.get("FunctionResponseTypes", []),
                    filters=tuple(patterns),
                )
        raise ValueError(f"template.yaml gives {function} no DynamoDB event")

    def admits(self, record: Mapping[str, Any]) -> bool:
        """Lambda event filtering: no filters admit everything; otherwise any one pattern must match."""
        return not self.filters or any(matches(pattern, record) for pattern in self.filters)


def matches(pattern: Any, value: Any) -> bool:
    """The subset of event-pattern matching the template uses: nested objects whose leaves are
    lists of allowed values (exact strings, numbers, booleans, null), plus `prefix` and `exists`."""
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return False
        for name, sub in pattern.items():
            if isinstance(sub, list) and any(isinstance(s, dict) and "exists" in s for s in sub):
                wanted = next(s["exists"] for s in sub if isinstance(s, dict) and "exists" in s)
                if (name in value) != bool(wanted):
                    return False
                continue
            if name not in value or not matches(sub, value[name]):
                return False
        return True
    if isinstance(pattern, list):
        for allowed in pattern:
            if isinstance(allowed, dict) and "prefix" in allowed:
                if isinstance(value, str) and value.startswith(str(allowed["prefix"])):
                    return True
            elif not isinstance(allowed, dict) and value == allowed:
                return True
        return False
    return bool(pattern == value)


@dataclass
class _Pending:
    record: dict[str, Any]
    captured_at: float  # time.perf_counter() when the write returned
    attempts: int = 0


@dataclass
class StreamStats:
    delivered: int = 0
    filtered_out: int = 0
    invocations: int = 0
    retried: int = 0
    set_aside: list[dict[str, Any]] = field(default_factory=list)  # the OnFailure destination
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=_KEPT_LATENCIES))


def _json_safe(attribute_map: Mapping[str, Any]) -> dict[str, Any]:
    """boto3's attribute values → the JSON a stream event carries (binary as base64)."""

    def convert(value: Any) -> Any:
        if isinstance(value, bytes | bytearray):
            return base64.b64encode(bytes(value)).decode("ascii")
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        if isinstance(value, set):
            return [convert(v) for v in sorted(value)]
        return value

    return {k: convert(v) for k, v in attribute_map.items()}


def _key_of(item: Mapping[str, Any]) -> tuple[str, str]:
    return (item["pk"]["S"], item["sk"]["S"])


class LocalStream:
    """Captures a table's writes as stream records and feeds them to the function on its stream."""

    def __init__(self, aws: LocalAws, mapping: StreamMapping | None = None, function: str = NOTIFIER) -> None:
        self.function = function
        self.mapping = mapping or StreamMapping.from_template(aws.template_path, function)
        self.table = aws.tables[self.mapping.table]
        self._failure_queue = aws.queue_urls.get(self.mapping.on_failure or "")
        self._retained: deque[dict[str, Any]] = deque(maxlen=_RETAINED)
        self._context_key = f"{_CONTEXT_KEY}:{self.table}"  # one per stream: both see every write
        self.stats = StreamStats()
        self._lock = threading.Lock()
        self._queue: list[_Pending] = []
        self._sequence = itertools.count(100_000_000_000_000_000_001)
        self._stream_arn: str | None = None
        self._reader: Any = None
        self._active = False
        self._session: Any = None

    # hooks -----------------------------------------------------------------------
    def install(self) -> LocalStream:
        self._session = boto3._get_default_session()
        for operation in WRITE_OPERATIONS:
            self._session.events.register(f"before-parameter-build.dynamodb.{operation}", self._before)
            self._session.events.register(f"after-call.dynamodb.{operation}", self._after)
        self._reader = boto3.client("dynamodb", region_name=REGION)
        self._active = True
        reset_clients()  # clients made before now would not carry the hooks
        return self

    def uninstall(self) -> None:
        self._active = False
        if self._session is not None:
            for operation in WRITE_OPERATIONS:
                self._session.events.unregister(f"before-parameter-build.dynamodb.{operation}", self._before)
                self._session.events.unregister(f"after-call.dynamodb.{operation}", self._after)
            self._session = None

    def _before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if not self._active:
            return
        writes = list(self._writes(model.name, params))
        if writes:
            context[self._context_key] = (writes, self._read([k for k, _, _ in writes]))

    def _after(
        self, http_response: Any, parsed: Mapping[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        captured = context.pop(self._context_key, None)
        if captured is None or not self._active or http_response.status_code >= 300 or "Error" in parsed:
            return
        writes, old_images = captured
        unprocessed = self._unprocessed(parsed)
        updated = [k for k, kind, _ in writes if kind == "update"]
        new_images = self._read(updated) if updated else {}
        now = time.perf_counter()
        records = []
        for item_key, kind, item in writes:
            if item_key in unprocessed:
                continue
            old = old_images.get(item_key)
            new = item if kind == "put" else new_images.get(item_key) if kind == "update" else None
            if old is None and new is None:
                continue  # deleting nothing makes no stream record
            records.append(self._record(item_key, old, new))
        with self._lock:
            self._queue.extend(_Pending(r, now) for r in records)
            self._retained.extend(records)

    def _writes(
        self, operation: str, params: Mapping[str, Any]
    ) -> Iterable[tuple[tuple[str, str], str, Any]]:
        """(key, put|update|delete, item) for each write to the records table in a request."""
        if operation == "TransactWriteItems":
            for entry in params.get("TransactItems", []):
                for kind, op in entry.items():
                    if op.get("TableName") != self.table or kind == "ConditionCheck":
                        continue
                    if kind == "Put":
                        yield _key_of(op["Item"]), "put", op["Item"]
                    else:
                        yield _key_of(op["Key"]), kind.lower(), None
        elif operation == "BatchWriteItem":
            for request in params.get("RequestItems", {}).get(self.table, []):
                if "PutRequest" in request:
                    item = request["PutRequest"]["Item"]
                    yield _key_of(item), "put", item
                else:
                    yield _key_of(request["DeleteRequest"]["Key"]), "delete", None
        elif params.get("TableName") == self.table:
            if operation == "PutItem":
                yield _key_of(params["Item"]), "put", params["Item"]
            elif operation == "UpdateItem":
                yield _key_of(params["Key"]), "update", None
            elif operation == "DeleteItem":
                yield _key_of(params["Key"]), "delete", None

    def _unprocessed(self, parsed: Mapping[str, Any]) -> set[tuple[str, str]]:
        left: set[tuple[str, str]] = set()
        for request in (parsed.get("UnprocessedItems") or {}).get(self.table, []):
            item = request.get("PutRequest", {}).get("Item") or request.get("DeleteRequest", {}).get("Key")
            left.add(_key_of(item))
        return left

    def _read(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        found: dict[tuple[str, str], dict[str, Any]] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), _BATCH_GET_LIMIT):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [
                        {"pk": {"S": pk}, "sk": {"S": sk}}
                        for pk, sk in unique[start : start + _BATCH_GET_LIMIT]
                    ],
                    "ConsistentRead": True,
                }
            }
            while request:
                resp = self._reader.batch_get_item(RequestItems=request)
                for item in resp["Responses"].get(self.table, []):
                    found[_key_of(item)] = item
                request = resp.get("UnprocessedKeys") or {}
        return found

    def _record(
        self, item_key: tuple[str, str], old: dict[str, Any] | None, new: dict[str, Any] | None
    ) -> dict[str, Any]:
        sequence = str(next(self._sequence))
        body: dict[str, Any] = {
            "ApproximateCreationDateTime": int(time.time()),
            "Keys": {"pk": {"S": item_key[0]}, "sk": {"S": item_key[1]}},
            "SequenceNumber": sequence,
            "SizeBytes": len(json.dumps(_json_safe(new or old or {}), default=str)),
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
        if new is not None:
            body["NewImage"] = _json_safe(new)
        if old is not None:
            body["OldImage"] = _json_safe(old)
        return {
            "eventID": hashlib.md5(sequence.encode(), usedforsecurity=False).hexdigest(),
            "eventName": "INSERT" if old is None else "MODIFY" if new is not None else "REMOVE",
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": REGION,
            "dynamodb": body,
            "eventSourceARN": self.stream_arn,
        }

    @property
    def stream_arn(self) -> str:
        if self._stream_arn is None:
            table = self._reader.describe_table(TableName=self.table)["Table"]
            self._stream_arn = str(
                table.get("LatestStreamArn")
                or f"arn:aws:dynamodb:{REGION}:123456789012:table/{self.table}/stream/"
                + dt.datetime.now(tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
            )
        return self._stream_arn

    # delivery ---------------------------------------------------------------------
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def flush(self, invoke: Invoke) -> int:
        """Feed everything captured so far to the notifier (``invoke`` runs its handler with
        an event); returns how many records it took. Runs until the queue is empty."""
        taken = 0
        while True:
            with self._lock:
                queue, self._queue = self._queue, []
            if not queue:
                return taken
            admitted = [p for p in queue if self.mapping.admits(p.record)]
            self.stats.filtered_out += len(queue) - len(admitted)
            for start in range(0, len(admitted), self.mapping.batch_size):
                self._deliver(admitted[start : start + self.mapping.batch_size], invoke)
            taken += len(queue)

    def _deliver(self, batch: list[_Pending], invoke: Invoke) -> None:
        while batch:
            self.stats.invocations += 1
            try:
                response = invoke({"Records": [p.record for p in batch]})
            except Exception:
                if self.mapping.bisect_on_error and len(batch) > 1:
                    middle = len(batch) // 2
                    self._deliver(batch[:middle], invoke)
                    self._deliver(batch[middle:], invoke)
                    return
                batch = self._retry(batch, 0)
                continue
            failed = self._failures(response, batch)
            if failed is None:
                self._done(batch)
                return
            self._done(batch[:failed])
            batch = self._retry(batch, failed)

    def _failures(self, response: Any, batch: list[_Pending]) -> int | None:
        """The index in `batch` to retry from (the lowest reported failure), or None."""
        if not self.mapping.report_batch_item_failures or not isinstance(response, dict):
            return None
        reported = {str(f.get("itemIdentifier")) for f in response.get("batchItemFailures") or []}
        if not reported:
            return None
        positions = [i for i, p in enumerate(batch) if p.record["dynamodb"]["SequenceNumber"] in reported]
        return min(positions) if positions else 0  # an unknown identifier fails the whole batch

    def _retry(self, batch: list[_Pending], start: int) -> list[_Pending]:
        """The records to try again from `start`; those out of attempts are set aside."""
        again, given_up = [], []
        for pending in batch[start:]:
            pending.attempts += 1
            limit = self.mapping.maximum_retry_attempts
            if limit < 0:
                limit = LOCAL_RETRY_CAP
            if limit < pending.attempts:
                given_up.append(pending.record)
            else:
                again.append(pending)
        self.stats.set_aside.extend(given_up)
        if given_up:
            self._send_to_failure_queue(given_up)
        self.stats.retried += len(again)
        return again

    def _send_to_failure_queue(self, records: list[dict[str, Any]]) -> None:
        """What Lambda sends the OnFailure destination: the batch's metadata, never its records."""
        if not self._failure_queue:
            return
        first, last = records[0]["dynamodb"], records[-1]["dynamodb"]

        def arrival(body: Mapping[str, Any]) -> str:
            at = dt.datetime.fromtimestamp(int(body["ApproximateCreationDateTime"]), tz=dt.UTC)
            return at.strftime("%Y-%m-%dT%H:%M:%SZ")

        message = {
            "requestContext": {
                "requestId": hashlib.md5(first["SequenceNumber"].encode(), usedforsecurity=False).hexdigest(),
                "functionArn": f"arn:aws:lambda:{REGION}:123456789012:function:{self.function}",
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": (self.mapping.maximum_retry_attempts % (LOCAL_RETRY_CAP + 1)) + 1,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "version": "1.0",
            "timestamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "DDBStreamBatchInfo": {
                "shardId": SHARD_ID,
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": arrival(first),
                "approximateArrivalOfLastRecord": arrival(last),
                "batchSize": len(records),
                "streamArn": self.stream_arn,
            },
        }
        self._reader_sqs().send_message(QueueUrl=self._failure_queue, MessageBody=json.dumps(message))

    def _reader_sqs(self) -> Any:
        return boto3.client("sqs", region_name=REGION)

    # reading again, by sequence number ------------------------------------------------------
    def records(self, stream_arn: str, shard_id: str, first: str, last: str) -> list[dict[str, Any]]:
        """The retained records from `first` to `last`, as DynamoDB Streams' GetRecords gives them."""
        if stream_arn != self.stream_arn or shard_id != SHARD_ID:
            return []
        with self._lock:
            kept = list(self._retained)
        return [r for r in kept if int(first) <= int(r["dynamodb"]["SequenceNumber"]) <= int(last)]

    def _done(self, delivered: list[_Pending]) -> None:
        now = time.perf_counter()
        self.stats.delivered += len(delivered)
        self.stats.latencies_ms.extend((now - p.captured_at) * 1000 for p in delivered)


_ATTACHED: weakref.WeakKeyDictionary[Any, dict[str, LocalStream]] = weakref.WeakKeyDictionary()


def stream_of(gateway: Any, function: str = NOTIFIER) -> LocalStream | None:
    """The stream attached to `gateway` that feeds `function`, if any (tests, benches)."""
    return _ATTACHED.get(gateway, {}).get(function)


def attach(gateway: Any, aws: LocalAws | None = None, function: str = NOTIFIER) -> LocalStream:
    """Install a stream on `gateway`: after every invocation (but the consumer's own) the
    captured records go to `function` through the gateway, as the event source mapping would."""
    stream = LocalStream(aws or gateway.aws, function=function).install()
    consumer = gateway.routes.function(function).name

    def feed(function_name: str) -> None:
        if function_name != consumer and stream.pending():
            stream.flush(lambda event: gateway.invoke(consumer, event))

    feed.__name__ = f"feed_{consumer}"
    gateway.after_invoke.append(feed)
    _ATTACHED.setdefault(gateway, {})[function] = stream
    return stream


def attach_all(gateway: Any, aws: LocalAws | None = None) -> list[LocalStream]:
    """Both streams of the stack: records -> notifier, audit -> audit sealer."""
    return [attach(gateway, aws, NOTIFIER), attach(gateway, aws, AUDIT_SEALER)]
