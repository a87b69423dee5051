"""Logger, Metrics and Tracer, configured once for every function.

Logs are structured JSON with the correlation id (API Gateway request id). Nothing
here logs request bodies or event payloads: identity fields never reach a log line.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(service="signpost", log_uncaught_exceptions=False)
metrics = Metrics(namespace="Signpost", service="signpost")
# Only botocore is traced: patching every library X-Ray knows (the default) imports each one.
tracer = Tracer(service="signpost", patch_modules=["botocore"])
