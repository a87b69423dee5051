"""The police search limit: at most N searches per practitioner in any 60 minutes (API.md).

A sliding window, not a clock hour: each practitioner of an organisation has one window
item holding the times of their searches still inside it. A search reads it, drops what
has left the window, and is refused (429) if the rest already fills the limit; otherwise
the window with this search added is written in the same transaction that records the
search in the audit, on condition that its version is still the one read. So a refused
request (400, 403, 429 …) is never counted, and of two concurrent searches that both saw
the last place, the second loses the condition, reads the window again and is refused.
The window is read before any candidate is decrypted, so a practitioner over the limit
costs no KMS call.

The window is keyed on organisation and practitioner: a `sub` is unique only within its
identity provider, and an officer acting for two forces has a window in each.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TypeVar

from signpost.authz import Caller
from signpost.errors import TooManyRequests
from signpost.logic.services import Services
from signpost.models.domain import Changes
from signpost.models.security import RateIncrement, RateWindow

T = TypeVar("T")


def rate_subject(caller: Caller) -> str:
    # Organisation codes never contain "#", so the pair cannot be confused with another.
    return f"{caller.org}#{caller.sub}"


def retry_after(times: Sequence[float], limit: int, now_epoch: float, window_seconds: int) -> int:
    """Whole seconds until enough of `times` have left the window for one more search (at least 1)."""
    must_leave = len(times) - limit + 1
    if limit <= 0 or must_leave <= 0 or must_leave > len(times):
        return max(1, window_seconds)
    leaves_at = sorted(times)[must_leave - 1] + window_seconds
    return max(1, math.ceil(leaves_at - now_epoch))


def police_quota(services: Services, caller: Caller) -> RateIncrement | None:
    """The window a police search must commit, or None for anyone else.

    Reads the caller's window; raises TooManyRequests (with Retry-After) when it is full.
    """
    if not caller.is_police:
        return None
    settings = services.settings
    limit, window_seconds = settings.police_searches_per_hour, settings.police_search_window_minutes * 60
    now = services.now().timestamp()
    subject = rate_subject(caller)
    current = services.store.rate_limits.window(subject) if limit > 0 else RateWindow()
    recent = tuple(t for t in sorted(current.times) if t > now - window_seconds)
    if limit <= 0 or len(recent) >= limit:
        raise TooManyRequests(
            "the limit of police searches is reached; try again later",
            retry_after=retry_after(recent, limit, now, window_seconds),
        )
    return RateIncrement(
        subject=subject,
        times=(*recent, now),
        expected_version=current.version,
        expires_at=math.ceil(now) + window_seconds,
    )


def commit_counted(
    services: Services, caller: Caller, build: Callable[[Changes], T], *, first: RateIncrement | None = None
) -> Callable[[], T]:
    """An attempt for commit_with_retries: build the changes, count a police caller's search in them
    and commit. `first` is the window already read (and checked) for the first attempt; a retry
    (the window moved, or an audit chain did) reads it again, and may then be refused."""
    pending = [first]

    def attempt() -> T:
        quota = pending.pop() if pending else police_quota(services, caller)
        changes = Changes()
        answer = build(changes)
        if quota is not None:
            changes.rate_limits.append(quota)
        services.store.commit(changes)
        return answer

    return attempt
