"""`signpost-admin`: operator commands, run with an operator's credentials (never a function's).

    signpost-admin verify-audit [--chain CHAIN ...] [--full-scan] [--json]
    signpost-admin seed-directory FILE
    signpost-admin rotate-branch-key [--force]
    signpost-admin reindex --to VERSION | --drop VERSION   (see admin_reindex.py)

Tables come from the same environment variables as the functions
(RECORDS_TABLE, AUDIT_TABLE, DIRECTORY_TABLE). Output names chains, sequence
numbers and problem codes only: nothing an audit item holds is printed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from pydantic import TypeAdapter, ValidationError

from signpost import admin_branch_keys, admin_reindex
from signpost.dal.audit_heads import DynamoAuditSource
from signpost.dal.directory import DynamoDirectory
from signpost.logic.audit_verify import VerifyReport, verify_audit
from signpost.models.organisation import Organisation, OrganisationIn
from signpost.settings import get_settings

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="signpost-admin", description="Signpost operator commands")
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser(
        "verify-audit",
        help="check every audit chain: changed, removed, reordered or truncated items",
    )
    verify.add_argument("--chain", action="append", help="verify only this chain (repeatable)")
    verify.add_argument(
        "--full-scan",
        action="store_true",
        help="also Scan the audit table for chains without a registered head (slow; offline only)",
    )
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    seed = commands.add_parser("seed-directory", help="create or replace organisations from a JSON file")
    seed.add_argument("file", type=Path, help="a JSON list of organisations (infrastructure/seed format)")
    admin_branch_keys.add_parser(commands)
    admin_reindex.add_parser(commands)
    return parser


def _print_report(report: VerifyReport, as_json: bool, out: TextIO) -> None:
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


def verify_audit_command(args: argparse.Namespace, out: TextIO) -> int:
    settings = get_settings()
    source = DynamoAuditSource(settings.records_table, settings.audit_table)
    report = verify_audit(source, chains=args.chain, full_scan=args.full_scan)
    _print_report(report, args.json, out)
    return EXIT_OK if report.ok else EXIT_PROBLEMS


def seed_directory_command(args: argparse.Namespace, out: TextIO) -> int:
    try:
        raw = json.loads(args.file.read_text(encoding="utf-8"))
        entries = TypeAdapter(list[OrganisationIn]).validate_python(raw)
    except (OSError, json.JSONDecodeError) as exc:
        out.write(f"cannot read {args.file}: {type(exc).__name__}\n")
        return EXIT_USAGE
    except ValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            out.write(f"invalid organisation at {where}: {err['msg']}\n")
        return EXIT_USAGE
    directory = DynamoDirectory(get_settings().directory_table)
    for entry in entries:
        directory.put(Organisation.model_validate(entry.model_dump()))
    out.write(f"seeded {len(entries)} organisations\n")
    return EXIT_OK


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    args = _parser().parse_args(argv)
    stream = out or sys.stdout
    if args.command == "verify-audit":
        return verify_audit_command(args, stream)
    if args.command == "rotate-branch-key":
        return admin_branch_keys.rotate_branch_key_command(args, stream)
    if args.command == "reindex":
        return admin_reindex.run(args, stream)
    return seed_directory_command(args, stream)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
