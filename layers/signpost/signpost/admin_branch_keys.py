"""`signpost-admin rotate-branch-key [--force]`: make the first, or a new, branch-key version.

The clock function does this on schedule (every BRANCH_KEY_ROTATION_DAYS); an operator
runs it once after the first deployment, or with --force after a suspected exposure of
a branch key (records already sealed keep their version and still open). Prints the
new version id only (not secret): never a key.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TextIO

from signpost.commands import EXIT_OK, Command
from signpost.dal.branch_keys import DynamoBranchKeyRotation
from signpost.logic.key_rotation import rotate_if_due
from signpost.settings import get_settings


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--force", action="store_true", help="rotate even if the active version is not due")


def run(args: argparse.Namespace, out: TextIO) -> int:
    settings = get_settings()
    made = rotate_if_due(
        DynamoBranchKeyRotation(settings.key_store_table, settings.data_key_id),
        dt.datetime.now(tz=dt.UTC),
        dt.timedelta(days=settings.branch_key_rotation_days),
        force=args.force,
    )
    out.write(f"new active branch-key version {made}\n" if made else "the active branch key is not due\n")
    return EXIT_OK


COMMAND = Command(
    name="rotate-branch-key",
    help="create the first or a new branch-key version (identity encryption)",
    configure=configure,
    run=run,
    description=__doc__ or "",
)
