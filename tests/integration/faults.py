"""Fault injection at the HTTP layer of a botocore client: the AWS call answers with an error
as the service would, and moto never sees that attempt, so botocore's own retry logic runs
as in AWS and a failed attempt changes nothing.

botocore calls every `before-send` handler and sends the first response given, so the
fault answers first and switches moto's stubber off for that one attempt (a last handler
switches it back on)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse
from moto.core.botocore_stubber import MockRawResponse
from moto.core.models import botocore_stubber


@dataclass
class Fault:
    """Answer `operation` with `code` for the next `times` calls (None: every call)."""

    code: str
    status: int = 400
    times: int | None = 1
    body: dict[str, Any] = field(default_factory=dict)
    calls: int = 0
    injected: int = 0
    when: Callable[[Any], bool] = lambda _request: True
    silenced: bool = False

    def restore(self, **_: Any) -> None:
        if self.silenced:
            botocore_stubber.enabled = True
            self.silenced = False

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        self.calls += 1
        if (self.times is not None and self.injected >= self.times) or not self.when(request):
            return None
        self.injected += 1
        self.silenced = botocore_stubber.enabled
        botocore_stubber.enabled = False
        if "sns." in request.url:  # the query protocol answers in XML
            body = (
                "<ErrorResponse><Error><Type>Sender</Type>"
                f"<Code>{self.code}</Code><Message>injected</Message></Error>"
                "<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
            )
            headers = {"Content-Type": "text/xml"}
        else:
            payload = {
                "__type": f"com.amazonaws.dynamodb.v20120810#{self.code}",
                "message": "injected",
                **self.body,
            }
            body, headers = (
                json.dumps(payload),
                {"x-amzn-ErrorType": self.code, "Content-Type": "application/x-amz-json-1.0"},
            )
        return AWSResponse(request.url, self.status, headers, MockRawResponse(body))  # type: ignore[arg-type]


@contextmanager
def inject(client: Any, operation: str, fault: Fault) -> Iterator[Fault]:
    event = f"before-send.{client.meta.service_model.service_id.hyphenize()}.{operation}"
    client.meta.events.register_first(event, fault)
    # On the general event, so it runs after moto's stubber (registered there too); handlers of
    # the more specific event run before those of the general one.
    client.meta.events.register_last("before-send", fault.restore)
    try:
        yield fault
    finally:
        client.meta.events.unregister(event, fault)
        client.meta.events.unregister("before-send", fault.restore)
        fault.restore()


def throttling() -> Fault:
    return Fault("ThrottlingException")


def transaction_conflict(items: int) -> Fault:
    """A TransactionCanceledException as DynamoDB sends it when another transaction touched an
    item at the same moment: one reason per item, the conflicting one `TransactionConflict`."""
    reasons = [{"Code": "None"} for _ in range(items)]
    reasons[0] = {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
    return Fault("TransactionCanceledException", body={"CancellationReasons": reasons})
