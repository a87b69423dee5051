"""Opaque page cursors: the sort key a page ended at, base64url-encoded.

A cursor only positions a query inside the caller's own partition (the partition key is
rebuilt from the caller, never taken from the cursor), and it is checked against the
shape of the sort keys it may hold: anything else is a 400.
"""

from __future__ import annotations

import base64
import binascii
import re

from signpost.errors import BadRequest

MAX_CURSOR_LENGTH = 200


def encode_cursor(sort_key: str) -> str:
    return base64.urlsafe_b64encode(sort_key.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(token: str, shape: re.Pattern[str], field: str = "after") -> str:
    invalid = BadRequest(
        "the page cursor is not valid", errors=[{"field": field, "message": "invalid cursor"}]
    )
    if not token or len(token) > MAX_CURSOR_LENGTH:
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise invalid from exc
    if not shape.fullmatch(raw):
        raise invalid
    return raw
