"""The API's Idempotency-Key records (services.idempotency): claiming, taking over from a
request that died, keeping and purging."""

from __future__ import annotations

from datetime import timedelta

from canone.services import idempotency
from canone.services.idempotency import IN_PROGRESS
from canone.services.records import IdempotencyRecord

from .conftest import at

NOW = at(2026, 4, 1, 9)
DEAD_AFTER = timedelta(seconds=10)


def claim_of(fingerprint: str, when=NOW) -> IdempotencyRecord:  # type: ignore[no-untyped-def]
    return IdempotencyRecord("key_1", "k-1", fingerprint, IN_PROGRESS, b"", when)


def test_a_key_is_claimed_once_and_taken_over_only_from_a_dead_request(svc) -> None:
    first = claim_of("fp-a")
    assert idempotency.claim(svc, first, DEAD_AFTER) == (None, False)

    still_running = claim_of("fp-a", NOW + DEAD_AFTER)
    assert idempotency.claim(svc, still_running, DEAD_AFTER) == (first, False)

    other_request = claim_of("fp-b", NOW + timedelta(minutes=5))
    assert idempotency.claim(svc, other_request, DEAD_AFTER) == (first, False)
    assert idempotency.stored(svc, "key_1", "k-1") == first  # left for the caller to refuse

    retry = claim_of("fp-a", NOW + timedelta(minutes=5))
    assert idempotency.claim(svc, retry, DEAD_AFTER) == (None, True)
    assert idempotency.stored(svc, "key_1", "k-1") == retry


def test_a_finished_response_is_kept_and_old_records_are_purged(svc) -> None:
    claimed = claim_of("fp-a")
    idempotency.claim(svc, claimed, DEAD_AFTER)
    done = IdempotencyRecord("key_1", "k-1", "fp-a", 201, b'{"ok":true}', NOW)
    idempotency.finish(svc, done)
    assert idempotency.stored(svc, "key_1", "k-1") == done

    read_only = IdempotencyRecord("key_1", "k-2", "fp-c", 200, b"{}", NOW)
    assert idempotency.keep(svc, read_only) is None
    assert idempotency.keep(svc, read_only) == read_only

    assert idempotency.purge(svc, NOW + timedelta(seconds=1)) == 2
    assert idempotency.stored(svc, "key_1", "k-1") is None
    idempotency.release(svc, "key_1", "k-1")  # releasing a purged key is harmless
