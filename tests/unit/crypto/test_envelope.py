"""Envelope encryption under shared branch keys: sealing, binding, caching, rotation, format 1."""

from __future__ import annotations

import hashlib
import os

import pytest
from signpost.crypto.envelope import FORMAT_BRANCH_KEY, DecryptionFailed, EnvelopeCipher, derive_record_key
from signpost.crypto.keyring import BranchKeyCache

from tests.support.legacy_envelope import LegacySealer
from tests.unit.logic.fakes import FakeDataKeys

CHILD = b"3f2a9c0d5e6b4a1f8c7d6e5f4a3b2c1d"
OTHER_CHILD = b"0f1e2d3c4b5a69788796a5b4c3d2e1f0"
IDENTITY = b'{"date_of_birth":"2014-02-03","family_name":"Example","given_names":"Amelia"}'


class Clock:
    def __init__(self) -> None:
        self.t = 1_000.0

    def __call__(self) -> float:
        return self.t


def instance(keys: FakeDataKeys, clock: Clock | None = None, ttl: float = 900) -> EnvelopeCipher:
    """One function instance: its own cache over the shared key store."""
    return EnvelopeCipher(BranchKeyCache(keys, ttl_seconds=ttl, clock=clock or Clock()))


def test_round_trip_and_no_plaintext_in_the_blob() -> None:
    cipher = instance(FakeDataKeys())
    blob = cipher.encrypt(IDENTITY, CHILD)
    assert blob[0] == FORMAT_BRANCH_KEY
    assert b"Amelia" not in blob
    assert b"2014-02-03" not in blob
    assert cipher.decrypt(blob, CHILD) == IDENTITY


def test_each_sealing_has_its_own_salt_and_key() -> None:
    cipher = instance(FakeDataKeys())
    first, second = cipher.encrypt(IDENTITY, CHILD), cipher.encrypt(IDENTITY, CHILD)
    assert first[17:49] != second[17:49]  # salt
    assert first != second
    branch = os.urandom(32)
    version, salt = os.urandom(16), os.urandom(32)
    assert derive_record_key(branch, version, salt, CHILD) != derive_record_key(
        branch, version, salt, OTHER_CHILD
    )
    assert derive_record_key(branch, version, salt, CHILD) != derive_record_key(
        branch, version, os.urandom(32), CHILD
    )


def test_a_ciphertext_is_bound_to_its_child() -> None:
    cipher = instance(FakeDataKeys())
    blob = cipher.encrypt(IDENTITY, CHILD)
    with pytest.raises(DecryptionFailed):
        cipher.decrypt(blob, OTHER_CHILD)


@pytest.mark.parametrize(
    ("where", "name"), [(0, "format"), (5, "version"), (30, "salt"), (55, "nonce"), (-1, "tag"), (70, "body")]
)
def test_any_changed_byte_fails(where: int, name: str) -> None:
    cipher = instance(FakeDataKeys())
    blob = bytearray(cipher.encrypt(IDENTITY, CHILD))
    blob[where] ^= 0x01
    with pytest.raises(DecryptionFailed):
        cipher.decrypt(bytes(blob), CHILD)


def test_truncated_or_unknown_blobs_fail_cleanly() -> None:
    cipher = instance(FakeDataKeys())
    for blob in (b"", b"\x02", b"\x07" + os.urandom(80), cipher.encrypt(IDENTITY, CHILD)[:60]):
        with pytest.raises(DecryptionFailed):
            cipher.decrypt(blob, CHILD)


def test_records_sealed_by_other_instances_open_without_a_kms_call_per_record() -> None:
    keys = FakeDataKeys()
    writers = [instance(keys) for _ in range(3)]
    blobs = [writers[i % 3].encrypt(IDENTITY, CHILD) for i in range(30)]
    assert keys.unwrapped == 3  # one unwrap per writer instance
    reader = instance(keys)
    for blob in blobs:
        assert reader.decrypt(blob, CHILD) == IDENTITY
    assert keys.unwrapped == 4  # one for the reader, not one per record


def test_the_cache_is_bounded_in_time() -> None:
    keys, clock = FakeDataKeys(), Clock()
    cipher = instance(keys, clock, ttl=600)
    blob = cipher.encrypt(IDENTITY, CHILD)
    clock.t += 599
    cipher.decrypt(blob, CHILD)
    assert keys.unwrapped == 1
    clock.t += 1
    cipher.decrypt(blob, CHILD)
    assert keys.unwrapped == 2


def test_the_cache_is_bounded_in_versions() -> None:
    keys = FakeDataKeys()
    blobs = []
    for _ in range(5):
        blobs.append(instance(keys).encrypt(IDENTITY, CHILD))
        keys.rotate()
    reader = EnvelopeCipher(BranchKeyCache(keys, ttl_seconds=900, max_versions=2, clock=Clock()))
    before = keys.unwrapped
    for blob in blobs + blobs:
        reader.decrypt(blob, CHILD)
    assert keys.unwrapped - before == 10  # 5 versions through a cache of 2: every one evicted


def test_rotation_reaches_writers_within_the_ttl_and_old_versions_still_open() -> None:
    keys, clock = FakeDataKeys(), Clock()
    cipher = instance(keys, clock, ttl=900)
    old_version = keys.active_version
    before = cipher.encrypt(IDENTITY, CHILD)
    keys.rotate()
    clock.t += 899
    assert cipher.encrypt(IDENTITY, CHILD)[1:17].hex() == old_version  # still cached
    clock.t += 1
    after = cipher.encrypt(IDENTITY, CHILD)
    assert after[1:17].hex() == keys.active_version != old_version
    fresh = instance(keys)
    assert fresh.decrypt(before, CHILD) == fresh.decrypt(after, CHILD) == IDENTITY


def test_an_unknown_version_fails_cleanly() -> None:
    blob = instance(FakeDataKeys()).encrypt(IDENTITY, CHILD)
    with pytest.raises(DecryptionFailed):
        instance(FakeDataKeys()).decrypt(blob, CHILD)  # another key store


def test_the_ttl_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        BranchKeyCache(FakeDataKeys(), ttl_seconds=0)


class LegacyKeys:
    def __init__(self) -> None:
        self.unwrapped = 0
        self._keys: dict[bytes, bytes] = {}

    def generate_data_key(self) -> tuple[bytes, bytes]:
        key = os.urandom(32)
        wrapped = hashlib.sha256(key).digest()
        self._keys[wrapped] = key
        return key, wrapped

    def unwrap(self, wrapped: bytes) -> bytes:
        self.unwrapped += 1
        return self._keys[wrapped]


def test_format_one_still_opens_and_stays_bound_to_its_child() -> None:
    legacy = LegacyKeys()
    old = LegacySealer(legacy).encrypt(IDENTITY, CHILD)
    cipher = EnvelopeCipher(BranchKeyCache(FakeDataKeys(), ttl_seconds=900), legacy=legacy)
    assert cipher.decrypt(old, CHILD) == IDENTITY
    assert cipher.decrypt(old, CHILD) == IDENTITY
    assert legacy.unwrapped == 1  # its data key is remembered
    with pytest.raises(DecryptionFailed):
        cipher.decrypt(old, OTHER_CHILD)
    with pytest.raises(DecryptionFailed):
        instance(FakeDataKeys()).decrypt(old, CHILD)  # no legacy opener configured
    # Re-sealing (any update) writes format 2.
    assert cipher.encrypt(cipher.decrypt(old, CHILD), CHILD)[0] == FORMAT_BRANCH_KEY
