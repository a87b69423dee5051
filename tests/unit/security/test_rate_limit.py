"""Police searches: at most N in any 60 minutes per practitioner of an organisation (default 20),
429 with Retry-After after that; refused requests are not counted; the window moves in the
search's own transaction, on condition that nobody else moved it since it was read."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from pydantic import ValidationError
from signpost.errors import BadRequest, TooManyRequests
from signpost.logic.rate_limit import police_quota, rate_subject, retry_after
from signpost.models.organisation import Organisation
from signpost.models.security import RateWindow
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


def _at(services, *hms: int) -> None:
    moment = dt.datetime(2026, 11, 27, *hms, tzinfo=dt.UTC)
    services.now = lambda: moment


def _counted(store, who=POLICE) -> int:
    return len(store.rate_windows.get(rate_subject(who), RateWindow()).times)


def test_default_limit_is_20_an_hour():
    assert Settings().police_searches_per_hour == 20


def test_the_21st_police_search_in_60_minutes_is_429_with_retry_after_until_the_oldest_leaves():
    services, store, _, _ = _env()
    for _ in range(20):
        assert do_search(services, POLICE).outcome == "match"
    with pytest.raises(TooManyRequests) as refused:
        do_search(services, POLICE)
    assert refused.value.status == 429
    assert refused.value.retry_after == 3600  # all 20 at 10:17:30: the first leaves at 11:17:30
    assert _counted(store) == 20


def test_police_limit_sliding_window_a_new_clock_hour_does_not_reset_it():
    """20 searches at 10:50 are still 20 in the last 60 minutes at 11:05 (a fixed hour would reset)."""
    services, _, _, _ = _env()
    _at(services, 10, 50, 0)
    for _ in range(20):
        do_search(services, POLICE)
    _at(services, 11, 5, 0)
    with pytest.raises(TooManyRequests) as refused:
        do_search(services, POLICE)
    assert refused.value.retry_after == 45 * 60  # 10:50 + 60 min - 11:05
    _at(services, 11, 50, 0)
    assert do_search(services, POLICE).outcome == "match"


def test_police_limit_sliding_window_retry_after_is_when_enough_searches_have_left_it():
    services, store, _, _ = _env(limit=3)
    for minute in (0, 10, 20):
        _at(services, 10, minute, 0)
        do_search(services, POLICE)
    _at(services, 10, 45, 30)
    with pytest.raises(TooManyRequests) as refused:
        do_search(services, POLICE)
    assert refused.value.retry_after == 14 * 60 + 30  # the 10:00 search leaves at 11:00
    _at(services, 11, 0, 0)
    do_search(services, POLICE)  # exactly 60 minutes later: the 10:00 search has left
    assert _counted(store) == 3  # 10:10, 10:20, 11:00: what has left the window is dropped


def test_police_limit_sliding_window_is_keyed_on_organisation_and_practitioner():
    """The same `sub` acting for another force has its own window (ids are unique per issuer only)."""
    services, store, _, _ = _env(limit=2)
    services.store.directory.put(
        Organisation.model_validate(
            {
                **store.directory.get("E23000001").model_dump(mode="json"),
                "code": "E23000002",
                "name": "Another police force (test)",
            }
        )
    )
    twin = dataclasses.replace(POLICE, org="E23000002", org_name="Another police force (test)")
    for _ in range(2):
        do_search(services, POLICE)
    with pytest.raises(TooManyRequests):
        do_search(services, POLICE)
    assert do_search(services, twin).outcome == "match"
    assert rate_subject(POLICE) != rate_subject(twin)


def test_police_limit_sliding_window_is_enforced_by_the_commit_condition_under_a_race():
    """Two searches read the same window with one place left; the one that commits second loses the
    condition, reads the window again and is refused: never 21."""
    services, store, _, _ = _env(limit=2)
    do_search(services, POLICE)
    real_commit = store.commit
    raced = []

    def commit_after_a_rival(changes):
        if changes.rate_limits and not raced:
            raced.append(True)
            do_search(services, POLICE)  # the rival takes the last place between our read and commit
        return real_commit(changes)

    store.commit = commit_after_a_rival
    audit_before = sum(len(c) for c in store.audit.chains.values())
    with pytest.raises(TooManyRequests):
        do_search(services, POLICE)
    assert raced
    assert _counted(store) == 2
    # Only the rival's entries (its search chain and the child's chain) were added.
    assert sum(len(c) for c in store.audit.chains.values()) == audit_before + 2


def test_the_limit_is_configurable():
    services, _, _, _ = _env(limit=3)
    for _ in range(3):
        do_search(services, POLICE)
    with pytest.raises(TooManyRequests):
        do_search(services, POLICE)


def test_the_window_is_configurable():
    services, _, _, _ = _env(limit=1)
    services.settings = Settings(POLICE_SEARCHES_PER_HOUR=1, POLICE_SEARCH_WINDOW_MINUTES=10)
    do_search(services, POLICE)
    with pytest.raises(TooManyRequests) as refused:
        do_search(services, POLICE)
    assert refused.value.retry_after == 600
    _at(services, 10, 27, 30)
    assert do_search(services, POLICE).outcome == "match"


def test_the_limit_is_per_practitioner():
    services, _, _, _ = _env(limit=2)
    for _ in range(2):
        do_search(services, POLICE)
    with pytest.raises(TooManyRequests):
        do_search(services, POLICE)
    assert do_search(services, POLICE_2).outcome == "match"


def test_refused_requests_do_not_count():
    services, store, _, _ = _env(limit=2)
    for _ in range(5):
        with pytest.raises(BadRequest):  # police must give police_enquiry
            do_search(services, POLICE, reason="safeguarding_concern")
        with pytest.raises(ValidationError):  # and a case reference
            do_search(services, POLICE, reason="police_enquiry")
    for _ in range(2):
        do_search(services, POLICE)
    with pytest.raises(TooManyRequests):
        do_search(services, POLICE)
    assert _counted(store) == 2  # the 429 did not count either


def test_other_roles_are_not_limited():
    services, store, _, _ = _env(limit=1)
    for _ in range(5):
        do_search(services, HACKNEY)
        do_search(services, ROYAL_FREE)
    assert not store.rate_windows


def test_over_the_limit_nothing_is_looked_up_or_decrypted():
    services, store, keys, mac = _env(limit=1)
    do_search(services, POLICE)
    before = (keys.unwrapped, mac.calls, store.commits, len(store.outbox))
    with pytest.raises(TooManyRequests):
        do_search(services, POLICE)
    assert (keys.unwrapped, mac.calls, store.commits, len(store.outbox)) == before


def test_each_police_search_is_counted_with_its_audit_and_notification_in_one_commit():
    services, store, _, _ = _env()
    commits = store.commits
    result = do_search(services, POLICE)
    assert store.commits == commits + 1
    assert store.audit.chains[f"SEARCH#{result.search_id}"][0].case_reference == "CAD-1234/26"
    assert [i.type for i in store.outbox] == ["record_viewed"]  # police searches always notify
    assert store.outbox[0].from_org == "E23000001"


def test_police_see_no_categories_only_the_contact_route():
    services, _, _, _ = _env()
    [signpost] = do_search(services, POLICE).signposts
    assert signpost.categories is None
    assert signpost.contact.team == "Camden Children and Families Contact Service"


@pytest.mark.parametrize(
    ("times", "limit", "retry"),
    [
        ((AT_10_17_30.timestamp(),), 1, 3600),
        ((AT_10_17_30.timestamp() - 3599.5,), 1, 1),  # never less than a second
        ((AT_10_17_30.timestamp() - 600, AT_10_17_30.timestamp() - 60), 2, 3000),
        ((AT_10_17_30.timestamp() - 600, AT_10_17_30.timestamp() - 60), 1, 3540),
        ((), 0, 3600),  # a limit of zero: nothing will ever leave the window
    ],
)
def test_retry_after_is_when_the_window_next_has_room(times, limit, retry):
    assert retry_after(times, limit, AT_10_17_30.timestamp(), 3600) == retry


def test_a_limit_of_zero_refuses_every_police_search():
    services, _, _, _ = _env(limit=0)
    with pytest.raises(TooManyRequests):
        police_quota(services, POLICE)
    assert police_quota(services, HACKNEY) is None
