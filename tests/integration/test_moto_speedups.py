"""The local stack's moto speed-ups keep DynamoDB's semantics: a failed transaction changes nothing."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from infrastructure.local.aws import LocalAws


@pytest.fixture
def table():
    with LocalAws() as local:
        yield boto3.client("dynamodb", region_name="eu-west-2"), local.tables["RecordsTable"]


def _get(client, name, pk):
    return client.get_item(TableName=name, Key={"pk": {"S": pk}, "sk": {"S": "X"}}, ConsistentRead=True).get(
        "Item"
    )


def test_a_cancelled_transaction_rolls_back_updates_deletes_and_puts(table):
    client, name = table
    for pk, n in (("A", "1"), ("D", "7")):
        client.put_item(TableName=name, Item={"pk": {"S": pk}, "sk": {"S": "X"}, "n": {"N": n}})
    with pytest.raises(ClientError) as exc:
        client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": name,
                        "Key": {"pk": {"S": "A"}, "sk": {"S": "X"}},
                        "UpdateExpression": "SET n = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                    }
                },
                {"Delete": {"TableName": name, "Key": {"pk": {"S": "D"}, "sk": {"S": "X"}}}},
                {"Put": {"TableName": name, "Item": {"pk": {"S": "N"}, "sk": {"S": "X"}}}},
                {
                    "Put": {
                        "TableName": name,
                        "Item": {"pk": {"S": "Z"}, "sk": {"S": "X"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    assert exc.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert _get(client, name, "A")["n"] == {"N": "1"}
    assert _get(client, name, "D")["n"] == {"N": "7"}
    assert _get(client, name, "N") is None
    assert _get(client, name, "Z") is None


def test_a_committed_transaction_and_partition_queries_still_work(table):
    client, name = table
    client.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": name,
                    "Item": {
                        "pk": {"S": "P"},
                        "sk": {"S": f"{i}"},
                        "gsi1pk": {"S": f"b{i % 2}"},
                        "gsi1sk": {"S": f"{i}"},
                    },
                }
            }
            for i in range(4)
        ]
    )
    own = client.query(
        TableName=name, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "P"}}
    )
    assert [i["sk"]["S"] for i in own["Items"]] == ["0", "1", "2", "3"]
    indexed = client.query(
        TableName=name,
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :b",
        ExpressionAttributeValues={":b": {"S": "b1"}},
    )
    assert sorted(i["sk"]["S"] for i in indexed["Items"]) == ["1", "3"]
