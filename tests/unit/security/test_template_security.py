"""Security features as template.yaml must deploy them (read as data, offline).

tests/unit/test_template.py covers the stack in general (no wildcards, append-only audit,
key use, WAF, logs); these add what break-glass, the police limit, the audit seals and
anchors and the sensitive-service rule need from IAM, KMS, S3 and API Gateway.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infrastructure.cfn_yaml import load_template

TEMPLATE = Path(__file__).resolve().parents[3] / "template.yaml"
# Functions whose commits append audit entries (directory changes are audited too).
AUDIT_WRITERS = {"RecordsRole", "SearchRole", "TransfersRole", "InboxRole"}
WRITE_ACTIONS = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    return dict(load_template(TEMPLATE)["Resources"])


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(resources: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, resource in resources.items():
        if resource["Type"] == "AWS::IAM::Role":
            for policy in resource["Properties"].get("Policies", []):
                for statement in policy["PolicyDocument"]["Statement"]:
                    if statement.get("Effect", "Allow") == "Allow":
                        yield name, statement


def _actions_on(resources: dict[str, Any], role: str, table: str) -> set[str]:
    granted: set[str] = set()
    for name, statement in _statements(resources):
        targets = _list(statement["Resource"])
        if name == role and any(t == {"Fn::GetAtt": [table, "Arn"]} for t in targets):
            granted |= set(_list(statement["Action"]))
    return granted


def test_no_function_may_scan_any_table(resources: dict[str, Any]) -> None:
    """Lookups use blind indexes; only the offline verify-audit (an operator) scans."""
    for role, statement in _statements(resources):
        actions = {a.lower() for a in _list(statement["Action"])}
        assert not actions & {"dynamodb:scan", "dynamodb:*", "*"}, role


def test_no_function_may_update_or_delete_audit_items_and_every_overwrite_reaches_the_sealer(
    resources: dict[str, Any],
) -> None:
    """PutItem is all a writer has - but PutItem can overwrite (IAM cannot require its condition),
    so the audit table's stream must carry every change, unfiltered, to the sealer."""
    writers = set()
    for role, _ in _statements(resources):
        granted = _actions_on(resources, role, "AuditTable")
        assert granted <= {"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query"}, (role, granted)
        if "dynamodb:PutItem" in granted:
            writers.add(role)
    assert writers == AUDIT_WRITERS
    audit = resources["AuditTable"]["Properties"]
    assert audit["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    streams = {
        function: event["Properties"]
        for function, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::Function"
        for event in resource["Properties"].get("Events", {}).values()
        if event["Type"] == "DynamoDB"
        and event["Properties"]["Stream"] == {"Fn::GetAtt": ["AuditTable", "StreamArn"]}
    }
    assert list(streams) == ["AuditSealerFunction"]
    mapping = streams["AuditSealerFunction"]
    assert "FilterCriteria" not in mapping  # MODIFY and REMOVE too
    assert (mapping["MaximumRetryAttempts"], mapping["MaximumRecordAgeInSeconds"]) == (
        -1,
        -1,
    )  # never skipped
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["AuditSealerFailureQueue", "Arn"]
    }


def test_only_the_sealer_writes_seals_and_it_writes_nothing_else(resources: dict[str, Any]) -> None:
    for role, _ in _statements(resources):
        on_heads = _actions_on(resources, role, "AuditHeadsTable") & WRITE_ACTIONS
        assert role == "AuditSealerRole" or not on_heads, role
    assert _actions_on(resources, "AuditSealerRole", "AuditHeadsTable") & WRITE_ACTIONS == {
        "dynamodb:PutItem"
    }
    for table in ("AuditTable", "RecordsTable", "IdempotencyTable", "DirectoryTable"):
        assert not _actions_on(resources, "AuditSealerRole", table), table


def test_only_the_sealer_can_make_an_audit_mac_and_no_one_can_take_the_key(resources: dict[str, Any]) -> None:
    key = resources["AuditMacKey"]
    assert (key["Properties"]["KeySpec"], key["Properties"]["KeyUsage"]) == (
        "HMAC_256",
        "GENERATE_VERIFY_MAC",
    )
    assert key["DeletionPolicy"] == "Retain"
    by_action: dict[str, list[Any]] = {}
    for statement in key["Properties"]["KeyPolicy"]["Statement"]:
        for action in _list(statement["Action"]):
            by_action.setdefault(action, []).append(statement["Principal"]["AWS"])
    assert by_action["kms:GenerateMac"] == [{"Fn::GetAtt": ["AuditSealerRole", "Arn"]}]
    assert len(by_action["kms:VerifyMac"]) == 1  # operators, through their IAM policies
    for role, statement in _statements(resources):  # no identity policy opens the key to anyone else
        assert {"Fn::GetAtt": ["AuditMacKey", "Arn"]} not in _list(statement["Resource"]), role


def test_the_clock_has_no_audit_permissions(resources: dict[str, Any]) -> None:
    assert not _actions_on(resources, "ClockRole", "AuditTable")
    assert not _actions_on(resources, "ClockRole", "AuditHeadsTable")


def test_anchors_are_locked_in_compliance_mode(resources: dict[str, Any]) -> None:
    bucket = resources["AuditAnchorBucket"]
    props = bucket["Properties"]
    assert bucket["DeletionPolicy"] == "Retain"
    assert props["ObjectLockEnabled"] is True
    rule = props["ObjectLockConfiguration"]
    assert rule["ObjectLockEnabled"] == "Enabled"
    assert rule["Rule"]["DefaultRetention"] == {
        "Mode": "COMPLIANCE",
        "Days": {"Ref": "AuditAnchorRetentionDays"},
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert all(props["PublicAccessBlockConfiguration"].values())
    parameter = load_template(TEMPLATE)["Parameters"]["AuditAnchorRetentionDays"]
    assert parameter["Type"] == "Number"
    assert parameter["Default"] >= 2555
    # The sealer adds anchors; nobody's policy may delete them or change their retention.
    for role, statement in _statements(resources):
        actions = set(_list(statement["Action"]))
        if any("AuditAnchorBucket" in json.dumps(r) for r in _list(statement["Resource"])):
            assert actions == {"s3:PutObject"}, role


def test_audit_sealing_is_alarmed(resources: dict[str, Any]) -> None:
    alarms = {
        (r["Properties"].get("Namespace"), r["Properties"].get("MetricName"))
        for r in resources.values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    }
    assert {
        ("Signpost", "AuditTampering"),
        ("AWS/Lambda", "IteratorAge"),
        ("Signpost", "AuditAnchorRuns"),
    } <= alarms


def test_search_can_count_police_searches_and_reveal_but_not_delete(resources: dict[str, Any]) -> None:
    granted = _actions_on(resources, "SearchRole", "RecordsTable")
    assert {"dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:GetItem"} <= granted  # RATE#, OUTBOX#
    assert "dynamodb:DeleteItem" not in granted


def test_police_limit_is_a_stack_setting(resources: dict[str, Any]) -> None:
    env = resources["SearchFunction"]["Properties"].get("Environment", {}).get("Variables", {})
    template = load_template(TEMPLATE)
    globals_env = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    assert "POLICE_SEARCHES_PER_HOUR" in {**globals_env, **env}


def test_the_audit_outlives_the_records(resources: dict[str, Any]) -> None:
    audit = resources["AuditTable"]["Properties"]
    assert "TimeToLiveSpecification" not in audit
    assert audit["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert resources["AuditTable"]["DeletionPolicy"] == "Retain"


def test_audit_heads_live_outside_the_tables_writers_write(resources: dict[str, Any]) -> None:
    heads = resources["AuditHeadsTable"]["Properties"]
    assert [(k["AttributeName"], k["KeyType"]) for k in heads["KeySchema"]] == [
        ("pk", "HASH"),
        ("sk", "RANGE"),
    ]
    assert "TimeToLiveSpecification" not in heads  # the seals outlive everything they seal


def test_the_access_log_never_names_a_sensitive_service(resources: dict[str, Any]) -> None:
    stage = resources["SignpostApi"]["Properties"]["AccessLogSetting"]["Format"]
    assert "$context.authorizer.org" not in stage.replace("$context.authorizer.org_", "")
    assert "$context.authorizer.shown_org" in stage


def test_gateway_answers_carry_the_security_headers(resources: dict[str, Any]) -> None:
    responses = resources["SignpostApi"]["Properties"]["GatewayResponses"]
    for kind, response in responses.items():
        headers = response.get("ResponseParameters", {}).get("Headers", {})
        assert {"X-Content-Type-Options", "Cache-Control", "Strict-Transport-Security"} <= set(headers), kind
