"""Branch-key rotation: a new active version once the current one is older than the period.

Run by the clock function on every schedule (and by `signpost-admin rotate-branch-key`).
Old versions stay readable forever: records sealed under them still open. Two runs at
once create at most one new version (the store's conditional write).
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol


class BranchKeyRotation(Protocol):
    def active(self) -> tuple[str, dt.datetime] | None:
        """The active version and when it was created, or None before the first."""
        ...

    def rotate(self, now: dt.datetime, replacing: str | None) -> str | None:
        """Create a new active version; None if `replacing` was no longer the active one."""
        ...


def rotate_if_due(
    rotation: BranchKeyRotation, now: dt.datetime, period: dt.timedelta, *, force: bool = False
) -> str | None:
    """The new version if one was made (none yet, the active one is `period` old, or forced)."""
    current = rotation.active()
    if current is not None and not force and now - current[1] < period:
        return None
    return rotation.rotate(now, current[0] if current else None)
