"""KMS: branch keys (and format-1 data keys) for envelope encryption, MACs for blind-index key
derivation and audit seals."""

from __future__ import annotations

from botocore.exceptions import ClientError

from signpost.dal.clients import kms

# Format-1 envelopes (read only): data keys made per instance under this context.
_LEGACY_CONTEXT = {"purpose": "signpost-identity"}
# Branch keys: the key policy allows them only under this purpose; the version and the
# branch key's name are bound in too, so a wrapped key moved to another version fails.
BRANCH_KEY_PURPOSE = "signpost-branch-key"
BRANCH_KEY_NAME = "signpost-identity"


def branch_key_context(version: str) -> dict[str, str]:
    return {"purpose": BRANCH_KEY_PURPOSE, "branch_key": BRANCH_KEY_NAME, "version": version}


class KmsDataKeys:
    """Unwraps the data keys of format-1 envelopes (records sealed before branch keys)."""

    def __init__(self, key_id: str) -> None:
        self._key_id = key_id

    def unwrap(self, wrapped: bytes) -> bytes:
        resp = kms().decrypt(CiphertextBlob=wrapped, KeyId=self._key_id, EncryptionContext=_LEGACY_CONTEXT)
        return resp["Plaintext"]


class KmsBranchKeys:
    """Makes and unwraps branch keys. Making one never returns its plaintext to the caller."""

    def __init__(self, key_id: str) -> None:
        self._key_id = key_id

    def new_wrapped(self, version: str) -> bytes:
        resp = kms().generate_data_key_without_plaintext(
            KeyId=self._key_id, KeySpec="AES_256", EncryptionContext=branch_key_context(version)
        )
        return resp["CiphertextBlob"]

    def unwrap(self, version: str, wrapped: bytes) -> bytes:
        resp = kms().decrypt(
            CiphertextBlob=wrapped, KeyId=self._key_id, EncryptionContext=branch_key_context(version)
        )
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
