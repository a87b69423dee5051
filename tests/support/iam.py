"""A small evaluator of template.yaml's identity policies for DynamoDB item requests.

moto does not evaluate IAM, so the tests ask this instead: would the role's policy let this
request (action, table, partition key, attribute names, ReturnValues) through? It models
what the template uses - Allow statements, actions with wildcards, table ARNs by GetAtt,
and the condition operators ForAllValues:StringLike / ForAllValues:StringEquals on
dynamodb:LeadingKeys and dynamodb:Attributes, StringEquals[IfExists] on
dynamodb:ReturnValues - and refuses to guess about anything else (an unknown operator or
key raises), so a policy it cannot read never passes a test by accident.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from infrastructure.local.aws import parsed_template

_KNOWN_KEYS = {"dynamodb:LeadingKeys", "dynamodb:Attributes", "dynamodb:ReturnValues"}


@dataclass(frozen=True)
class ItemRequest:
    action: str  # e.g. dynamodb:PutItem
    table: str  # the table's logical id
    leading_key: str | None = None
    attributes: frozenset[str] = frozenset()
    return_values: str | None = None  # None: not sent (a transaction item)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_statements(template: Mapping[str, Any], role: str) -> list[dict[str, Any]]:
    resources = template["Resources"]
    statements = []
    for policy in resources[role]["Properties"].get("Policies", []):
        statements += _list(policy["PolicyDocument"]["Statement"])
    for statement in statements:
        if statement.get("Effect") != "Allow":
            raise ValueError(f"{role}: only Allow statements are modelled")
    return statements


def function_role(template: Mapping[str, Any], function: str) -> str:
    role = template["Resources"][function]["Properties"]["Role"]
    return str(role["Fn::GetAtt"][0])


def _resource_tables(statement: Mapping[str, Any]) -> set[str]:
    tables = set()
    for resource in _list(statement["Resource"]):
        if isinstance(resource, dict) and "Fn::GetAtt" in resource and resource["Fn::GetAtt"][1] == "Arn":
            tables.add(str(resource["Fn::GetAtt"][0]))
    return tables


def _values(request: ItemRequest, key: str) -> list[str] | None:
    if key == "dynamodb:LeadingKeys":
        return [] if request.leading_key is None else [request.leading_key]
    if key == "dynamodb:Attributes":
        return sorted(request.attributes)
    if key == "dynamodb:ReturnValues":
        return None if request.return_values is None else [request.return_values]
    raise ValueError(f"condition key {key} is not modelled")


def _condition_holds(operator: str, key: str, allowed: list[str], request: ItemRequest) -> bool:
    if key not in _KNOWN_KEYS:
        raise ValueError(f"condition key {key} is not modelled")
    values = _values(request, key)
    if operator in ("ForAllValues:StringLike", "ForAllValues:StringEquals"):
        like = operator.endswith("Like")
        return all(
            any(fnmatch.fnmatchcase(v, a) if like else v == a for a in allowed) for v in (values or [])
        )
    if operator in ("StringEquals", "StringEqualsIfExists"):
        if values is None:
            return operator.endswith("IfExists")
        return all(v in allowed for v in values)
    raise ValueError(f"condition operator {operator} is not modelled")


def statement_allows(statement: Mapping[str, Any], request: ItemRequest) -> bool:
    if not any(fnmatch.fnmatchcase(request.action, a) for a in _list(statement["Action"])):
        return False
    if request.table not in _resource_tables(statement):
        return False
    for operator, tests in (statement.get("Condition") or {}).items():
        for key, allowed in tests.items():
            if not _condition_holds(operator, key, [str(a) for a in _list(allowed)], request):
                return False
    return True


class RolePolicies:
    """template.yaml's roles, loaded once."""

    def __init__(self, template: Mapping[str, Any] | None = None) -> None:
        self.template = template or parsed_template()

    def allows(self, function: str, request: ItemRequest) -> bool:
        role = function_role(self.template, function)
        return any(statement_allows(s, request) for s in role_statements(self.template, role))


_NAME = re.compile(r"#[A-Za-z0-9_]+|\b[A-Za-z_][A-Za-z0-9_]*\b")
_EXPRESSION_WORDS = {
    "SET", "REMOVE", "ADD", "DELETE", "AND", "OR", "NOT", "IN", "BETWEEN", "attribute_exists",
    "attribute_not_exists", "attribute_type", "begins_with", "contains", "size", "if_not_exists",
    "list_append",
}  # fmt: skip


def expression_attributes(expressions: Iterable[str | None], names: Mapping[str, str] | None) -> set[str]:
    """Top-level attribute names an update or condition expression reads or writes."""
    found: set[str] = set()
    for expression in expressions:
        if not expression:
            continue
        without_values = re.sub(r":[A-Za-z0-9_]+", " ", expression)
        for token in _NAME.findall(without_values):
            if token.startswith("#"):
                found.add((names or {})[token])
            elif token not in _EXPRESSION_WORDS:
                found.add(token)
    return found
