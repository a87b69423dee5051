"""The police search limit: at most N searches per practitioner per clock hour (API.md).

A search is counted in the same transaction that records it in the audit, on
condition that the window's count is still under the limit; so a refused
request (400, 403, 429 …) is never counted, and two concurrent searches cannot
both take the last place. The counter is also read first, so a practitioner who
is already over the limit is refused before any candidate is decrypted.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Protocol

from signpost.authz import Caller
from signpost.errors import TooManyRequests
from signpost.models.security import RateIncrement

WINDOW = dt.timedelta(hours=1)
# A spent window lingers a little after it closes; TTL deletion is lazy anyway.
WINDOW_TTL_GRACE = dt.timedelta(hours=1)


class RateLimitReader(Protocol):
    def count(self, subject: str, window: str) -> int: ...


def window_start(now: dt.datetime) -> dt.datetime:
    return now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def window_key(now: dt.datetime) -> str:
    return window_start(now).strftime("%Y-%m-%dT%H")


def seconds_to_next_window(now: dt.datetime) -> int:
    """Retry-After: whole seconds until the next hour starts (at least 1)."""
    remaining = (window_start(now) + WINDOW - now.astimezone(dt.UTC)).total_seconds()
    return max(1, math.ceil(remaining))


def limit_reached(now: dt.datetime) -> TooManyRequests:
    return TooManyRequests(
        "the hourly limit of police searches is reached; try again later",
        retry_after=seconds_to_next_window(now),
    )


def police_quota(
    caller: Caller, limit: int, now: dt.datetime, reader: RateLimitReader | None
) -> RateIncrement | None:
    """The increment a police search must commit, or None for anyone else.

    Raises TooManyRequests at once when the window is already full.
    """
    if not caller.is_police:
        return None
    window = window_key(now)
    if limit <= 0 or (reader is not None and reader.count(caller.sub, window) >= limit):
        raise limit_reached(now)
    expires = window_start(now) + WINDOW + WINDOW_TTL_GRACE
    return RateIncrement(subject=caller.sub, window=window, limit=limit, expires_at=int(expires.timestamp()))
