"""The envelope design before branch keys (format 1), kept to test and measure against.

Each function instance made its own KMS data key and used it for 5 minutes or 10,000
records, storing it wrapped in every ciphertext. This is that sealing code, unchanged
in effect; production code only opens format 1 (signpost/crypto/envelope.py).
"""

from __future__ import annotations

import os
import struct
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from signpost.crypto.envelope import FORMAT_KMS_DATA_KEY
from signpost.dal.clients import kms
from signpost.dal.kms import KmsDataKeys


class DataKeySource(Protocol):
    def generate_data_key(self) -> tuple[bytes, bytes]: ...
    def unwrap(self, wrapped: bytes) -> bytes: ...


class LegacySealer:
    """Seals format 1 and opens it with its own cache, as one instance of the old design did."""

    def __init__(
        self,
        source: DataKeySource,
        *,
        max_age_seconds: float = 300.0,
        max_uses: int = 10_000,
        cache_size: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._max_age = max_age_seconds
        self._max_uses = max_uses
        self._clock = clock
        self._current: tuple[bytes, bytes, float] | None = None
        self._uses = 0
        self._cache_size = cache_size
        self._unwrapped: OrderedDict[bytes, bytes] = OrderedDict()

    def encrypt(self, plaintext: bytes, associated_data: bytes) -> bytes:
        now = self._clock()
        if self._current is None or self._uses >= self._max_uses or now - self._current[2] > self._max_age:
            key, wrapped = self._source.generate_data_key()
            self._current = (key, wrapped, now)
            self._uses = 0
            self._remember(wrapped, key)
        key, wrapped, _ = self._current
        self._uses += 1
        nonce = os.urandom(12)
        sealed = AESGCM(key).encrypt(nonce, plaintext, associated_data)
        return struct.pack(">BH", FORMAT_KMS_DATA_KEY, len(wrapped)) + wrapped + nonce + sealed

    def decrypt(self, blob: bytes, associated_data: bytes) -> bytes:
        _, wrapped_len = struct.unpack_from(">BH", blob)
        wrapped = blob[3 : 3 + wrapped_len]
        nonce = blob[3 + wrapped_len : 15 + wrapped_len]
        key = self._unwrapped.get(wrapped)
        if key is None:
            key = self._source.unwrap(wrapped)
        self._remember(wrapped, key)
        return AESGCM(key).decrypt(nonce, blob[15 + wrapped_len :], associated_data)

    def _remember(self, wrapped: bytes, key: bytes) -> None:
        self._unwrapped[wrapped] = key
        self._unwrapped.move_to_end(wrapped)
        while len(self._unwrapped) > self._cache_size:
            self._unwrapped.popitem(last=False)


class LegacyKmsDataKeys:
    """The old design's KMS calls: a data key per instance and period, unwrapped per key."""

    def __init__(self, key_id: str) -> None:
        self._key_id = key_id
        self._opener = KmsDataKeys(key_id)

    def generate_data_key(self) -> tuple[bytes, bytes]:
        resp = kms().generate_data_key(
            KeyId=self._key_id, KeySpec="AES_256", EncryptionContext={"purpose": "signpost-identity"}
        )
        return resp["Plaintext"], resp["CiphertextBlob"]

    def unwrap(self, wrapped: bytes) -> bytes:
        return self._opener.unwrap(wrapped)
