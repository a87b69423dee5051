"""Branch keys: the shared keys every function instance derives record keys from.

The hierarchical-keyring pattern of the AWS Cryptographic Material Providers
Library: a 256-bit *branch key* is made by KMS and stored only wrapped by it (in
the key-store table); a function instance unwraps a version once and keeps it for
a bounded time, and each record's data key is derived from it with HKDF and a
random per-record salt. Every instance shares the same few branch keys, so a
search reading records sealed by other instances makes no KMS call once its
instance has seen their version. A version is never deleted: rotation adds a new
active version, and records sealed under an old one still open.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from signpost.errors import SignpostError

BRANCH_KEY_BYTES = 32
VERSION_BYTES = 16  # a version id is 16 random bytes, written as 32 hex digits


class BranchKeyMissing(SignpostError):
    """No active branch key (none created yet) or an unknown version: nothing can be sealed."""

    status = 503
    title = "Service unavailable"


@dataclass(frozen=True)
class BranchKey:
    version: str  # 32 hex digits
    key: bytes  # the unwrapped 256-bit key: kept in memory only


class BranchKeySource(Protocol):
    """The key store and KMS (implemented in signpost.dal.branch_keys)."""

    def active_branch_key(self) -> tuple[str, bytes]:
        """The active version and its wrapped key (one key-store read)."""
        ...

    def wrapped_branch_key(self, version: str) -> bytes:
        """The wrapped key of a version (one key-store read); BranchKeyMissing if unknown."""
        ...

    def unwrap_branch_key(self, version: str, wrapped: bytes) -> bytes:
        """The plaintext key (one KMS Decrypt, bound to the version by its encryption context)."""
        ...


class BranchKeyCache:
    """One instance's unwrapped branch keys, each kept at most `ttl_seconds`.

    The bound is what lets a disabled KMS key or a revoked permission take effect
    within minutes, and limits how long a key sits in memory. Which version is
    active is also re-read once per `ttl_seconds`, so a rotation reaches every
    writer within that time (records sealed under the previous version stay valid).
    """

    def __init__(
        self,
        source: BranchKeySource,
        *,
        ttl_seconds: float,
        max_versions: int = 64,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_seconds <= 0:
            raise ValueError("the branch-key cache needs a positive time to live")
        self._source = source
        self._ttl = ttl_seconds
        self._max_versions = max_versions
        self._clock = clock
        self._keys: OrderedDict[str, tuple[float, bytes]] = OrderedDict()  # version -> (loaded, key)
        self._active: tuple[float, str] | None = None  # (checked, version)
        self._lock = threading.Lock()

    def active(self) -> BranchKey:
        """The branch key new records are sealed under."""
        with self._lock:
            now = self._clock()
            if self._active is None or now - self._active[0] >= self._ttl:
                version, wrapped = self._source.active_branch_key()
                self._active = (now, version)
                return BranchKey(version, self._fresh(version, now) or self._load(version, wrapped, now))
            version = self._active[1]
            key = self._fresh(version, now)
            if key is None:
                key = self._load(version, self._source.wrapped_branch_key(version), now)
            return BranchKey(version, key)

    def get(self, version: str) -> BranchKey:
        """The branch key of `version` (a record names the version it was sealed under)."""
        with self._lock:
            now = self._clock()
            key = self._fresh(version, now)
            if key is None:
                key = self._load(version, self._source.wrapped_branch_key(version), now)
            return BranchKey(version, key)

    def _fresh(self, version: str, now: float) -> bytes | None:
        hit = self._keys.get(version)
        if hit is None or now - hit[0] >= self._ttl:
            return None
        self._keys.move_to_end(version)
        return hit[1]

    def _load(self, version: str, wrapped: bytes, now: float) -> bytes:
        key = self._source.unwrap_branch_key(version, wrapped)
        if len(key) != BRANCH_KEY_BYTES:
            raise BranchKeyMissing("a branch key has the wrong length")
        self._keys[version] = (now, key)
        self._keys.move_to_end(version)
        while len(self._keys) > self._max_versions:
            self._keys.popitem(last=False)
        return key
