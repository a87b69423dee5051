"""Envelope encryption: AES-256-GCM under data keys that a KMS key protects.

A warm function reuses its current data key for a bounded time and number of
items, and remembers the data keys it has unwrapped, so reading a record it has
seen the key of makes no KMS call. The record id is the associated data: a
ciphertext copied onto another record fails to decrypt.
"""

from __future__ import annotations

import os
import struct
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = 1
_NONCE_BYTES = 12


class DataKeySource(Protocol):
    """What envelope encryption needs from KMS (implemented in signpost.dal.kms)."""

    def generate_data_key(self) -> tuple[bytes, bytes]:
        """A new AES-256 key: (plaintext, wrapped)."""
        ...

    def unwrap(self, wrapped: bytes) -> bytes: ...


class DecryptionFailed(Exception):
    """The ciphertext is damaged, for another record, or under an unknown key."""


@dataclass
class _CurrentKey:
    plaintext: bytes
    wrapped: bytes
    created: float
    uses: int = 0


class EnvelopeCipher:
    def __init__(
        self,
        source: DataKeySource,
        *,
        max_age_seconds: float = 300.0,
        max_uses: int = 10_000,
        unwrap_cache_size: int = 4096,
    ) -> None:
        self._source = source
        self._max_age = max_age_seconds
        self._max_uses = max_uses
        self._current: _CurrentKey | None = None
        self._unwrapped: OrderedDict[bytes, bytes] = OrderedDict()
        self._cache_size = unwrap_cache_size

    def encrypt(self, plaintext: bytes, associated_data: bytes) -> bytes:
        key = self._data_key()
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(key.plaintext).encrypt(nonce, plaintext, associated_data)
        return struct.pack(">BH", _VERSION, len(key.wrapped)) + key.wrapped + nonce + sealed

    def decrypt(self, blob: bytes, associated_data: bytes) -> bytes:
        try:
            version, wrapped_len = struct.unpack_from(">BH", blob)
            if version != _VERSION:
                raise DecryptionFailed("unknown envelope version")
            start = 3
            wrapped = blob[start : start + wrapped_len]
            nonce = blob[start + wrapped_len : start + wrapped_len + _NONCE_BYTES]
            sealed = blob[start + wrapped_len + _NONCE_BYTES :]
            return AESGCM(self._unwrap(wrapped)).decrypt(nonce, sealed, associated_data)
        except DecryptionFailed:
            raise
        except Exception as exc:  # struct.error, InvalidTag, KMS refusal
            raise DecryptionFailed("identity could not be decrypted") from exc

    def _data_key(self) -> _CurrentKey:
        now = time.monotonic()
        key = self._current
        if key is None or key.uses >= self._max_uses or now - key.created > self._max_age:
            plaintext, wrapped = self._source.generate_data_key()
            key = self._current = _CurrentKey(plaintext, wrapped, now)
            self._remember(wrapped, plaintext)
        key.uses += 1
        return key

    def _unwrap(self, wrapped: bytes) -> bytes:
        plaintext = self._unwrapped.get(wrapped)
        if plaintext is None:
            plaintext = self._source.unwrap(wrapped)
            self._remember(wrapped, plaintext)
        else:
            self._unwrapped.move_to_end(wrapped)
        return plaintext

    def _remember(self, wrapped: bytes, plaintext: bytes) -> None:
        self._unwrapped[wrapped] = plaintext
        while len(self._unwrapped) > self._cache_size:
            self._unwrapped.popitem(last=False)
