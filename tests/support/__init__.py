"""Test helpers shared by unit, integration and API tests (fixtures live in tests/conftest.py).

lambda_events — in-process handlers, events built from template.yaml's routes:
    make_event(method, path, body=None, caller=None, headers=None, query=None) -> dict
    make_authorizer_event(method, path, token=None, headers=None) -> dict
    invoke(function, event) -> LambdaResponse | Any     # "records" or "RecordsFunction"
    lambda_context(function="records") -> LambdaContext
    caller(org="E09000007", role="la_practitioner", sub="practitioner-1") -> Caller
stack — the API over HTTP (the ``local_stack`` fixture yields a LocalStack):
    .url  .aws (LocalAws)  .gateway  .log_lines
    .token(org, role, sub) -> str
    .request(method, path, json=None, token=None, headers=None, **requests_kwargs) -> Response
logcapture — LogCapture / capture_output(): .text, .lines(), .json_lines(),
    .contains(value), .assert_absent(values)
forge — hostile tokens: unsigned, hs256_with_public_key, tampered, signed_by_another_key, claims
item_families — who may write which records-table item families (FAMILIES, WRITERS, ATTRIBUTE_LIMITS)
iam — RolePolicies().allows(function, ItemRequest(...)): template.yaml's roles evaluated for a request
"""
