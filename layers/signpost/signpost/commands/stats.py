"""`signpost-admin stats --month YYYY-MM`: the month's transparency statistics, suppressed, as files."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import TextIO

from signpost.commands import EXIT_OK, EXIT_USAGE, Command, Progress
from signpost.dal.scans import audit_events, directory_entries, record_facts, timestamp, transfer_facts
from signpost.settings import get_settings
from signpost.stats import render
from signpost.stats.monthly import SYNTHETIC_ORGS, Month, monthly_tables
from signpost.stats.tables import publish


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--month", required=True, help="the calendar month in England, YYYY-MM")
    parser.add_argument("--out", type=Path, help="directory for the files (default: ./stats-YYYY-MM)")


def _run(args: argparse.Namespace, out: TextIO) -> int:
    try:
        month = Month.parse(args.month)
    except ValueError as exc:
        out.write(f"--month: {exc}\n")
        return EXIT_USAGE
    now = dt.datetime.now(tz=dt.UTC).replace(microsecond=0)
    if month.start > now:
        out.write(f"--month: {month.label} has not started\n")
        return EXIT_USAGE
    settings = get_settings()
    directory = {o.code: o for o in directory_entries(settings.directory_table)}
    audit_progress = Progress("audit items scanned")
    # From the month's start to now: reviews of the month's break-glass uses may come later.
    events = list(audit_events(settings.audit_table, month.start, progress=audit_progress.step))
    audit_progress.finish()
    records_progress = Progress("records table items scanned (records)")
    records = list(record_facts(settings.records_table, progress=records_progress.step))
    records_progress.finish()
    transfers_progress = Progress("records table items scanned (transfers)")
    transfers = list(transfer_facts(settings.records_table, progress=transfers_progress.step))
    transfers_progress.finish()

    published = [publish(t) for t in monthly_tables(month, events, records, transfers, directory=directory)]
    folder = args.out or Path(f"stats-{month.label}")
    folder.mkdir(parents=True, exist_ok=True)
    for table in published:
        (folder / f"{table.table.name}.csv").write_text(render.table_csv(table), encoding="utf-8")
        (folder / f"{table.table.name}.svg").write_text(render.table_svg(table), encoding="utf-8")
    source = {
        "environment": settings.environment,
        "audit_entries_from": timestamp(month.start),
        "audit_entries_to": timestamp(now),
        "children_on_the_index": "records' organisation, status, categories and dates as at generated_at",
        "excluded_organisations": sorted(SYNTHETIC_ORGS),
    }
    (folder / "stats.json").write_text(
        render.document(month.label, timestamp(now), published, source), encoding="utf-8"
    )
    summary = published[0]
    out.write(f"{summary.table.title}\n")
    for label, values in summary.rows:
        out.write(f"  {label:<50} {values[0]}\n")
    out.write(f"wrote {len(published)} tables (CSV and SVG each) and stats.json to {folder}\n")
    return EXIT_OK


COMMAND = Command(
    "stats",
    "transparency statistics for a month: CSV, JSON and an SVG chart per table, small numbers suppressed",
    _configure,
    _run,
)
