"""The security features of issue 6 as template.yaml must deploy them (read as data, offline).

tests/unit/test_template.py covers the stack in general (no wildcards, append-only audit,
key use, WAF, logs); these add what break-glass, the police limit, the audit heads and the
sensitive-service rule need from IAM and API Gateway.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infrastructure.cfn_yaml import load_template

TEMPLATE = Path(__file__).resolve().parents[3] / "template.yaml"
# Functions whose commits append audit entries: each append also moves the chain's head item
# (AUDITHEAD#<chain>) in the records table in the same transaction.
AUDIT_WRITERS = {"RecordsRole", "SearchRole", "TransfersRole", "ClockRole"}


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


def test_no_function_may_update_or_delete_audit_items(resources: dict[str, Any]) -> None:
    for role, _ in _statements(resources):
        granted = _actions_on(resources, role, "AuditTable")
        assert granted <= {"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query"}, (role, granted)


@pytest.mark.parametrize("role", sorted(AUDIT_WRITERS))
def test_audit_writers_can_move_the_chain_heads(resources: dict[str, Any], role: str) -> None:
    assert "dynamodb:PutItem" in _actions_on(resources, role, "AuditTable")
    assert "dynamodb:PutItem" in _actions_on(resources, role, "RecordsTable")


def test_search_can_count_police_searches_and_reveal_but_not_delete(resources: dict[str, Any]) -> None:
    granted = _actions_on(resources, "SearchRole", "RecordsTable")
    assert {"dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:GetItem"} <= granted  # RATE#, heads
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


def test_the_head_registry_index_exists(resources: dict[str, Any]) -> None:
    indexes = {i["IndexName"] for i in resources["RecordsTable"]["Properties"]["GlobalSecondaryIndexes"]}
    assert "gsi2" in indexes  # AUDITHEADS#<shard> / <chain>: verify-audit pages through it


def test_the_access_log_never_names_a_sensitive_service(resources: dict[str, Any]) -> None:
    stage = resources["SignpostApi"]["Properties"]["AccessLogSetting"]["Format"]
    assert "$context.authorizer.org" not in stage.replace("$context.authorizer.org_", "")
    assert "$context.authorizer.shown_org" in stage


def test_gateway_answers_carry_the_security_headers(resources: dict[str, Any]) -> None:
    responses = resources["SignpostApi"]["Properties"]["GatewayResponses"]
    for kind, response in responses.items():
        headers = response.get("ResponseParameters", {}).get("Headers", {})
        assert {"X-Content-Type-Options", "Cache-Control", "Strict-Transport-Security"} <= set(headers), kind
