"""The composition root: the AWS-backed services a Lambda function uses, built once per process."""

from __future__ import annotations

from functools import cache

from signpost.crypto.blind_index import BlindIndexer
from signpost.crypto.envelope import EnvelopeCipher
from signpost.dal.imports import DynamoImports, S3Uploads, SqsBatches
from signpost.dal.kms import KmsDataKeys, KmsMac
from signpost.dal.store import DynamoStore
from signpost.logic.import_ports import ImportPorts
from signpost.logic.services import Services
from signpost.settings import get_settings


@cache
def services() -> Services:
    s = get_settings()
    store = DynamoStore(s.records_table, s.audit_table, s.idempotency_table, s.directory_table)
    cipher = EnvelopeCipher(
        KmsDataKeys(s.data_key_id), max_age_seconds=s.data_key_max_age_seconds, max_uses=s.data_key_max_uses
    )
    return Services(store=store, cipher=cipher, indexer=BlindIndexer(KmsMac(s.hmac_key_id)), settings=s)


@cache
def import_ports() -> ImportPorts:
    """The import items, the upload bucket and the batch queue (the imports and worker functions)."""
    s = get_settings()
    return ImportPorts(
        imports=DynamoImports(s.records_table),
        uploads=S3Uploads(s.imports_bucket, s.imports_key_id),
        queue=SqsBatches(s.imports_queue_url),
    )


def reset_services() -> None:
    services.cache_clear()
    import_ports.cache_clear()
