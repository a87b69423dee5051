"""Where a `signpost-admin` command acts: a deployed stack, the local stack, or the environment.

- `--stack NAME` (with `--profile`/`--region`): the tables and keys are read from the
  stack's outputs, the environment name and retention from its parameters;
- `--local`: the in-memory AWS of `make local` (its AWS endpoint, its table names,
  throw-away credentials);
- neither: the environment variables the functions use (RECORDS_TABLE, AUDIT_TABLE, ...).

Whatever the target, the command runs with the operator's own credentials.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping

import boto3

from signpost.dal.clients import reset_clients
from signpost.dal.stack import TargetError, describe_stack
from signpost.settings import reset_settings
from signpost.wiring import reset_services

LOCAL_AWS_PORT = 3001  # `make local` serves its in-memory AWS on the gateway's port + 1 (LOCAL_AWS_PORT)
LOCAL_REGION = "eu-west-2"
# The names `make local` gives (infrastructure/local/aws.py; a test keeps the two equal).
LOCAL_ENVIRONMENT: Mapping[str, str] = {
    "RECORDS_TABLE": "signpost-local-records",
    "AUDIT_TABLE": "signpost-local-audit",
    "AUDIT_HEADS_TABLE": "signpost-local-auditheads",
    "IDEMPOTENCY_TABLE": "signpost-local-idempotency",
    "DIRECTORY_TABLE": "signpost-local-directory",
    "KEY_STORE_TABLE": "signpost-local-keystore",
    "DATA_KEY_ID": "alias/signpost-local-data",
    "HMAC_KEY_ID": "alias/signpost-local-blind-index",
    "AUDIT_MAC_KEY_ID": "alias/signpost-local-audit-mac",
    "AUDIT_ANCHOR_BUCKET": "signpost-local-audit-anchors",
    "SIGNPOST_ENV": "local",
}
_LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}

# Stack output or parameter -> the environment variable the settings read.
STACK_OUTPUTS: Mapping[str, str] = {
    "RecordsTableName": "RECORDS_TABLE",
    "AuditTableName": "AUDIT_TABLE",
    "IdempotencyTableName": "IDEMPOTENCY_TABLE",
    "DirectoryTableName": "DIRECTORY_TABLE",
    "KeyStoreTableName": "KEY_STORE_TABLE",
    "DataKeyId": "DATA_KEY_ID",
    "BlindIndexKeyId": "HMAC_KEY_ID",
    "NotificationsTopicArn": "NOTIFICATIONS_TOPIC_ARN",
    "AuditHeadsTableName": "AUDIT_HEADS_TABLE",
    "AuditMacKeyId": "AUDIT_MAC_KEY_ID",
    "AuditAnchorBucketName": "AUDIT_ANCHOR_BUCKET",
    "NotifierFailureQueueUrl": "NOTIFIER_FAILURE_QUEUE_URL",
}
STACK_PARAMETERS: Mapping[str, str] = {"Environment": "SIGNPOST_ENV", "RetentionDays": "RETENTION_DAYS"}

__all__ = ["TargetError", "add_target_options", "apply_target", "environment_from_stack"]


def add_target_options(parser: argparse.ArgumentParser) -> None:
    where = parser.add_argument_group("where to act (default: the environment variables the functions use)")
    where.add_argument("--profile", help="AWS profile of the operator's credentials")
    where.add_argument("--region", help="AWS region (default: the profile's or AWS_REGION)")
    where.add_argument(
        "--stack", help="a deployed stack's name (e.g. signpost-staging): tables from its outputs"
    )
    where.add_argument(
        "--local",
        action="store_true",
        help=f"the in-memory AWS of `make local` (http://127.0.0.1:{LOCAL_AWS_PORT}, or --endpoint-url)",
    )
    where.add_argument("--endpoint-url", help="another AWS endpoint (an emulator)")


def environment_from_stack(outputs: Mapping[str, str], parameters: Mapping[str, str]) -> dict[str, str]:
    """The settings' environment variables from a stack's outputs and parameters."""
    missing = [
        name for name in ("RecordsTableName", "AuditTableName", "DirectoryTableName") if name not in outputs
    ]
    if missing:
        raise TargetError(f"the stack has no output {', '.join(missing)}: is it a Signpost stack?")
    env = {variable: outputs[name] for name, variable in STACK_OUTPUTS.items() if name in outputs}
    env.update(
        {variable: parameters[name] for name, variable in STACK_PARAMETERS.items() if name in parameters}
    )
    return env


def apply_target(args: argparse.Namespace) -> None:
    """Point boto3 and the settings at the chosen target (process-wide: this is a CLI).

    Without a target option nothing changes: the environment already says where to act.
    """
    env: dict[str, str] = {}
    endpoint = getattr(args, "endpoint_url", None)
    if getattr(args, "local", False):
        endpoint = endpoint or f"http://127.0.0.1:{os.environ.get('LOCAL_AWS_PORT', LOCAL_AWS_PORT)}"
        env.update(LOCAL_ENVIRONMENT)
        env.update(_LOCAL_CREDENTIALS)
        env.update(AWS_REGION=LOCAL_REGION, AWS_DEFAULT_REGION=LOCAL_REGION)
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint  # honoured by every boto3 client (botocore >= 1.31)
    profile, region, stack = (getattr(args, name, None) for name in ("profile", "region", "stack"))
    if not (env or profile or region or stack):
        return
    os.environ.update(env)
    if profile or region:
        boto3.setup_default_session(profile_name=profile, region_name=region)
    _refresh()
    if stack:
        outputs, parameters = describe_stack(stack)
        os.environ.update(environment_from_stack(outputs, parameters))
        _refresh()


def _refresh() -> None:
    reset_settings()
    reset_clients()
    reset_services()
