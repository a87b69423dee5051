"""Auditor commands: `subject-access CHILD_ID` (also after purge) and `break-glass pending|review`.

They run as an auditor of the national service (the operator's AWS identity is what the
audit records). Neither prints an identity: the auditor's report holds none, and a
break-glass justification (free text) is left in the audit, not printed.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
from typing import Any, TextIO

from signpost.commands import EXIT_OK, EXIT_PROBLEMS, Command, Progress, actions
from signpost.commands.operator import operator_caller
from signpost.dal.scans import audit_events, timestamp
from signpost.errors import NotFound
from signpost.logic import break_glass_review
from signpost.logic.subject_access import auditor_report
from signpost.models.common import Role
from signpost.settings import get_settings
from signpost.wiring import services


def _json_default(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.datetime | dt.date) else str(value)


def _configure_sar(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("child_id", help="the child's id (as in access logs and notifications)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def _run_sar(args: argparse.Namespace, out: TextIO) -> int:
    try:
        report = auditor_report(services(), operator_caller(Role.AUDITOR), args.child_id)
    except NotFound:
        out.write("no such child (no record and no audit chain)\n")
        return EXIT_PROBLEMS
    if args.json:
        body = {
            **{f.name: getattr(report, f.name) for f in dataclasses.fields(report) if f.name != "access_log"},
            "access_log": [e.model_dump(mode="json", exclude_none=True) for e in report.access_log],
        }
        out.write(json.dumps(body, indent=2, default=_json_default) + "\n")
        return EXIT_OK
    if report.record_held:
        out.write(
            f"record: {report.status}, {report.organisation}, categories {', '.join(report.categories)}; "
            f"created {report.created_at}; closed {report.closed_at or '-'} ({report.close_reason or '-'}); "
            f"purge after {report.purge_after or '-'}\n"
            "identity: held encrypted; only the responsible authority's la_manager can read it (API)\n"
        )
    else:
        out.write("record: purged after its retention period (no identity or index is held)\n")
    out.write(f"access log ({len(report.access_log)} entries, newest first):\n")
    for e in report.access_log:
        what = f"{e.action:<24} {e.org:<18} {e.role:<16}"
        out.write(f"  {e.at.isoformat()}  {what} {e.reason or '-'} {e.outcome or ''}\n")
    return EXIT_OK


def _configure_break_glass(parser: argparse.ArgumentParser) -> None:
    choices = actions(
        parser,
        pending="list break-glass uses without a review",
        review="record the review of a search's break-glass use (appended to its audit chain)",
    )
    listing, record = choices["pending"], choices["review"]
    listing.add_argument("--since", type=dt.date.fromisoformat, help="from this date (default: 90 days ago)")
    listing.add_argument("--json", action="store_true", help="print the list as JSON")
    record.add_argument("search_id")
    record.add_argument("--finding", required=True, choices=[f.value for f in break_glass_review.Finding])


def _run_break_glass(args: argparse.Namespace, out: TextIO) -> int:
    if args.action == "review":
        try:
            break_glass_review.review(
                services(),
                operator_caller(Role.AUDITOR),
                args.search_id,
                break_glass_review.Finding(args.finding),
            )
        except NotFound:
            out.write("no break-glass use for this search\n")
            return EXIT_PROBLEMS
        out.write(f"review recorded: {args.finding}\n")
        return EXIT_OK
    since = args.since or (dt.date.today() - dt.timedelta(days=90))
    progress = Progress("audit items scanned")
    uses, reviewed = [], []
    start = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)
    for event in audit_events(get_settings().audit_table, start, progress=progress.step):
        if not event.chain.startswith("SEARCH#"):
            continue
        search_id = event.chain.removeprefix("SEARCH#")
        if event.action == "break_glass":
            uses.append(
                break_glass_review.BreakGlassUse(search_id, timestamp(event.at), event.org, event.role)
            )
        elif event.action == break_glass_review.REVIEWED:
            reviewed.append(search_id)
    progress.finish()
    waiting = break_glass_review.pending(uses, reviewed)
    if args.json:
        out.write(json.dumps([dataclasses.asdict(u) for u in waiting], indent=2) + "\n")
    else:
        for u in waiting:
            out.write(f"{u.search_id}  {u.at}  {u.org}  {u.role}\n")
        out.write(f"{len(waiting)} break-glass use(s) awaiting review since {since}\n")
    return EXIT_OK


SUBJECT_ACCESS = Command(
    "subject-access",
    "an auditor's subject access report of any child, also after the record was purged (no identity)",
    _configure_sar,
    _run_sar,
)
BREAK_GLASS = Command(
    "break-glass",
    "break-glass uses awaiting review; record a review",
    _configure_break_glass,
    _run_break_glass,
)
