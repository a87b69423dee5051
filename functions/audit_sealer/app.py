"""Audit sealer: the audit table's stream -> keyed seals; an hourly schedule -> an anchor in S3.

The only function that may write the audit heads table, use the audit MAC key and write to the
anchor bucket. A batch that cannot be sealed fails whole and is retried (the event source
mapping never skips an audit record: the iterator-age alarm says when sealing is stuck).
Tampering it sees - an overwritten or removed entry, an append that does not extend its chain -
is sealed and counted in the AuditTampering metric, which is alarmed. Logs carry counts,
chains' kinds and sequence numbers only, never an entry's content.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from signpost.dal.audit import audit_change
from signpost.dal.audit_anchors import S3Anchors
from signpost.dal.audit_heads import DynamoSealStore
from signpost.dal.kms import KmsMac
from signpost.logic import audit_sealer
from signpost.observability import logger, metrics, tracer
from signpost.wiring import services


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    del context
    svc = services()
    store = DynamoSealStore(svc.settings.audit_heads_table)
    if "Records" not in event:  # the hourly schedule
        anchored = audit_sealer.anchor(store, S3Anchors(svc.settings.audit_anchor_bucket), svc.now)
        metrics.add_metric(name="AuditAnchorRuns", unit="Count", value=1)  # alarmed when missing
        logger.info("audit anchored", extra={"seal": anchored.seal if anchored else None})
        return {"anchored_seal": anchored.seal if anchored else None}
    changes = [audit_change(record) for record in event["Records"]]
    run = audit_sealer.seal_changes(store, KmsMac(svc.settings.audit_mac_key_id), changes, svc.now)
    metrics.add_metric(name="AuditSeals", unit="Count", value=run.seals)
    metrics.add_metric(name="AuditTampering", unit="Count", value=len(run.tampering))
    if run.tampering:
        logger.error(
            "audit tampering sealed",
            extra={"tampering": [f"{t.kind} {t.chain.split('#')[0]} seq={t.seq}" for t in run.tampering]},
        )
    return {"seals": run.seals, "heads": run.heads, "tampering": len(run.tampering)}
