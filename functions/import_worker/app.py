"""Import worker function: batches of an upload's rows, from the imports queue (SQS).

Each message is one batch (logic/import_worker.py). A failed message is reported alone
(ReportBatchItemFailures) and retried from its first uncommitted row; its last delivery marks
the batch failed before the queue moves it to the dead-letter queue (alarmed).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from signpost.logic import import_worker
from signpost.observability import logger, metrics, tracer
from signpost.wiring import import_ports, services


class BatchFailed(Exception):
    """A batch to retry. Its message is fixed: the original error could quote a row."""

    def __init__(self) -> None:
        super().__init__("import batch failed")


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    def time_left() -> float:
        return context.get_remaining_time_in_millis() / 1000

    def import_one(record: SQSRecord) -> None:
        receives = int(record.attributes.approximate_receive_count or "1")
        try:
            message = import_worker.BatchMessage.parse(json.loads(record.body))
        except Exception:
            logger.error("unreadable import message", extra={"message_id": record.message_id})
            raise BatchFailed from None
        where = {"import_id": message.import_id, "batch": message.plan.batch, "receive_count": receives}
        try:
            found = import_worker.import_batch(services(), import_ports(), message, time_left=time_left)
        except Exception as exc:
            # Where and what kind, never the message: an error may quote a row's values.
            logger.warning("import batch not finished", extra={**where, "error_type": type(exc).__name__})
            if receives >= services().settings.import_max_receives:
                import_worker.give_up(import_ports(), message)
                metrics.add_metric(name="ImportBatchesFailed", unit="Count", value=1)
            raise BatchFailed from None
        if not found:
            logger.warning("import batch of an unknown import dropped", extra=where)
            return
        metrics.add_metric(name="ImportBatchesDone", unit="Count", value=1)

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response = process_partial_response(
        event=event, record_handler=import_one, processor=processor, context=context
    )
    return {"batchItemFailures": list(response.get("batchItemFailures", []))}
