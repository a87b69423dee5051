"""`signpost-admin redrive-notifications`: deliver the notifications the notifier gave up on.

    signpost-admin redrive-notifications [--max-messages N] [--json]

Reads the notifier's failure queue (NOTIFIER_FAILURE_QUEUE_URL), re-reads each failed batch
from the records table's stream by sequence number and each intent from RECORDS_TABLE by its
key, and delivers them exactly once (signpost/logic/redrive.py). Run it within 24 hours of the
failure-queue alarm: after that the stream no longer holds the batch. Prints one progress line
per message (shards and sequence numbers only) and exits non-zero if anything is left.
"""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from signpost.commands import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, Command
from signpost.dal.inbox import DynamoInbox
from signpost.dal.notifier import SnsAnnouncer
from signpost.dal.redrive import DynamoIntentReader, DynamoStreamReader, SqsFailureQueue
from signpost.logic.redrive import StreamReader, redrive
from signpost.settings import get_settings


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-messages", type=int, default=100, help="failure-queue messages per run")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def run(args: argparse.Namespace, out: TextIO, *, streams: StreamReader | None = None) -> int:
    settings = get_settings()
    if not settings.notifier_failure_queue_url:
        out.write("NOTIFIER_FAILURE_QUEUE_URL is not set (the stack output NotifierFailureQueueUrl)\n")
        return EXIT_USAGE
    queue = SqsFailureQueue(settings.notifier_failure_queue_url)

    def progress(line: str) -> None:
        out.write(line + "\n")

    report = redrive(
        queue,
        streams or DynamoStreamReader(),
        DynamoIntentReader(settings.records_table),
        DynamoInbox(settings.records_table),
        SnsAnnouncer(settings.notifications_topic_arn),
        max_messages=args.max_messages,
        progress=progress,
    )
    summary = {
        "ok": report.ok and not queue.unreadable,
        "messages": report.messages,
        "intents": report.intents,
        "delivered": report.delivered,
        "already_delivered": report.already_delivered,
        "failed": report.failed,
        "unavailable_batches": report.unavailable_batches,
        "missing_intents": len(report.missing_intents),
        "unreadable_messages": queue.unreadable,
    }
    if args.json:
        out.write(json.dumps(summary) + "\n")
    else:
        out.write(", ".join(f"{k}={v}" for k, v in summary.items()) + "\n")
    return EXIT_OK if summary["ok"] else EXIT_PROBLEMS


COMMAND = Command(
    "redrive-notifications",
    "deliver the notifications in the notifier's failure queue, exactly once",
    configure,
    run,
)
