"""`signpost-admin directory diff|apply FILE` (and `seed-directory FILE`, the same as apply)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TextIO

from signpost.commands import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, Command, Progress, actions
from signpost.commands.operator import operator_caller
from signpost.dal.scans import directory_entries
from signpost.logic import directory_sync
from signpost.logic.directory_sync import DirectoryFileError, DirectoryPlan
from signpost.models.common import Role
from signpost.settings import get_settings
from signpost.wiring import services


def _configure(parser: argparse.ArgumentParser) -> None:
    choices = actions(
        parser,
        diff="show what applying FILE would change (reads only)",
        apply="create or update the organisations FILE lists, each with an audit entry",
    )
    for name, action in choices.items():
        action.add_argument(
            "files", type=Path, nargs="+", metavar="FILE", help="JSON lists of organisations, applied as one"
        )
        action.add_argument("--json", action="store_true", help="print the changes as JSON")
        if name == "diff":
            action.add_argument(
                "--exit-code", action="store_true", help="exit 1 when there are changes (for CI checks)"
            )


def _configure_seed(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", type=Path, nargs="+", metavar="FILE", help="JSON lists of organisations")


def _load(paths: list[Path], out: TextIO) -> directory_sync.DirectoryFile | None:
    loaded = []
    for path in paths:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            out.write(f"cannot read {path}: {type(exc).__name__}\n")
            return None
        try:
            loaded.append(directory_sync.parse_directory_file(raw))
        except DirectoryFileError as exc:
            out.writelines(f"{path}: {problem}\n" for problem in exc.problems)
            return None
    return directory_sync.combine(loaded)


def _plan(paths: list[Path], out: TextIO) -> tuple[directory_sync.DirectoryFile, DirectoryPlan] | None:
    loaded = _load(paths, out)
    if loaded is None:
        return None
    progress = Progress("directory entries read")
    existing = {}
    for org in directory_entries(get_settings().directory_table):
        existing[org.code] = org
        progress.step()
    progress.finish()
    problems = directory_sync.consistency_problems(loaded.organisations, existing)
    if problems:
        out.writelines(f"{problem}\n" for problem in problems)
        return None
    return loaded, directory_sync.plan(loaded.organisations, existing)


def _print_plan(plan: DirectoryPlan, as_json: bool, out: TextIO) -> None:
    if as_json:
        body: dict[str, Any] = {
            "changes": [
                {"code": c.code, "change": c.kind, "fields": {p: list(v) for p, v in c.fields.items()}}
                for c in plan.changes
            ],
            "only_in_table": plan.only_in_table,
        }
        out.write(json.dumps(body, indent=2) + "\n")
        return
    marks = {"create": "+", "update": "~", "unchanged": "="}
    for change in plan.changes:
        out.write(f"{marks[change.kind]} {change.code} {change.kind}\n")
        for path, (before, after) in change.fields.items():
            out.write(f"    {path}: {json.dumps(before)} -> {json.dumps(after)}\n")
    for code in plan.only_in_table:
        out.write(f"? {code} is in the table but not in the file (left as it is)\n")
    counts = {k: sum(1 for c in plan.changes if c.kind == k) for k in marks}
    out.write(
        f"directory: {counts['create']} to create, {counts['update']} to update, "
        f"{counts['unchanged']} unchanged, {len(plan.only_in_table)} only in the table\n"
    )


def _run(args: argparse.Namespace, out: TextIO) -> int:
    planned = _plan(args.files, out)
    if planned is None:
        return EXIT_USAGE
    loaded, plan = planned
    _print_plan(plan, args.json, out)
    if args.action == "diff":
        return EXIT_PROBLEMS if args.exit_code and plan.pending else EXIT_OK
    written = directory_sync.apply(
        services(), operator_caller(Role.ADMIN), loaded.organisations, plan, loaded.digest
    )
    if not args.json:
        out.write(f"applied {written} change(s), each audited on its DIRECTORY#<code> chain\n")
    return EXIT_OK


def _run_seed(args: argparse.Namespace, out: TextIO) -> int:
    planned = _plan(args.files, out)
    if planned is None:
        return EXIT_USAGE
    loaded, plan = planned
    directory_sync.apply(services(), operator_caller(Role.ADMIN), loaded.organisations, plan, loaded.digest)
    out.write(f"seeded {len(loaded.organisations)} organisations ({len(plan.pending)} changed)\n")
    return EXIT_OK


COMMAND = Command(
    "directory",
    "compare or apply a versioned directory file (validated, audited, idempotent)",
    _configure,
    _run,
)
SEED_COMMAND = Command(
    "seed-directory",
    "apply a directory file without printing the changes (same as `directory apply`)",
    _configure_seed,
    _run_seed,
)
