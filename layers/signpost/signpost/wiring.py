"""The composition root: the AWS-backed services a Lambda function uses, built once per process."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache

from signpost.crypto.blind_index import BlindIndexer
from signpost.crypto.envelope import EnvelopeCipher
from signpost.crypto.keyring import BranchKeyCache
from signpost.dal.branch_keys import DynamoBranchKeys
from signpost.dal.imports import DynamoImports, S3Uploads, SqsBatches
from signpost.dal.kms import KmsDataKeys, KmsMac
from signpost.dal.store import DynamoStore
from signpost.logic.import_ports import ImportPorts
from signpost.logic.services import Services
from signpost.settings import Settings, get_settings


def make_cipher(s: Settings, clock: Callable[[], float] = time.monotonic) -> EnvelopeCipher:
    """One instance's cipher: its own cache of the shared branch keys."""
    branch_keys = BranchKeyCache(
        DynamoBranchKeys(s.key_store_table, s.data_key_id),
        ttl_seconds=s.branch_key_cache_seconds,
        clock=clock,
    )
    return EnvelopeCipher(branch_keys, legacy=KmsDataKeys(s.data_key_id))


def make_services(s: Settings, clock: Callable[[], float] = time.monotonic) -> Services:
    """Everything one function instance holds (the benchmark builds several side by side)."""
    store = DynamoStore(s.records_table, s.audit_table, s.idempotency_table, s.directory_table)
    return Services(
        store=store, cipher=make_cipher(s, clock), indexer=BlindIndexer(KmsMac(s.hmac_key_id)), settings=s
    )


@cache
def services() -> Services:
    return make_services(get_settings())


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
