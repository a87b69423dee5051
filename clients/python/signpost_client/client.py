"""SignpostClient: the Signpost API over httpx, one method per operation.

- Every write carries an `Idempotency-Key` (a new one per call unless you give your own); a retry
  of that call sends the same key, so the service does it at most once.
- A 429 or 503 is retried after the `Retry-After` the service sent (up to `max_retries` times,
  and only while the wait is at most `max_wait` seconds: a police officer's hourly limit is not
  slept through). A connection that fails is retried for reads and for keyed writes.
- An error answer raises `ProblemError`, carrying the RFC 9457 problem (`status`, `title`,
  `detail`, `errors`, and `signposts` on a duplicate registration).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar, cast
from urllib.parse import quote

import httpx

from signpost_client.errors import ProblemError
from signpost_client.models import (
    AccessLog,
    ChildCreated,
    ChildView,
    CloseReason,
    DeclineReason,
    Direction,
    Health,
    Notification,
    NotificationPage,
    Organisation,
    OrganisationIn,
    RegisterRequest,
    SearchRequest,
    SearchResult,
    TransferPage,
    TransferReason,
    TransferStatus,
    TransferView,
    UpdateRequest,
)

T = TypeVar("T")
RETRIED_STATUSES = frozenset({429, 503})
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def dev_token(base_url: str, org: str, role: str, sub: str, *, timeout: float = 10.0) -> str:
    """A token from the local stack's development issuer (`POST /dev/token`; not deployed)."""
    response = httpx.post(
        f"{base_url.rstrip('/')}/dev/token", json={"org": org, "role": role, "sub": sub}, timeout=timeout
    )
    if response.status_code != 200:
        raise ProblemError.from_response(response)
    return str(response.json()["access_token"])


class SignpostClient:
    """A client of one Signpost API, acting with one bearer token.

    `token` is the JWT, or a function returning a current one (called for every request).
    `http` lets you bring your own `httpx.Client` (proxies, certificates, event hooks).
    """

    def __init__(
        self,
        base_url: str,
        token: str | Callable[[], str] | None = None,
        *,
        timeout: float = 10.0,
        max_retries: int = 3,
        max_wait: float = 30.0,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._http = http or httpx.Client(timeout=timeout)
        self._owns_http = http is None
        self.max_retries = max_retries
        self.max_wait = max_wait
        self._sleep = sleep

    def __enter__(self) -> SignpostClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    # ------------------------------------------------------------------ the requests

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        """One API call with retries; an error answer raises ProblemError. Writes get a key."""
        method = method.upper()
        headers = {"Accept": "application/json, application/problem+json"}
        if method in WRITES:
            headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
        safe_to_resend = method not in WRITES or "Idempotency-Key" in headers
        attempt = 0
        while True:
            if self._token is not None:
                token = self._token() if callable(self._token) else self._token
                headers["Authorization"] = f"Bearer {token}"
            try:
                response = self._http.request(
                    method, self.base_url + path, json=json, params=query or None, headers=headers
                )
            except httpx.TransportError:
                if not safe_to_resend or attempt >= self.max_retries:
                    raise
                attempt += 1
                self._sleep(min(self.max_wait, 0.5 * 2**attempt))
                continue
            if response.status_code < 400:
                return response
            wait = _retry_after(response)
            if (
                response.status_code in RETRIED_STATUSES
                and attempt < self.max_retries
                and wait is not None
                and wait <= self.max_wait
            ):
                attempt += 1
                self._sleep(wait)
                continue
            raise ProblemError.from_response(response)

    def _json(self, kind: type[T], method: str, path: str, **kwargs: Any) -> T:  # noqa: ARG002
        """The answer's JSON body, typed as `kind` (which only names the type)."""
        return cast(T, self.request(method, path, **kwargs).json())

    def _pages(self, first: Mapping[str, Any]) -> Iterator[Any]:
        page = first
        while True:
            yield from page["items"]
            following = page.get("next")
            if not following:
                return
            page = self.request("GET", following).json()

    # ------------------------------------------------------------------ service

    def health(self) -> Health:
        return self._json(Health, "GET", "/health")

    def openapi_document(self) -> dict[str, Any]:
        return self._json(dict, "GET", "/openapi.json")

    # ------------------------------------------------------------------ children

    def register_child(self, child: RegisterRequest, *, idempotency_key: str | None = None) -> ChildCreated:
        """registerChild. A duplicate raises ProblemError (409) whose `signposts` say whom to call."""
        return self._json(ChildCreated, "POST", "/v1/children", json=child, idempotency_key=idempotency_key)

    def get_child(self, child_id: str) -> ChildView:
        return self._json(ChildView, "GET", f"/v1/children/{_id(child_id)}")

    def update_child(self, child_id: str, changes: UpdateRequest) -> ChildView:
        return self._json(ChildView, "PATCH", f"/v1/children/{_id(child_id)}", json=changes)

    def close_child(self, child_id: str, reason: CloseReason) -> ChildView:
        return self._json(ChildView, "POST", f"/v1/children/{_id(child_id)}/close", json={"reason": reason})

    def access_log(self, child_id: str, *, limit: int | None = None) -> AccessLog:
        """getAccessLog: one page, newest first (follow `next`, or use iter_access_log)."""
        return self._json(
            AccessLog, "GET", f"/v1/children/{_id(child_id)}/access-log", params={"limit": limit}
        )

    def iter_access_log(self, child_id: str) -> Iterator[Any]:
        return self._pages(self.access_log(child_id))

    def subject_access_report(self, child_id: str) -> dict[str, Any]:
        return self._json(dict, "GET", f"/v1/children/{_id(child_id)}/subject-access-report")

    # ------------------------------------------------------------------ search

    def search(self, query: SearchRequest) -> SearchResult:
        """searchChildren: `match`, `possible_match` or `no_match`, with whom to contact."""
        return self._json(SearchResult, "POST", "/v1/searches", json=query)

    def break_glass(self, search_id: str, justification: str) -> SearchResult:
        return self._json(
            SearchResult,
            "POST",
            f"/v1/searches/{_id(search_id)}/break-glass",
            json={"justification": justification},
        )

    # ------------------------------------------------------------------ transfers

    def request_transfer(
        self,
        child_id: str,
        to_org: str,
        reason: TransferReason,
        move_date: str,
        *,
        idempotency_key: str | None = None,
    ) -> TransferView:
        return self._json(
            TransferView,
            "POST",
            f"/v1/children/{_id(child_id)}/transfers",
            json={"to_org": to_org, "reason": reason, "move_date": move_date},
            idempotency_key=idempotency_key,
        )

    def list_transfers(
        self,
        direction: Direction = "incoming",
        *,
        status: TransferStatus | None = None,
        limit: int | None = None,
    ) -> TransferPage:
        params = {"direction": direction, "status": status, "limit": limit}
        return self._json(TransferPage, "GET", "/v1/transfers", params=params)

    def acknowledge_transfer(self, transfer_id: str) -> TransferView:
        return self._json(TransferView, "POST", f"/v1/transfers/{_id(transfer_id)}/acknowledge")

    def accept_transfer(self, transfer_id: str) -> TransferView:
        return self._json(TransferView, "POST", f"/v1/transfers/{_id(transfer_id)}/accept")

    def decline_transfer(self, transfer_id: str, reason: DeclineReason) -> TransferView:
        return self._json(
            TransferView, "POST", f"/v1/transfers/{_id(transfer_id)}/decline", json={"reason": reason}
        )

    def withdraw_transfer(self, transfer_id: str) -> TransferView:
        return self._json(TransferView, "POST", f"/v1/transfers/{_id(transfer_id)}/withdraw")

    # ------------------------------------------------------------------ notifications and directory

    def notifications(self, *, unread: bool = False, limit: int | None = None) -> NotificationPage:
        params = {"unread": unread or None, "limit": limit}
        return self._json(NotificationPage, "GET", "/v1/notifications", params=params)

    def iter_notifications(self, *, unread: bool = False) -> Iterator[Notification]:
        return self._pages(self.notifications(unread=unread))

    def mark_notification_read(self, notification_id: str) -> Notification:
        return self._json(Notification, "POST", f"/v1/notifications/{_id(notification_id)}/read")

    def get_organisation(self, code: str) -> Organisation:
        return self._json(Organisation, "GET", f"/v1/organisations/{_id(code)}")

    def put_organisation(self, organisation: OrganisationIn) -> Organisation:
        return self._json(
            Organisation, "PUT", f"/v1/organisations/{_id(organisation['code'])}", json=organisation
        )


def _id(value: str) -> str:
    """An id as one path segment (ids are opaque: never let one add segments)."""
    return quote(value, safe="")


def _query_value(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form); None if absent or unreadable."""
    raw = response.headers.get("Retry-After", "").strip()
    return float(raw) if raw.isdigit() else None
