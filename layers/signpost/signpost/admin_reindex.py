"""`signpost-admin reindex`: blind indexes under another key scheme version (logic/reindex.py).

    signpost-admin reindex --to VERSION [--restart] [--max-records N] [--page-size N]
    signpost-admin reindex --drop VERSION [--restart] [--max-records N] [--page-size N]

Run with an operator's credentials (Scan and read of the records table, use of the
data key and the blind-index key) and the same BLIND_INDEX_* settings as the
functions. Prints counts only.
"""

from __future__ import annotations

import argparse
from typing import TextIO

from signpost.commands import Command
from signpost.dal.reindex import DynamoReindexSource
from signpost.logic.reindex import ReindexRefused, ReindexReport, drop_version, reindex_to
from signpost.settings import get_settings
from signpost.wiring import services

EXIT_OK = 0
EXIT_USAGE = 2


def configure(reindex: argparse.ArgumentParser) -> None:
    target = reindex.add_mutually_exclusive_group(required=True)
    target.add_argument("--to", type=int, metavar="VERSION", help="add this version's blocks beside the old")
    target.add_argument("--drop", type=int, metavar="VERSION", help="remove this version's blocks")
    reindex.add_argument("--restart", action="store_true", help="start again from the first record")
    reindex.add_argument("--max-records", type=int, help="stop after about this many records (resumable)")
    reindex.add_argument("--page-size", type=int, default=100, help="records read per page (checkpointed)")


def run(args: argparse.Namespace, out: TextIO) -> int:
    source = DynamoReindexSource(get_settings().records_table)

    def progress(report: ReindexReport) -> None:
        out.write(report.line() + "\n")

    options = {
        "progress": progress,
        "restart": args.restart,
        "max_records": args.max_records,
        "page_size": args.page_size,
    }
    try:
        if args.to is not None:
            reindex_to(services(), source, args.to, **options)
        else:
            drop_version(services(), source, args.drop, **options)
    except ReindexRefused as refused:
        out.write(f"refused: {refused}\n")
        return EXIT_USAGE
    return EXIT_OK


COMMAND = Command(
    "reindex",
    "write every child's blind indexes under another key scheme version, or drop a version's",
    configure,
    run,
)
