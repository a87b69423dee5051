"""The import queue, locally: moto's SQS holds the batch messages, and this feeds them to the
import worker the way template.yaml's SQS event source mapping does in AWS.

A poller receives up to the mapping's BatchSize messages, invokes the worker with an SQS
event of the real shape (ApproximateReceiveCount included), deletes the messages that
succeeded and makes the ones named in batchItemFailures (all of them, if the invocation
raised) visible again at once (AWS waits for the visibility timeout instead). moto applies
the queue's redrive policy: after maxReceiveCount receives a message moves to the
dead-letter queue. On the local stack the poller runs in a background thread and invokes
through the gateway, one invocation at a time, so an import runs while its progress can be
read, as in AWS; tests can instead drain the queue synchronously.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infrastructure.local.aws import REGION, TEMPLATE_PATH, LocalAws, parsed_template

WORKER = "ImportWorkerFunction"
POLL_SECONDS = 0.05
# The served local stack cuts imports into smaller batches than AWS (template: 100 rows): moto
# is far slower than DynamoDB, and while the worker runs no request is served (one invocation
# at a time), so small batches keep progress polls answered within seconds. Same code path.
SERVED_STACK_ENV = {"IMPORT_BATCH_ROWS": "10"}
# While the worker has a message, nobody else receives it (in AWS: the queue's VisibilityTimeout).
IN_FLIGHT_SECONDS = 900

Invoke = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class QueueMapping:
    """The worker's SQS event source mapping, as template.yaml declares it."""

    batch_size: int = 10
    report_batch_item_failures: bool = False

    @classmethod
    def from_template(cls, template_path: Path = TEMPLATE_PATH, function: str = WORKER) -> QueueMapping:
        resource = parsed_template(template_path)["Resources"][function]
        for event in resource["Properties"].get("Events", {}).values():
            if event.get("Type") == "SQS":
                props = event["Properties"]
                return cls(
                    batch_size=int(props.get("BatchSize", 10)),
                    report_batch_item_failures="ReportBatchItemFailures"
                    in props.get("FunctionResponseTypes", []),
                )
        raise ValueError(f"{function} has no SQS event in {template_path}")


@dataclass
class QueueStats:
    invocations: int = 0
    delivered: int = 0  # messages the worker finished with (deleted)
    retried: int = 0  # messages made visible again after a failure
    errors: list[str] = field(default_factory=list)  # exception types of invocations that raised


class LocalQueue:
    def __init__(self, aws: LocalAws, mapping: QueueMapping | None = None) -> None:
        self.queue_url = aws.import_queue_url
        self.dlq_url = aws.import_dlq_url
        self.mapping = mapping or QueueMapping.from_template(aws.template_path)
        self.stats = QueueStats()
        self._queue_arn: str | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @staticmethod
    def _sqs() -> Any:
        return LocalAws._client("sqs")

    @property
    def queue_arn(self) -> str:
        if self._queue_arn is None:
            attributes = self._sqs().get_queue_attributes(
                QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
            )
            self._queue_arn = str(attributes["Attributes"]["QueueArn"])
        return self._queue_arn

    # ---------------------------------------------------------------- delivery
    def deliver_once(self, invoke: Invoke) -> int:
        """Receive one batch of messages and hand it to the worker; how many it received."""
        received = self._sqs().receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.mapping.batch_size,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            VisibilityTimeout=IN_FLIGHT_SECONDS,
        )
        messages = received.get("Messages", [])
        if not messages:
            return 0
        self.stats.invocations += 1
        try:
            response = invoke({"Records": [self._record(m) for m in messages]})
            failed = self._failures(response, messages)
        except Exception as exc:
            self.stats.errors.append(type(exc).__name__)
            failed = {m["MessageId"] for m in messages}
        for message in messages:
            if message["MessageId"] in failed:
                self._sqs().change_message_visibility(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
                self.stats.retried += 1
            else:
                self._sqs().delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
                self.stats.delivered += 1
        return len(messages)

    def drain(self, invoke: Invoke, max_invocations: int = 100_000) -> int:
        """Deliver until the queue is empty (or `max_invocations`); how many messages it received."""
        total = 0
        for _ in range(max_invocations):
            received = self.deliver_once(invoke)
            if not received:
                break
            total += received
        return total

    def dead_letters(self) -> int:
        attributes = self._sqs().get_queue_attributes(
            QueueUrl=self.dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])

    def _failures(self, response: Any, messages: list[dict[str, Any]]) -> set[str]:
        if not self.mapping.report_batch_item_failures or not isinstance(response, dict):
            return set()
        reported = {str(f.get("itemIdentifier")) for f in response.get("batchItemFailures") or []}
        known = {m["MessageId"] for m in messages}
        return reported if reported <= known else known  # an unknown identifier fails them all

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        body = message["Body"]
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": body,
            "attributes": dict(message.get("Attributes", {})),
            "messageAttributes": message.get("MessageAttributes", {}),
            "md5OfBody": message.get("MD5OfBody")
            or hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": REGION,
        }

    # ---------------------------------------------------------------- the background poller
    def start(self, gateway: Any) -> LocalQueue:
        """Feed the worker through `gateway` from a background thread, one invocation at a time."""

        def invoke(event: dict[str, Any]) -> Any:
            return gateway.invoke("import_worker", event)

        def poll() -> None:
            while not self._stop.is_set():
                with gateway.invocation_lock:  # moto is shared with the request threads
                    try:
                        received = self.deliver_once(invoke)
                    except Exception as exc:  # never let the poller die: log the kind and go on
                        self.stats.errors.append(type(exc).__name__)
                        received = 0
                # Let a waiting request in between invocations (the lock is not fair).
                self._stop.wait(POLL_SECONDS if not received else POLL_SECONDS / 5)

        self._thread = threading.Thread(target=poll, name="signpost-import-queue", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None


def attach(gateway: Any, aws: LocalAws | None = None) -> LocalQueue:
    """Start feeding the import queue to the worker through `gateway` (stop() when done)."""
    return LocalQueue(aws or gateway.aws).start(gateway)
