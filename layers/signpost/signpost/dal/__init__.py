"""Data access: every DynamoDB and KMS call of Signpost lives in this package."""
