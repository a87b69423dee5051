"""Clock function (EventBridge schedule): transfer_overdue when a transfer's clock passes,
review_due when a record passes its review date, and a new branch-key version when the
active one is due. Safe to run twice and to run late."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent
from aws_lambda_powertools.utilities.typing import LambdaContext
from signpost.dal.branch_keys import DynamoBranchKeyRotation
from signpost.dal.clock import DynamoClockSource
from signpost.dal.transfers import open_and_overdue_transfers
from signpost.logic import clock
from signpost.logic.key_rotation import rotate_if_due
from signpost.logic.services import LONDON
from signpost.observability import logger, metrics, tracer
from signpost.wiring import services

# Stop starting new work this long before the function's timeout; the next run goes on.
SAFETY_MARGIN_MS = 20_000


def _as_of(event: dict[str, Any], now: dt.datetime) -> dt.date:
    """The date in England the run is for: the scheduled time, or now if the event has none.

    Using the scheduled time makes a retried or late delivery of the same event do the
    same work; the watermark means nothing is done twice either way.
    """
    raw = EventBridgeEvent(event).get("time")
    try:
        at = dt.datetime.fromisoformat(str(raw).replace("Z", "+00:00")) if raw else now
    except ValueError:
        at = now
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    # Never ahead of the real date: a stray event from the future must not move the watermark on.
    return min(at.astimezone(LONDON).date(), now.astimezone(LONDON).date())


def _rotate_branch_key(table: str, key_id: str, now: dt.datetime, period_days: int) -> bool:
    """A new branch-key version when due. A failure is logged and counted, and never stops
    the reminders: records keep being sealed under the current version meanwhile."""
    try:
        made = rotate_if_due(DynamoBranchKeyRotation(table, key_id), now, dt.timedelta(days=period_days))
    except Exception:
        logger.exception("branch-key rotation failed")
        metrics.add_metric(name="BranchKeyRotationFailed", unit="Count", value=1)
        return False
    if made is not None:
        metrics.add_metric(name="BranchKeyRotated", unit="Count", value=1)
    return made is not None


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    svc = services()
    rotated = _rotate_branch_key(
        svc.settings.key_store_table,
        svc.settings.data_key_id,
        svc.now(),
        svc.settings.branch_key_rotation_days,
    )
    run = clock.run(
        svc,
        DynamoClockSource(svc.settings.records_table),
        _as_of(event, svc.now()),
        has_time=lambda: context.get_remaining_time_in_millis() > SAFETY_MARGIN_MS,
    )
    summary = {
        "as_of": run.as_of.isoformat(),
        "dates": len(run.dates),
        "transfer_overdue": run.transfer_overdue,
        "review_due": run.review_due,
        "already_raised": run.already_raised,
        "delisted": run.delisted,
        "complete": run.complete,
        "branch_key_rotated": rotated,
    }
    metrics.add_metric(name="TransferOverdueRaised", unit="Count", value=run.transfer_overdue)
    metrics.add_metric(name="ReviewDueRaised", unit="Count", value=run.review_due)
    # Gauges for the operations dashboard, read from the clocks' state index (4 small queries).
    open_transfers, overdue_transfers = open_and_overdue_transfers(svc.settings.records_table)
    metrics.add_metric(name="OpenTransfers", unit="Count", value=open_transfers)
    metrics.add_metric(name="OverdueTransfers", unit="Count", value=overdue_transfers)
    summary.update(open_transfers=open_transfers, overdue_transfers=overdue_transfers)
    logger.info("clock run", extra=summary)
    return summary
