"""`signpost-admin verify-audit`: the audit against its keyed seals and Object Lock anchors.

    signpost-admin verify-audit [--chain CHAIN ...] [--full-scan] [--all-macs] [--json] [--publish-metric]

Reads AUDIT_TABLE, AUDIT_HEADS_TABLE, AUDIT_MAC_KEY_ID (kms:VerifyMac) and AUDIT_ANCHOR_BUCKET
(logic/audit_verify.py says what each check finds). Prints chain names, sequence numbers,
problem codes and the control that found each problem: nothing an audit item holds.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from typing import TextIO

from signpost.audit_seal import Anchor, Seal, SealedHead
from signpost.commands import EXIT_OK, EXIT_PROBLEMS, Command, Progress
from signpost.dal.audit_heads import DynamoAuditSource
from signpost.dal.kms import KmsMac
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

    def seals(self) -> Iterable[Seal]:
        return self._source.seals()

    def registry(self) -> Iterable[SealedHead]:
        return self._source.registry()

    def chains(self) -> Iterable[str]:
        return self._source.chains()

    def anchors(self) -> Iterable[Anchor]:
        return self._source.anchors()

    def items(self, chain: str) -> Iterable[tuple[str, str, AuditEntry]]:
        self._progress.step()
        return self._source.items(chain)


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--chain", action="append", help="verify only this chain (repeatable)")
    parser.add_argument(
        "--full-scan",
        action="store_true",
        help="also Scan the audit table for chains never sealed (slow; offline only)",
    )
    parser.add_argument(
        "--all-macs",
        action="store_true",
        help="verify every seal's MAC, not only those newer than the newest anchor",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--publish-metric",
        action="store_true",
        help=f"put the problem count to CloudWatch ({METRIC_NAMESPACE}/{METRIC_PROBLEMS}) for the alarm",
    )


def print_report(report: VerifyReport, as_json: bool, out: TextIO) -> None:
    counts = {
        "chains": report.chains,
        "items": report.items,
        "seals": report.seals,
        "anchors": report.anchors,
        "macs_verified": report.macs_verified,
        "newest_anchored_seal": report.newest_anchored_seal,
        "unsealed_recent": report.unsealed_recent,
    }
    if as_json:
        problems = [
            {"chain": p.chain, "seq": p.seq, "problem": p.problem, "detected_by": p.detected_by}
            for p in report.problems
        ]
        out.write(json.dumps({"ok": report.ok, **counts, "problems": problems}, indent=2) + "\n")
        return
    for p in report.problems:
        out.write(f"PROBLEM {p.problem} chain={p.chain} seq={p.seq} detected_by={p.detected_by}\n")
    verdict = "intact" if report.ok else f"{len(report.problems)} problem(s)"
    summary = ", ".join(f"{value} {name}" for name, value in counts.items() if value is not None)
    out.write(f"audit: {summary}: {verdict}\n")


def _run(args: argparse.Namespace, out: TextIO) -> int:
    settings = get_settings()
    progress = Progress("audit chains verified")
    source = DynamoAuditSource(settings.audit_table, settings.audit_heads_table, settings.audit_anchor_bucket)
    report = verify_audit(
        _Counted(source, progress),
        KmsMac(settings.audit_mac_key_id),
        chains=args.chain,
        full_scan=args.full_scan,
        all_macs=args.all_macs,
    )
    progress.finish()
    print_report(report, args.json, out)
    if args.publish_metric:
        put_metric(
            METRIC_NAMESPACE, METRIC_PROBLEMS, len(report.problems), {"environment": settings.environment}
        )
    return EXIT_OK if report.ok else EXIT_PROBLEMS


COMMAND = Command(
    "verify-audit",
    "check the audit against its keyed seals and Object Lock anchors",
    _configure,
    _run,
)
