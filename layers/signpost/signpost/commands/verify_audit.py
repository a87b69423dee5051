"""`signpost-admin verify-audit`: every audit chain intact and ending at its registered head."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from typing import TextIO

from signpost.commands import EXIT_OK, EXIT_PROBLEMS, Command, Progress
from signpost.dal.audit_heads import DynamoAuditSource
from signpost.dal.stack import put_metric
from signpost.logic.audit_verify import VerifyReport, verify_audit
from signpost.models.domain import AuditEntry
from signpost.settings import get_settings

# The metric the AuditVerificationFailed alarm watches (template.yaml, operations console).
METRIC_NAMESPACE = "Signpost"
METRIC_PROBLEMS = "AuditVerificationProblems"


class _Counted:
    """The audit source, counting the chains read for the progress line."""

    def __init__(self, source: DynamoAuditSource, progress: Progress) -> None:
        self._source = source
        self._progress = progress
        self.heads = source.heads
        self.head = source.head
        self.chains = source.chains

    def items(self, chain: str) -> Iterable[tuple[str, str, AuditEntry]]:
        self._progress.step()
        return self._source.items(chain)


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--chain", action="append", help="verify only this chain (repeatable)")
    parser.add_argument(
        "--full-scan",
        action="store_true",
        help="also Scan the audit table for chains without a registered head (slow; offline only)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--publish-metric",
        action="store_true",
        help=f"put the problem count to CloudWatch ({METRIC_NAMESPACE}/{METRIC_PROBLEMS}) for the alarm",
    )


def print_report(report: VerifyReport, as_json: bool, out: TextIO) -> None:
    if as_json:
        body = {
            "ok": report.ok,
            "chains": report.chains,
            "items": report.items,
            "problems": [{"chain": p.chain, "seq": p.seq, "problem": p.problem} for p in report.problems],
        }
        out.write(json.dumps(body, indent=2) + "\n")
        return
    for p in report.problems:
        out.write(f"PROBLEM {p.problem} chain={p.chain} seq={p.seq}\n")
    verdict = "intact" if report.ok else f"{len(report.problems)} problem(s)"
    out.write(f"audit: {report.chains} chains, {report.items} items checked: {verdict}\n")


def _run(args: argparse.Namespace, out: TextIO) -> int:
    settings = get_settings()
    progress = Progress("audit chains verified")
    source = _Counted(DynamoAuditSource(settings.records_table, settings.audit_table), progress)
    report = verify_audit(source, chains=args.chain, full_scan=args.full_scan)
    progress.finish()
    print_report(report, args.json, out)
    if args.publish_metric:
        put_metric(
            METRIC_NAMESPACE, METRIC_PROBLEMS, len(report.problems), {"environment": settings.environment}
        )
    return EXIT_OK if report.ok else EXIT_PROBLEMS


COMMAND = Command(
    "verify-audit",
    "check every audit chain: changed, removed, reordered or truncated items",
    _configure,
    _run,
)
