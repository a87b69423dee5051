"""In-memory AWS for the local stack and the tests: moto, with the stack's own tables.

The DynamoDB tables are created from template.yaml's resource Properties (one
source of truth), minus what moto cannot take or what only matters in AWS
(a customer-managed SSE key, point-in-time recovery, deletion protection, tags).
KMS keys are created under fixed aliases so the environment is the same for
every LocalAws, the first branch key is made (as the clock function's first run
makes it in AWS), and the demo directory of API.md is seeded.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache, lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any
from unittest.mock import patch

import boto3
import moto.kms.models as kms_models
import moto.kms.utils as kms_utils
from moto import mock_aws
from signpost.dal.branch_keys import DynamoBranchKeyRotation
from signpost.dal.clients import reset_clients
from signpost.dal.directory import DynamoDirectory
from signpost.logic.key_rotation import rotate_if_due
from signpost.models.organisation import Organisation
from signpost.settings import get_settings, reset_settings
from signpost.wiring import reset_services

from infrastructure.cfn_yaml import load_template
from infrastructure.local import moto_speedups
from infrastructure.local.object_lock import StrictObjectLock
from infrastructure.local.tokens import DEFAULT_AUDIENCE, DevTokenIssuer

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
SEED_PATH = REPO_ROOT / "infrastructure" / "seed" / "organisations.json"

REGION = "eu-west-2"
ACCOUNT_ID = "123456789012"  # moto's default account
STACK_NAME = "signpost-local"

# template.yaml logical id → the environment variable that names the table (DESIGN.md)
TABLES: Mapping[str, str] = {
    "RecordsTable": "RECORDS_TABLE",
    "AuditTable": "AUDIT_TABLE",
    "AuditHeadsTable": "AUDIT_HEADS_TABLE",
    "IdempotencyTable": "IDEMPOTENCY_TABLE",
    "DirectoryTable": "DIRECTORY_TABLE",
    "KeyStoreTable": "KEY_STORE_TABLE",
}
# template.yaml logical id of each failure queue → the environment variable that names it ("": none)
QUEUES: Mapping[str, str] = {
    "NotifierFailureQueue": "NOTIFIER_FAILURE_QUEUE_URL",
    "AuditSealerFailureQueue": "",
}
DATA_KEY_ALIAS = f"alias/{STACK_NAME}-data"
HMAC_KEY_ALIAS = f"alias/{STACK_NAME}-blind-index"
PLATFORM_KEY_ALIAS = f"alias/{STACK_NAME}-platform"
AUDIT_MAC_KEY_ALIAS = f"alias/{STACK_NAME}-audit-mac"
ANCHOR_BUCKET = f"{STACK_NAME}-audit-anchors"
TOPIC_NAME = f"{STACK_NAME}-notifications"
# Bulk import: the upload bucket and the batch queue with its dead-letter queue (template.yaml's
# ImportsBucket, ImportQueue, ImportDeadLetterQueue; the queue's settings are read from there).
IMPORTS_BUCKET = f"{STACK_NAME}-imports"
IMPORT_QUEUE = f"{STACK_NAME}-imports"
IMPORT_DLQ = f"{STACK_NAME}-imports-dlq"

# create_table arguments whose CloudFormation spelling boto3 accepts as is
_TABLE_PROPERTIES = (
    "AttributeDefinitions",
    "KeySchema",
    "BillingMode",
    "ProvisionedThroughput",
    "TableClass",
)
_INDEX_PROPERTIES = ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")

_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    # botocore sends a call naming a stream ARN to an account-ID endpoint
    # (<account>.streams-ddb.<region>...), which moto does not route: use the regional one.
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
}


def parsed_template(path: Path = TEMPLATE_PATH) -> Mapping[str, Any]:
    """template.yaml parsed once per process (and again if it changes): parsing takes ~0.5 s."""
    return _parse(path.resolve(), path.stat().st_mtime_ns)


@lru_cache(maxsize=4)
def _parse(path: Path, _mtime_ns: int) -> Mapping[str, Any]:
    return load_template(path)  # the template's own loader: !Ref, !GetAtt, … as JSON-form dicts


def table_name(logical_id: str) -> str:
    return f"{STACK_NAME}-{logical_id.removesuffix('Table').lower()}"


def issuer_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/dev"


def load_seed(path: Path = SEED_PATH) -> list[Organisation]:
    return [Organisation.model_validate(entry) for entry in json.loads(path.read_text(encoding="utf-8"))]


def create_table_arguments(name: str, properties: Mapping[str, Any]) -> dict[str, Any]:
    """CloudFormation AWS::DynamoDB::Table Properties → DynamoDB CreateTable arguments."""
    args: dict[str, Any] = {"TableName": name}
    args.update({k: properties[k] for k in _TABLE_PROPERTIES if k in properties})
    for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if properties.get(kind):
            args[kind] = [
                {k: index[k] for k in _INDEX_PROPERTIES if k in index} for index in properties[kind]
            ]
    stream = properties.get("StreamSpecification")
    if stream and stream.get("StreamViewType"):
        args["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    _reject_intrinsics(name, args)
    return args


def _reject_intrinsics(name: str, value: Any) -> None:
    """A !Ref or !If left in a table definition cannot be created locally: say so plainly."""
    if isinstance(value, dict):
        if any(k == "Ref" or k.startswith("Fn::") for k in value):
            raise ValueError(
                f"table {name}: template uses an intrinsic function the local stack cannot resolve"
            )
        for v in value.values():
            _reject_intrinsics(name, v)
    elif isinstance(value, list):
        for v in value:
            _reject_intrinsics(name, v)


def anchor_retention_days(template: Mapping[str, Any]) -> int:
    """The stack's default Object Lock retention for audit anchors (the parameter's default)."""
    return int(template["Parameters"]["AuditAnchorRetentionDays"]["Default"])


def table_resources(template: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    resources = template.get("Resources", {})
    for logical_id in TABLES:
        resource = resources.get(logical_id)
        if not resource or resource.get("Type") != "AWS::DynamoDB::Table":
            raise ValueError(f"template.yaml defines no AWS::DynamoDB::Table named {logical_id}")
        yield logical_id, resource.get("Properties", {})


@contextmanager
def _reused_moto_key_pairs() -> Iterator[None]:
    """moto makes an RSA key pair for every KMS key, even symmetric and HMAC keys that never use
    it (~80 ms each, per test). Hand it one cached pair per key spec instead."""
    with patch.object(kms_models, "generate_private_key", _cached_key_pair):
        yield


@lru_cache(maxsize=8)
def _cached_key_pair(key_spec: str) -> Any:
    return kms_utils.generate_private_key(key_spec)


@cache
def _setup_client(service: str) -> Any:
    """Clients for creating resources, kept across LocalAws instances (moto intercepts at the
    request, so a client outlives a mock; creating one costs ~20 ms)."""
    return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]


class LocalAws:
    """moto started, tables/keys/topic created, directory seeded, environment set.

    Use as a context manager (``with LocalAws() as aws: ...``) or start()/stop().
    stop() restores the environment variables it changed.
    """

    def __init__(
        self,
        *,
        port: int = 3000,
        template_path: Path = TEMPLATE_PATH,
        seed_path: Path | None = SEED_PATH,
        tokens: DevTokenIssuer | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.template_path = template_path
        self.seed_path = seed_path
        self.tokens = tokens or DevTokenIssuer(issuer_url(port), DEFAULT_AUDIENCE)
        self.tokens.issuer = issuer_url(port)
        self.tables = {logical_id: table_name(logical_id) for logical_id in TABLES}
        self.topic_arn = ""
        self.import_queue_url = ""
        self.import_dlq_url = ""
        self.queue_urls: dict[str, str] = {}
        self._extra_env = dict(extra_env or {})
        self._mock: Any = None
        self._object_lock: StrictObjectLock | None = None
        self._saved_env: dict[str, str | None] = {}

    # lifecycle -----------------------------------------------------------------------
    _running: LocalAws | None = None  # moto's state is process-wide: one LocalAws at a time

    def start(self) -> LocalAws:
        if LocalAws._running is not None:
            raise RuntimeError("another LocalAws is running in this process (moto is process-wide)")
        LocalAws._running = self
        self._set_env(_FAKE_CREDENTIALS)  # before moto starts, so no real credentials are ever seen
        # Keep boto3's default session across mocks: a fresh one reloads every service
        # model (~0.1 s a client), which would dominate a test per LocalAws. No real
        # credentials can be in it: the fake ones above are set before any client exists.
        self._mock = mock_aws(config={"core": {"reset_boto3_session": False}})
        moto_speedups.install()
        self._mock.start()
        try:
            self._object_lock = StrictObjectLock(REGION).install()
            reset_clients()
            self._create_tables()
            self._create_keys()
            self._create_anchor_bucket()
            self.topic_arn = self._client("sns").create_topic(Name=TOPIC_NAME)["TopicArn"]
            self._create_import_resources()
            self._create_queues()
            self._set_env(self.environment())
            self._refresh()
            self.create_branch_key()
            if self.seed_path:
                self.seed(load_seed(self.seed_path))
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self._object_lock is not None:
            self._object_lock.uninstall()
            self._object_lock = None
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()
        self._refresh()
        if LocalAws._running is self:
            LocalAws._running = None

    def __enter__(self) -> LocalAws:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # configuration ---------------------------------------------------------------------
    def environment(self) -> dict[str, str]:
        """The environment variables of DESIGN.md, as template.yaml sets them in AWS."""
        env = {env_name: self.tables[logical_id] for logical_id, env_name in TABLES.items()}
        env.update(
            DATA_KEY_ID=DATA_KEY_ALIAS,
            HMAC_KEY_ID=HMAC_KEY_ALIAS,
            AUDIT_MAC_KEY_ID=AUDIT_MAC_KEY_ALIAS,
            AUDIT_ANCHOR_BUCKET=ANCHOR_BUCKET,
            JWT_ISSUER=self.tokens.issuer,
            JWT_AUDIENCE=self.tokens.audience,
            JWKS_JSON=json.dumps(self.tokens.jwks()),
            NOTIFICATIONS_TOPIC_ARN=self.topic_arn,
            IMPORTS_BUCKET=IMPORTS_BUCKET,
            IMPORTS_KEY_ID=PLATFORM_KEY_ALIAS,
            IMPORTS_QUEUE_URL=self.import_queue_url,
            IMPORT_MAX_RECEIVES=str(self.import_max_receives),
            POWERTOOLS_SERVICE_NAME="signpost",
            POWERTOOLS_METRICS_NAMESPACE="Signpost",
            POWERTOOLS_TRACE_DISABLED="true",
            SIGNPOST_ENV="local",
        )
        env.update({name: self.queue_urls[q] for q, name in QUEUES.items() if name and q in self.queue_urls})
        env.update(self._extra_env)
        return env

    def set_issuer(self, url: str) -> None:
        """Point tokens and the authorizer at another issuer URL (the gateway's real port)."""
        self.tokens.issuer = url
        self._set_env({"JWT_ISSUER": url})
        self._refresh()

    def create_branch_key(self) -> str | None:
        """The first branch key, as the clock function's first run makes it in AWS."""
        settings = get_settings()
        rotation = DynamoBranchKeyRotation(settings.key_store_table, settings.data_key_id)
        return rotate_if_due(
            rotation, dt.datetime.now(tz=dt.UTC), dt.timedelta(days=settings.branch_key_rotation_days)
        )

    def seed(self, organisations: list[Organisation]) -> None:
        directory = DynamoDirectory(self.tables["DirectoryTable"])
        for organisation in organisations:
            directory.put(organisation)

    # internals ----------------------------------------------------------------------
    @staticmethod
    def _client(service: str) -> Any:
        return _setup_client(service)

    def _create_tables(self) -> None:
        dynamodb = self._client("dynamodb")
        for logical_id, properties in table_resources(parsed_template(self.template_path)):
            name = self.tables[logical_id]
            dynamodb.create_table(**create_table_arguments(name, properties))
            ttl = properties.get("TimeToLiveSpecification")
            if ttl and ttl.get("Enabled"):
                dynamodb.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
                )

    @property
    def import_max_receives(self) -> int:
        """The import queue's maxReceiveCount (template.yaml), which the worker is told as well."""
        queue = parsed_template(self.template_path)["Resources"]["ImportQueue"]["Properties"]
        return int(queue["RedrivePolicy"]["maxReceiveCount"])

    def _create_import_resources(self) -> None:
        s3 = self._client("s3")
        s3.create_bucket(Bucket=IMPORTS_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        sqs = self._client("sqs")
        queue = parsed_template(self.template_path)["Resources"]["ImportQueue"]["Properties"]
        self.import_dlq_url = sqs.create_queue(QueueName=IMPORT_DLQ)["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=self.import_dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": self.import_max_receives}
        self.import_queue_url = sqs.create_queue(
            QueueName=IMPORT_QUEUE,
            Attributes={
                "VisibilityTimeout": str(queue["VisibilityTimeout"]),
                "MessageRetentionPeriod": str(queue["MessageRetentionPeriod"]),
                "RedrivePolicy": json.dumps(redrive),
            },
        )["QueueUrl"]

    def _create_keys(self) -> None:
        kms = self._client("kms")
        with _reused_moto_key_pairs():
            self._create_keys_with(kms)

    @staticmethod
    def _create_keys_with(kms: Any) -> None:
        data_key = kms.create_key(
            Description="signpost local data key", KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT"
        )
        kms.create_alias(AliasName=DATA_KEY_ALIAS, TargetKeyId=data_key["KeyMetadata"]["KeyId"])
        hmac_key = kms.create_key(
            Description="signpost local blind-index key", KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC"
        )
        kms.create_alias(AliasName=HMAC_KEY_ALIAS, TargetKeyId=hmac_key["KeyMetadata"]["KeyId"])
        platform_key = kms.create_key(
            Description="signpost local platform key (import uploads)",
            KeySpec="SYMMETRIC_DEFAULT",
            KeyUsage="ENCRYPT_DECRYPT",
        )
        kms.create_alias(AliasName=PLATFORM_KEY_ALIAS, TargetKeyId=platform_key["KeyMetadata"]["KeyId"])
        audit_key = kms.create_key(
            Description="signpost local audit MAC key", KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC"
        )
        kms.create_alias(AliasName=AUDIT_MAC_KEY_ALIAS, TargetKeyId=audit_key["KeyMetadata"]["KeyId"])

    def _create_queues(self) -> None:
        sqs = self._client("sqs")
        for logical_id in QUEUES:
            name = f"{STACK_NAME}-{logical_id.removesuffix('Queue').lower()}"
            self.queue_urls[logical_id] = sqs.create_queue(QueueName=name)["QueueUrl"]

    def _create_anchor_bucket(self) -> None:
        """The Object Lock bucket, as template.yaml's AuditAnchorBucket: versioned, compliance mode."""
        s3 = self._client("s3")
        s3.create_bucket(
            Bucket=ANCHOR_BUCKET,
            CreateBucketConfiguration={"LocationConstraint": REGION},
            ObjectLockEnabledForBucket=True,
        )
        days = anchor_retention_days(parsed_template(self.template_path))
        s3.put_object_lock_configuration(
            Bucket=ANCHOR_BUCKET,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": days}},
            },
        )

    def _set_env(self, values: Mapping[str, str]) -> None:
        for name, value in values.items():
            self._saved_env.setdefault(name, os.environ.get(name))
            os.environ[name] = value

    @staticmethod
    def _refresh() -> None:
        """Cached settings and boto3 clients must see the new environment."""
        reset_settings()
        reset_clients()
        reset_services()
