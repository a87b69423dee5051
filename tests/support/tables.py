"""Reading the local stack's tables whole, for inspection in tests and benchmarks only (the
service never scans)."""

from __future__ import annotations

from typing import Any

import boto3

from infrastructure.local.aws import REGION, LocalAws


def scan(aws: LocalAws, table: str = "RecordsTable") -> list[dict[str, Any]]:
    """Every item of one of the stack's tables (by its logical id in template.yaml), page by page."""
    client = boto3.client("dynamodb", region_name=REGION)
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": aws.tables[table]}
    while True:
        page = client.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
