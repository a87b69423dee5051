"""DynamoDB Time to Live for the in-memory tables (moto keeps expired items forever).

`expire(now)` does what DynamoDB's TTL process does by itself in AWS: it deletes every
item whose TTL attribute (the one template.yaml's TimeToLiveSpecification names) is a
number of epoch seconds earlier than `now`. Items without the attribute, or with a
value that is not a number, are never deleted. In AWS the deletion happens some time
(typically within days) after expiry; the product never relies on it for correctness:
a closed record stops being findable by its own dates, not by its deletion.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import boto3

from infrastructure.local.aws import REGION, TABLES, parsed_template, table_resources


def ttl_attributes(template: Mapping[str, Any] | None = None) -> dict[str, str]:
    """logical id -> TTL attribute, for the tables that have TTL enabled."""
    found: dict[str, str] = {}
    for logical_id, properties in table_resources(template or parsed_template()):
        spec = properties.get("TimeToLiveSpecification") or {}
        if spec.get("Enabled"):
            found[logical_id] = spec["AttributeName"]
    return found


def expire(tables: Mapping[str, str], now: dt.datetime) -> dict[str, int]:
    """Delete expired items from each TTL table; returns how many went, by logical id."""
    client = boto3.client("dynamodb", region_name=REGION)
    cutoff = int(now.timestamp())
    deleted: dict[str, int] = {}
    for logical_id, attribute in ttl_attributes().items():
        name = tables[logical_id]
        keys = [k["AttributeName"] for k in client.describe_table(TableName=name)["Table"]["KeySchema"]]
        count = 0
        pages = client.get_paginator("scan").paginate(
            TableName=name,
            FilterExpression="attribute_exists(#ttl)",
            ExpressionAttributeNames={"#ttl": attribute},
        )
        for page in pages:
            for item in page["Items"]:
                value = item[attribute]
                if "N" in value and float(value["N"]) < cutoff:  # only a number of seconds in the past
                    client.delete_item(TableName=name, Key={k: item[k] for k in keys})
                    count += 1
        deleted[logical_id] = count
    return deleted


__all__ = ["TABLES", "expire", "ttl_attributes"]
