"""Envelope encryption of identity fields: AES-256-GCM under per-record keys.

Format 2 (written today)::

    0x02 | branch-key version (16 bytes) | salt (32 bytes) | nonce (12 bytes) | ciphertext + tag

The record's data key is HKDF-SHA-256 of the branch key (see crypto/keyring.py),
with the random salt, and info naming the format, the branch-key version and the
record id. The whole header and the record id are the AES-GCM associated data, so
a ciphertext copied onto another record, or given another salt or version, fails
to open. Sealing and opening need no KMS call while the instance holds the branch
key's version (a bounded time).

Format 1 (read only, for records sealed before branch keys): a KMS data key per
instance and 5 minutes, stored wrapped in the blob. Opening one costs a KMS
Decrypt per data key not yet seen; re-sealing a record (any update) writes format 2.
"""

from __future__ import annotations

import os
import struct
from collections import OrderedDict
from typing import Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from signpost.crypto.keyring import VERSION_BYTES, BranchKeyCache

FORMAT_KMS_DATA_KEY = 1
FORMAT_BRANCH_KEY = 2
_NONCE_BYTES = 12
_SALT_BYTES = 32
_INFO = b"signpost/identity/v2"
_HEADER_BYTES = 1 + VERSION_BYTES + _SALT_BYTES


class LegacyDataKeys(Protocol):
    """KMS unwrapping of format-1 data keys (implemented in signpost.dal.kms)."""

    def unwrap(self, wrapped: bytes) -> bytes: ...


class DecryptionFailed(Exception):
    """The ciphertext is damaged, for another record, or under an unknown key."""


def derive_record_key(branch_key: bytes, version: bytes, salt: bytes, associated_data: bytes) -> bytes:
    """The data key of one sealing: HKDF(branch key, salt, format | version | record id)."""
    info = _INFO + b"\x00" + version + b"\x00" + associated_data
    return HKDF(algorithm=SHA256(), length=32, salt=salt, info=info).derive(branch_key)


class EnvelopeCipher:
    def __init__(
        self,
        branch_keys: BranchKeyCache,
        *,
        legacy: LegacyDataKeys | None = None,
        legacy_cache_size: int = 4096,
    ) -> None:
        self._branch_keys = branch_keys
        self._legacy = legacy
        self._legacy_keys: OrderedDict[bytes, bytes] = OrderedDict()
        self._legacy_cache_size = legacy_cache_size

    def encrypt(self, plaintext: bytes, associated_data: bytes) -> bytes:
        branch = self._branch_keys.active()
        version = bytes.fromhex(branch.version)
        salt = os.urandom(_SALT_BYTES)
        header = bytes([FORMAT_BRANCH_KEY]) + version + salt
        key = derive_record_key(branch.key, version, salt, associated_data)
        nonce = os.urandom(_NONCE_BYTES)
        return header + nonce + AESGCM(key).encrypt(nonce, plaintext, header + associated_data)

    def decrypt(self, blob: bytes, associated_data: bytes) -> bytes:
        try:
            if blob[:1] == bytes([FORMAT_BRANCH_KEY]):
                return self._decrypt_v2(blob, associated_data)
            if blob[:1] == bytes([FORMAT_KMS_DATA_KEY]):
                return self._decrypt_v1(blob, associated_data)
            raise DecryptionFailed("unknown envelope version")
        except DecryptionFailed:
            raise
        except Exception as exc:  # struct.error, InvalidTag, KMS refusal, unknown branch key
            raise DecryptionFailed("identity could not be decrypted") from exc

    def _decrypt_v2(self, blob: bytes, associated_data: bytes) -> bytes:
        if len(blob) < _HEADER_BYTES + _NONCE_BYTES + 16:
            raise DecryptionFailed("identity could not be decrypted")
        header = blob[:_HEADER_BYTES]
        version = header[1 : 1 + VERSION_BYTES]
        salt = header[1 + VERSION_BYTES :]
        nonce = blob[_HEADER_BYTES : _HEADER_BYTES + _NONCE_BYTES]
        branch = self._branch_keys.get(version.hex())
        key = derive_record_key(branch.key, version, salt, associated_data)
        return AESGCM(key).decrypt(nonce, blob[_HEADER_BYTES + _NONCE_BYTES :], header + associated_data)

    def _decrypt_v1(self, blob: bytes, associated_data: bytes) -> bytes:
        if self._legacy is None:
            raise DecryptionFailed("format-1 envelopes cannot be opened here")
        _, wrapped_len = struct.unpack_from(">BH", blob)
        start = 3
        wrapped = blob[start : start + wrapped_len]
        nonce = blob[start + wrapped_len : start + wrapped_len + _NONCE_BYTES]
        sealed = blob[start + wrapped_len + _NONCE_BYTES :]
        return AESGCM(self._legacy_key(wrapped)).decrypt(nonce, sealed, associated_data)

    def _legacy_key(self, wrapped: bytes) -> bytes:
        plaintext = self._legacy_keys.get(wrapped)
        if plaintext is None:
            assert self._legacy is not None
            plaintext = self._legacy.unwrap(wrapped)
            self._legacy_keys[wrapped] = plaintext
            while len(self._legacy_keys) > self._legacy_cache_size:
                self._legacy_keys.popitem(last=False)
        else:
            self._legacy_keys.move_to_end(wrapped)
        return plaintext
