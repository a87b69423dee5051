"""Logger, Metrics and Tracer, configured once for every function.

Logs are structured JSON with the correlation id (API Gateway request id). Nothing
here logs request bodies or event payloads: identity fields never reach a log line.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer, single_metric
from aws_lambda_powertools.metrics import MetricUnit

NAMESPACE = "Signpost"
SERVICE = "signpost"

logger = Logger(service=SERVICE, log_uncaught_exceptions=False)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
# Only botocore is traced: patching every library X-Ray knows (the default) imports each one.
tracer = Tracer(service=SERVICE, patch_modules=["botocore"])


def count_search(outcome: str, org_type: str) -> None:
    """One search by outcome and type of organisation (the dashboard's search widgets).

    Its own EMF line, so these dimensions do not attach to the invocation's other metrics.
    Organisation types and outcomes are closed lists: no organisation or child is named.
    """
    with single_metric(
        name="Searches",
        unit=MetricUnit.Count,
        value=1,
        namespace=NAMESPACE,
        default_dimensions={"service": SERVICE},
    ) as metric:
        metric.add_dimension(name="outcome", value=outcome)
        metric.add_dimension(name="org_type", value=org_type)
