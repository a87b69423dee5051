"""`signpost-admin transfers overdue`: open transfers past their acknowledge or decide clock."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from typing import TextIO

from signpost.commands import EXIT_OK, EXIT_PROBLEMS, Command, Progress, actions
from signpost.dal.scans import directory_entries
from signpost.dal.transfers import DynamoTransfers
from signpost.logic.overdue import overdue_transfers
from signpost.logic.services import LONDON
from signpost.models.common import OrgType
from signpost.models.transfers import OPEN_STATUSES, Direction, Transfer
from signpost.settings import get_settings

PAGE = 100


def _configure(parser: argparse.ArgumentParser) -> None:
    overdue = actions(
        parser,
        overdue="list open transfers whose acknowledge (1 working day) or decide (15) clock has passed",
    )["overdue"]
    overdue.add_argument("--as-of", type=dt.date.fromisoformat, help="the date in England (default: today)")
    overdue.add_argument("--org", action="append", help="only transfers to this local authority (repeatable)")
    overdue.add_argument("--json", action="store_true", help="print the list as JSON")
    overdue.add_argument("--exit-code", action="store_true", help="exit 1 when any transfer is overdue")


def open_transfers(table: str, receivers: list[str], progress: Progress) -> Iterator[Transfer]:
    """Each receiving authority's open incoming transfers (one indexed Query per page, no Scan)."""
    transfers = DynamoTransfers(table)
    for org in receivers:
        for status in sorted(OPEN_STATUSES):
            after: str | None = None
            while True:
                page, after = transfers.page(org, Direction.INCOMING, status, PAGE, after)
                yield from page
                if after is None:
                    break
        progress.step()


def _run(args: argparse.Namespace, out: TextIO) -> int:
    settings = get_settings()
    today = args.as_of or dt.datetime.now(tz=LONDON).date()
    receivers = args.org or sorted(
        o.code for o in directory_entries(settings.directory_table) if o.type == OrgType.LOCAL_AUTHORITY
    )
    progress = Progress("local authorities read", total=len(receivers))
    found = overdue_transfers(open_transfers(settings.records_table, receivers, progress), today)
    progress.finish()
    if args.json:
        rows = [
            {**dataclasses.asdict(o), "requested_on": str(o.requested_on), "due": str(o.due)} for o in found
        ]
        out.write(json.dumps({"as_of": str(today), "overdue": rows}, indent=2) + "\n")
    else:
        out.write(f"{'transfer':<34} {'from':<10} {'to':<10} {'status':<13} {'clock':<12} {'due':<10} late\n")
        for o in found:
            out.write(
                f"{o.transfer_id:<34} {o.from_org:<10} {o.to_org:<10} {o.status:<13} "
                f"{o.clock:<12} {o.due!s:<10} {o.working_days_late} working day(s)\n"
            )
        out.write(f"{len(found)} overdue transfer(s) as of {today}\n")
    return EXIT_PROBLEMS if args.exit_code and found else EXIT_OK


COMMAND = Command("transfers", "transfers across all local authorities (overdue clocks)", _configure, _run)
