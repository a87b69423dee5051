"""Police searches: at most N an hour per practitioner (default 20), 429 with Retry-After after
that; refused requests are not counted; the counter moves in the search's own transaction."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError
from signpost.errors import BadRequest, TooManyRequests
from signpost.logic.rate_limit import police_quota, seconds_to_next_window, window_key
from signpost.settings import Settings

from tests.unit.logic.conftest import HACKNEY, POLICE, ROYAL_FREE
from tests.unit.logic.fakes import make_services
from tests.unit.security.conftest import POLICE_2, do_search, register

AT_10_17_30 = dt.datetime(2026, 11, 27, 10, 17, 30, tzinfo=dt.UTC)


def _env(limit: int = 20, now: dt.datetime = AT_10_17_30):
    services, store, keys, mac = make_services(now)
    services.settings = Settings(POLICE_SEARCHES_PER_HOUR=limit)
    register(services)
    return services, store, keys, mac


def test_default_limit_is_20_an_hour():
    assert Settings().police_searches_per_hour == 20


def test_the_21st_police_search_in_an_hour_is_429_with_retry_after_to_the_next_hour():
    services, store, _, _ = _env()
    for _ in range(20):
        assert do_search(services, POLICE, rate_limits=store.rate_limits).outcome == "match"
    with pytest.raises(TooManyRequests) as refused:
        do_search(services, POLICE, rate_limits=store.rate_limits)
    assert refused.value.status == 429
    assert refused.value.retry_after == 42 * 60 + 30  # 10:17:30 → 11:00:00
    assert store.rate_counts == {("mps-officer-1", "2026-11-27T10"): 20}


def test_the_limit_is_configurable():
    services, store, _, _ = _env(limit=3)
    for _ in range(3):
        do_search(services, POLICE, rate_limits=store.rate_limits)
    with pytest.raises(TooManyRequests):
        do_search(services, POLICE, rate_limits=store.rate_limits)


def test_the_limit_is_per_practitioner():
    services, store, _, _ = _env(limit=2)
    for _ in range(2):
        do_search(services, POLICE, rate_limits=store.rate_limits)
    with pytest.raises(TooManyRequests):
        do_search(services, POLICE, rate_limits=store.rate_limits)
    assert do_search(services, POLICE_2, rate_limits=store.rate_limits).outcome == "match"


def test_refused_requests_do_not_count():
    services, store, _, _ = _env(limit=2)
    for _ in range(5):
        with pytest.raises(BadRequest):  # police must give police_enquiry
            do_search(services, POLICE, reason="safeguarding_concern", rate_limits=store.rate_limits)
        with pytest.raises(ValidationError):  # and a case reference
            do_search(services, POLICE, reason="police_enquiry", rate_limits=store.rate_limits)
    for _ in range(2):
        do_search(services, POLICE, rate_limits=store.rate_limits)
    with pytest.raises(TooManyRequests):
        do_search(services, POLICE, rate_limits=store.rate_limits)
    assert store.rate_counts[("mps-officer-1", "2026-11-27T10")] == 2  # the 429 did not count either


def test_a_new_hour_opens_a_new_window():
    services, store, _, _ = _env(limit=1)
    do_search(services, POLICE, rate_limits=store.rate_limits)
    with pytest.raises(TooManyRequests):
        do_search(services, POLICE, rate_limits=store.rate_limits)
    services.now = lambda: dt.datetime(2026, 11, 27, 11, 0, 0, tzinfo=dt.UTC)
    assert do_search(services, POLICE, rate_limits=store.rate_limits).outcome == "match"


def test_other_roles_are_not_limited():
    services, store, _, _ = _env(limit=1)
    for _ in range(5):
        do_search(services, HACKNEY, rate_limits=store.rate_limits)
        do_search(services, ROYAL_FREE, rate_limits=store.rate_limits)
    assert not store.rate_counts


def test_over_the_limit_nothing_is_looked_up_or_decrypted():
    services, store, keys, mac = _env(limit=1)
    do_search(services, POLICE, rate_limits=store.rate_limits)
    before = (keys.unwrapped, mac.calls, store.commits, len(store.outbox))
    with pytest.raises(TooManyRequests):
        do_search(services, POLICE, rate_limits=store.rate_limits)
    assert (keys.unwrapped, mac.calls, store.commits, len(store.outbox)) == before


def test_the_commit_enforces_the_limit_even_without_the_early_read():
    """Two concurrent searches both pass the early read; the transaction's condition stops the second."""
    services, store, _, _ = _env(limit=1)
    do_search(services, POLICE)  # no reader: only the commit's condition
    audit_before = sum(len(c) for c in store.audit.chains.values())
    outbox_before = len(store.outbox)
    with pytest.raises(TooManyRequests) as refused:
        do_search(services, POLICE)
    assert refused.value.retry_after == 2550
    # The refused search left no trace but the refusal: no audit entry, no notification.
    assert sum(len(c) for c in store.audit.chains.values()) == audit_before
    assert len(store.outbox) == outbox_before


def test_each_police_search_is_counted_with_its_audit_and_notification_in_one_commit():
    services, store, _, _ = _env()
    commits = store.commits
    result = do_search(services, POLICE, rate_limits=store.rate_limits)
    assert store.commits == commits + 1
    assert store.audit.chains[f"SEARCH#{result.search_id}"][0].case_reference == "CAD-1234/26"
    assert [i.type for i in store.outbox] == ["record_viewed"]  # police searches always notify
    assert store.outbox[0].from_org == "E23000001"


def test_police_see_no_categories_only_the_contact_route():
    services, store, _, _ = _env()
    [signpost] = do_search(services, POLICE, rate_limits=store.rate_limits).signposts
    assert signpost.categories is None
    assert signpost.contact.team == "Camden Children and Families Contact Service"


@pytest.mark.parametrize(
    ("now", "key", "retry"),
    [
        (dt.datetime(2026, 11, 27, 10, 0, 0, tzinfo=dt.UTC), "2026-11-27T10", 3600),
        (dt.datetime(2026, 11, 27, 10, 59, 59, 500000, tzinfo=dt.UTC), "2026-11-27T10", 1),
        (dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC), "2026-12-31T23", 1800),
        # British Summer Time: windows are UTC hours, so the clock change does not matter.
        (dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))), "2026-03-29T00", 1800),
    ],
)
def test_windows_are_utc_clock_hours(now, key, retry):
    assert window_key(now) == key
    assert seconds_to_next_window(now) == retry


def test_a_limit_of_zero_refuses_every_police_search():
    with pytest.raises(TooManyRequests):
        police_quota(POLICE, 0, AT_10_17_30, None)
    assert police_quota(HACKNEY, 0, AT_10_17_30, None) is None
