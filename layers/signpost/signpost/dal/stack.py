"""The AWS calls of operator commands outside the tables: the stack, the operator, a metric."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)


class TargetError(Exception):
    """The target cannot be reached or is not a Signpost stack (the message names no data)."""


def _client(service: str) -> Any:
    return boto3.client(service, config=_CONFIG)  # type: ignore[call-overload]


def describe_stack(name: str) -> tuple[dict[str, str], dict[str, str]]:
    """(outputs, parameters) of a CloudFormation stack."""
    try:
        stacks = _client("cloudformation").describe_stacks(StackName=name)["Stacks"]
    except (ClientError, BotoCoreError) as exc:
        raise TargetError(f"cannot read stack {name}: {type(exc).__name__}") from None
    if not stacks:
        raise TargetError(f"no stack {name}")
    stack = stacks[0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    return outputs, parameters


def operator_arn() -> str:
    """Who is running the command (the STS caller ARN): what operator audit entries record."""
    return str(_client("sts").get_caller_identity()["Arn"])


def put_metric(namespace: str, name: str, value: float, dimensions: Mapping[str, str]) -> None:
    _client("cloudwatch").put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": name,
                "Value": value,
                "Unit": "Count",
                "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
            }
        ],
    )
