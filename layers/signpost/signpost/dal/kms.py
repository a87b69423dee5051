"""KMS: data keys for envelope encryption, MACs for blind-index key derivation and audit seals."""

from __future__ import annotations

from botocore.exceptions import ClientError

from signpost.dal.clients import kms

_CONTEXT = {"purpose": "signpost-identity"}


class KmsDataKeys:
    def __init__(self, key_id: str) -> None:
        self._key_id = key_id

    def generate_data_key(self) -> tuple[bytes, bytes]:
        resp = kms().generate_data_key(KeyId=self._key_id, KeySpec="AES_256", EncryptionContext=_CONTEXT)
        return resp["Plaintext"], resp["CiphertextBlob"]

    def unwrap(self, wrapped: bytes) -> bytes:
        resp = kms().decrypt(CiphertextBlob=wrapped, KeyId=self._key_id, EncryptionContext=_CONTEXT)
        return resp["Plaintext"]


class KmsMac:
    def __init__(self, key_id: str) -> None:
        self._key_id = key_id

    def generate_mac(self, message: bytes) -> bytes:
        resp = kms().generate_mac(KeyId=self._key_id, Message=message, MacAlgorithm="HMAC_SHA_256")
        return resp["Mac"]

    def verify_mac(self, message: bytes, mac: bytes) -> bool:
        """True if `mac` is this key's MAC of `message` (the offline audit verifier's check)."""
        try:
            resp = kms().verify_mac(KeyId=self._key_id, Message=message, Mac=mac, MacAlgorithm="HMAC_SHA_256")
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "KMSInvalidMacException":
                return False
            raise
        return bool(resp["MacValid"])
