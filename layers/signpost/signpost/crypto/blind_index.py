"""Blind indexes: keyed HMAC-SHA-256 over normalised blocking keys.

The HMAC key never appears in code or configuration: it is derived once per
process by asking KMS for a MAC (under an HMAC_256 KMS key) of a fixed label, and
kept only in memory. Without the KMS key the stored indexes reveal nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Iterable
from typing import Protocol

DERIVATION_LABEL = b"signpost/blind-index/v1"


class MacSource(Protocol):
    def generate_mac(self, message: bytes) -> bytes: ...


class BlindIndexer:
    def __init__(self, source: MacSource) -> None:
        self._source = source
        self._key: bytes | None = None
        self._lock = threading.Lock()

    def _derived_key(self) -> bytes:
        if self._key is None:
            with self._lock:
                if self._key is None:
                    self._key = self._source.generate_mac(DERIVATION_LABEL)
        return self._key

    def index(self, blocking_key: str) -> str:
        return hmac.new(self._derived_key(), blocking_key.encode("utf-8"), hashlib.sha256).hexdigest()

    def indexes(self, blocking_keys: Iterable[str]) -> set[str]:
        return {self.index(k) for k in blocking_keys}
