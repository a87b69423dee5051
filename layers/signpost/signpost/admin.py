"""`signpost-admin`: operator commands, run with an operator's credentials (never a function's).

    signpost-admin [--stack NAME] [--profile P] [--region R] [--local] COMMAND ...
    signpost-admin COMMAND --help

Where it acts: `--stack` reads the tables from a deployed stack's outputs; `--local`
talks to `make local`'s in-memory AWS; otherwise the environment variables the
functions use (RECORDS_TABLE, AUDIT_TABLE, DIRECTORY_TABLE, ...). Commands print
organisation codes, ids, counts and problem codes: never a child's identity.
Exit codes: 0 done, 1 the command found problems, 2 bad input (nothing changed),
3 the command could not finish (AWS unreachable, access denied).

A command is one entry in COMMANDS (signpost/commands/__init__.py: name, help,
configure(parser), run(args, out) -> exit code).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from botocore.exceptions import BotoCoreError, ClientError

from signpost import admin_branch_keys, admin_redrive, admin_reindex, import_client
from signpost.commands import EXIT_FAILED, Command, audit_reports, directory, stats, transfers, verify_audit
from signpost.commands.target import TargetError, add_target_options, apply_target

COMMANDS: tuple[Command, ...] = (
    verify_audit.COMMAND,
    directory.COMMAND,
    directory.SEED_COMMAND,
    transfers.COMMAND,
    stats.COMMAND,
    audit_reports.SUBJECT_ACCESS,
    audit_reports.BREAK_GLASS,
    admin_reindex.COMMAND,
    admin_branch_keys.COMMAND,
    admin_redrive.COMMAND,
    import_client.COMMAND,
)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="signpost-admin",
        description="Signpost operator commands (run with your own AWS credentials).",
        epilog="`signpost-admin COMMAND --help` describes each command.",
    )
    add_target_options(root)
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        sub = commands.add_parser(
            command.name, help=command.help, description=command.description or command.help
        )
        command.configure(sub)
        sub.set_defaults(run=command.run)
    return root


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    args = parser().parse_args(argv)
    stream = out or sys.stdout
    try:
        apply_target(args)
        code: int = args.run(args, stream)
    except TargetError as exc:
        sys.stderr.write(f"signpost-admin: {exc}\n")
        return EXIT_FAILED
    except (ClientError, BotoCoreError) as exc:
        # The error code only: a message could quote a key or a value.
        code_name = exc.response["Error"]["Code"] if isinstance(exc, ClientError) else type(exc).__name__
        sys.stderr.write(f"signpost-admin: AWS call failed ({code_name})\n")
        return EXIT_FAILED
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
