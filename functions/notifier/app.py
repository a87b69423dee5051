"""Notifier function: outbox intents from the records table's stream → inbox items and a
PII-free SNS "you have N new notifications" message per organisation.

The event source mapping reports partial failures (ReportBatchItemFailures): only the
records that failed are returned, and the stream retries from the first of them. Every
step is idempotent, so the records after it that had succeeded are safe to see again.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
from aws_lambda_powertools.utilities.typing import LambdaContext
from signpost.dal.inbox import DynamoInbox
from signpost.dal.notifier import SnsAnnouncer
from signpost.logic import notifications
from signpost.observability import logger, metrics, tracer
from signpost.settings import get_settings


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    del context  # nothing to read from it: the batch is the whole job
    settings = get_settings()
    records = [
        notifications.stream_record(
            str(record.dynamodb.sequence_number if record.dynamodb else ""),
            record.event_name.name if record.event_name else None,
            record.dynamodb.new_image if record.dynamodb else None,
        )
        for record in DynamoDBStreamEvent(event).records
    ]
    failed = notifications.deliver(
        DynamoInbox(settings.records_table), SnsAnnouncer(settings.notifications_topic_arn), records
    )
    delivered = sum(1 for r in records if r.intent is not None) - len(failed)
    metrics.add_metric(name="NotificationsDelivered", unit="Count", value=max(delivered, 0))
    if failed:
        metrics.add_metric(name="NotificationRecordsFailed", unit="Count", value=len(failed))
        logger.warning("stream records failed", extra={"failed": len(failed), "batch": len(records)})
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed]}
