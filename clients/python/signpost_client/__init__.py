"""A typed Python client for the Signpost API (see clients/python/README.md)."""

from signpost_client.client import SignpostClient, dev_token
from signpost_client.errors import ProblemError

__all__ = ["ProblemError", "SignpostClient", "dev_token"]
