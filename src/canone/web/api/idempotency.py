"""`Idempotency-Key` on POST requests, with Stripe's semantics.

The first request with a key claims it by inserting a placeholder row (scope = the API
key's id), runs, and stores its status and body in that row. A retry with the same key and
the same request (method, path, and the body as canonical JSON) gets the stored response
replayed, marked `Idempotent-Replayed: true`; the same key with another request is refused
with 422 `idempotency_conflict`. A request arriving while the first one with its key still
runs waits for it (up to `WAIT_SECONDS`) and then replays it, so concurrent requests with
one key have one effect; past the wait it gets 409 `idempotency_in_progress`.

Not stored, so a retry with the same key runs again: responses to bodies that failed
validation (nothing ran), server errors, `busy` and `payment_pending` answers (retrying is
the way out of them). Records are kept at least 24 hours; older ones are purged now and
then.

A claim is a lease: while its request runs, the placeholder's time is renewed every
`HEARTBEAT_SECONDS`. One not renewed for `DEAD_AFTER` belongs to a request that died with
its process (killed, crashed), and the next request with its key takes it over and runs
again, after settling what the dead one started: the account's pending payment intent,
when the card network has an answer for it, is settled as reconciliation would settle it;
one the network never saw is charged by the run itself (a confirmation or a sign-up finds
the intent by its key, which comes from the quote token or from the sign-up's
Idempotency-Key, and the network never charges one key twice). So a retry after a crash
gets the real result within seconds.

A request that changes nothing (a preview: `once_without_effect`) needs no placeholder, as
running it twice has no effect: it runs, then its response is stored in one statement. When
the key is taken by then (a retry, or a concurrent request that stored first), the stored
response is the answer, or 422 for another request, as above: one answer per key, with one
write instead of two.

For a route marked `rides_along` (the confirmation), on a database that carries rides
(`key_records.Ride`), the placeholder is not a transaction of its own: it is the first
statement of the request's own first write transaction, and a route that renders its
answer there (`JsonAnswer`: the confirmation, and the preview's kept answer) has its
response stored by its last one, with the changes it answers for. A concurrent request
with the key waits on that insert and then finds the key taken; it is then handled as above
(wait and replay, or take over a dead claim). A request none of whose writes committed
changed nothing, and its answer is stored as a preview's is.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter
from starlette.concurrency import run_in_threadpool

from canone.services import idempotency as key_records
from canone.services import payments
from canone.services.context import Services
from canone.services.errors import Busy, PaymentPending
from canone.services.idempotency import IN_PROGRESS, KeyTaken
from canone.services.records import IdempotencyRecord
from canone.web.problems import ApiProblem

WAIT_SECONDS = 15.0
POLL_SECONDS = 0.05
HEARTBEAT_SECONDS = 2.0
# Five missed heartbeats: a live request's event loop is never stalled that long, and a
# retry started right after a crash is answered within its WAIT_SECONDS.
DEAD_AFTER = timedelta(seconds=10)
KEEP_FOR = timedelta(hours=25)
PURGE_EVERY = timedelta(minutes=10)
MAX_KEY_LENGTH = 255

log = logging.getLogger(__name__)

class PurgeSchedule:
    """When the records are next due a purge, on the clock they are stamped with: the first
    call purges, then at most one per PURGE_EVERY. Not on the host's uptime (a machine up
    for less than PURGE_EVERY must purge too). One per app (`schedule_of`)."""

    def __init__(self) -> None:
        self.next_at: datetime | None = None

    def due(self, now: datetime) -> bool:
        return self.next_at is None or now >= self.next_at

    def purge_when_due(self, svc: Services, now: datetime) -> bool:
        """Delete the records older than KEEP_FOR when due; True when it purged."""
        if not self.due(now):
            return False
        self.next_at = now + PURGE_EVERY  # two threads purging at once would do no harm
        key_records.purge(svc, now - KEEP_FOR)
        return True


def schedule_of(request: Request) -> PurgeSchedule:
    state = request.app.state
    if not hasattr(state, "idempotency_purges"):
        state.idempotency_purges = PurgeSchedule()
    schedule: PurgeSchedule = state.idempotency_purges
    return schedule


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests "the same": method, path and body (as canonical JSON when it
    is JSON, so key order and spacing do not matter)."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"),
                               ensure_ascii=True).encode()
    except (ValueError, RecursionError):  # not JSON, or nested too deep to read: as sent
        canonical = body
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode("utf-8", "surrogateescape"), canonical):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def _claim(svc: Services, purges: PurgeSchedule, scope: str, key: str, fp: str
           ) -> tuple[IdempotencyRecord | None, bool]:
    """(None, whether it was taken over from a request that died) when this request
    claimed the key; else (the record of the earlier request, False): its status is
    IN_PROGRESS while it runs."""
    now = datetime.now(UTC)
    purges.purge_when_due(svc, now)
    placeholder = IdempotencyRecord(scope, key, fp, IN_PROGRESS, b"", now)
    record, taken_over = key_records.claim(svc, placeholder, DEAD_AFTER)
    return (None if record is None else _same_request(record, fp)), taken_over


def _same_request(record: IdempotencyRecord, fp: str) -> IdempotencyRecord:
    if record.fingerprint != fp:
        raise ApiProblem(
            422, "idempotency_conflict",
            "This Idempotency-Key was already used with another request (method, path "
            "or body); use a new key for a new request.", field="Idempotency-Key")
    return record


def _keep(svc: Services, purges: PurgeSchedule, record: IdempotencyRecord
          ) -> IdempotencyRecord | None:
    """Store the response of a request that changes nothing, unless its key is taken: None
    when stored, else the record that holds the key (422 when it is another request's)."""
    purges.purge_when_due(svc, record.created_at)
    earlier = key_records.keep(svc, record)
    return None if earlier is None else _same_request(earlier, record.fingerprint)


def _stored(svc: Services, scope: str, key: str, fp: str) -> IdempotencyRecord | None:
    earlier = key_records.stored(svc, scope, key)
    return None if earlier is None else _same_request(earlier, fp)


def _settle_what_it_started(svc: Services, request: Request) -> None:
    """Before a dead request's key runs again: settle the payment it left pending on its
    account, as reconciliation would (an account key only on its own account)."""
    account_id = request.path_params.get("account_id")
    own = getattr(request.state, "api_key", None)
    if account_id and own is not None and own.account_id in (None, account_id):
        payments.settle_known(svc, account_id)


def _renew(svc: Services, scope: str, key: str) -> None:
    key_records.renew(svc, scope, key, datetime.now(UTC))


async def _heartbeat(svc: Services, scope: str, key: str) -> None:
    """Renew the claim's lease until cancelled (when its request ends)."""
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        try:
            await run_in_threadpool(_renew, svc, scope, key)
        except Exception:  # a database hiccup: the next beat tries again
            log.warning("could not renew the lease of Idempotency-Key %r", key, exc_info=True)


@asynccontextmanager
async def _leased(svc: Services, scope: str, key: str) -> AsyncIterator[None]:
    beating = asyncio.create_task(_heartbeat(svc, scope, key))
    try:
        yield
    finally:
        beating.cancel()
        with suppress(asyncio.CancelledError):
            await beating


class JsonAnswer:
    """A route's 200 answer, rendered from its service's result as FastAPI renders a
    response model (validated, then dumped by alias), and rendered once: by the service's
    last transaction when the request's Idempotency-Key rides along (stored with the
    changes it answers for, `key_records.answer`), else after it returns."""

    def __init__(self, model: type[Any], view: Callable[[Any], dict[str, Any]]) -> None:
        self.adapter: TypeAdapter[Any] = TypeAdapter(model)
        self.view = view

    def render(self, result: object) -> bytes:
        return self.adapter.dump_json(self.adapter.validate_python(self.view(result)),
                                      by_alias=True)

    def offer(self, request: Request) -> None:
        """Before the service runs: let its last transaction store the answer."""
        ride = getattr(request.state, "idempotency_ride", None)
        if ride is not None:
            ride.render = lambda result: (200, self.render(result))

    def response(self, request: Request, result: object) -> Response:
        ride = getattr(request.state, "idempotency_ride", None)
        stored = None if ride is None else ride.answer
        body = stored[1] if stored is not None else self.render(result)
        return Response(body, media_type="application/json")


def _replay(record: IdempotencyRecord) -> Response:
    media = "application/problem+json" if record.status_code >= 400 else "application/json"
    return Response(record.body, status_code=record.status_code, media_type=media,
                    headers={"Idempotent-Replayed": "true"})


def _worth_keeping(request: Request, response: Response) -> bool:
    problem = getattr(request.state, "problem", None)
    # A 202 is not an answer yet (3-D Secure to finish): the same key must ask again.
    return response.status_code < 500 and response.status_code != 202 and not isinstance(
        problem, RequestValidationError | Busy | PaymentPending | ApiProblem)


def _key_of(request: Request) -> str:
    key = request.headers["idempotency-key"].strip()
    if not 0 < len(key) <= MAX_KEY_LENGTH:
        raise ApiProblem(422, "invalid_field",
                         f"Idempotency-Key: 1 to {MAX_KEY_LENGTH} characters",
                         field="Idempotency-Key")
    return key


async def once_without_effect(request: Request, svc: Services, scope: str,
                              run: Callable[[Request], Awaitable[Response]]) -> Response:
    """`once` for a request that changes nothing: run it, then store its response in one
    statement (by its own read transaction when its route renders the answer there, see
    `JsonAnswer`); a key already stored answers with its stored response instead."""
    key = _key_of(request)
    fp = fingerprint(request.method, request.url.path, await request.body())
    request.state.idempotency_key = key
    now = datetime.now(UTC)
    with key_records.riding(IdempotencyRecord(scope, key, fp, IN_PROGRESS, b"", now),
                            keeps=True) as ride:
        request.state.idempotency_ride = ride
        response = await run(request)
    purges = schedule_of(request)
    if ride.answer is not None or ride.earlier is not None:  # stored or found, as it read
        earlier = None if ride.earlier is None else _same_request(ride.earlier, fp)
        if purges.due(now):
            await run_in_threadpool(purges.purge_when_due, svc, now)
    else:
        earlier = await _kept(request, svc, purges, IdempotencyRecord(
            scope, key, fp, IN_PROGRESS, b"", now), response)
    if earlier is None or earlier.status_code == IN_PROGRESS:
        return response  # (claimed by a request that changes things: this one did not)
    return _replay(earlier)


async def _kept(request: Request, svc: Services, purges: PurgeSchedule,
                placeholder: IdempotencyRecord, response: Response
                ) -> IdempotencyRecord | None:
    """The response of a request that changed nothing stored under the placeholder's key
    (when worth keeping): None when stored or not kept, else the record holding the key."""
    scope, key, fp = placeholder.scope, placeholder.key, placeholder.fingerprint
    if not _worth_keeping(request, response):
        return await run_in_threadpool(_stored, svc, scope, key, fp)
    body = bytes(getattr(response, "body", b""))
    return await run_in_threadpool(_keep, svc, purges, IdempotencyRecord(
        scope, key, fp, response.status_code, body, datetime.now(UTC)))


async def once(request: Request, svc: Services, scope: str,
               run: Callable[[Request], Awaitable[Response]], ride: bool = False) -> Response:
    """Run the request at most once per (scope, Idempotency-Key); with `ride`, the claim
    rides the request's own first write transaction (`_ride_along`) when the database
    carries rides."""
    key = _key_of(request)
    fp = fingerprint(request.method, request.url.path, await request.body())
    purges = schedule_of(request)
    if ride and getattr(svc.database, "carries_rides", False):
        response = await _ride_along(request, svc, purges, IdempotencyRecord(
            scope, key, fp, IN_PROGRESS, b"", datetime.now(UTC)), run)
        if response is not None:
            return response
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        earlier, taken_over = await run_in_threadpool(_claim, svc, purges, scope, key, fp)
        if earlier is None:
            break
        if earlier.status_code != IN_PROGRESS:
            return _replay(earlier)
        if time.monotonic() > deadline:
            raise ApiProblem(409, "idempotency_in_progress",
                             "A request with this Idempotency-Key is still running; retry "
                             "later to get its response.")
        await asyncio.sleep(POLL_SECONDS)
    request.state.idempotency_key = key
    try:
        async with _leased(svc, scope, key):
            if taken_over:
                await run_in_threadpool(_settle_what_it_started, svc, request)
            response = await run(request)
    except BaseException:
        await asyncio.shield(run_in_threadpool(key_records.release, svc, scope, key))
        raise
    return await _finish(request, svc, scope, key, fp, response)


async def _finish(request: Request, svc: Services, scope: str, key: str, fp: str,
                  response: Response) -> Response:
    """After the request that claimed the key: its response stored, or the key released."""
    if _worth_keeping(request, response):
        body = bytes(getattr(response, "body", b""))
        await run_in_threadpool(key_records.finish, svc, IdempotencyRecord(
            scope, key, fp, response.status_code, body, datetime.now(UTC)))
    else:
        await run_in_threadpool(key_records.release, svc, scope, key)
    return response


async def _ride_along(request: Request, svc: Services, purges: PurgeSchedule,
                      placeholder: IdempotencyRecord,
                      run: Callable[[Request], Awaitable[Response]]) -> Response | None:
    """`once` with the claim carried by the request's first committed write transaction
    (`key_records.Ride`) and, when the route renders its answer there, the response stored
    by its last: None when the key turned out taken (by a request that runs, finished or
    died), with nothing this one did kept, for `once` to wait, replay or take over."""
    scope, key, fp = placeholder.scope, placeholder.key, placeholder.fingerprint
    if purges.due(placeholder.created_at):
        await run_in_threadpool(purges.purge_when_due, svc, placeholder.created_at)
    request.state.idempotency_key = key
    ride = None
    try:
        async with _leased(svc, scope, key):
            with key_records.riding(placeholder) as ride:
                request.state.idempotency_ride = ride
                response = await run(request)
    except KeyTaken:
        return None
    except BaseException:
        if ride is not None and ride.claimed:
            await asyncio.shield(run_in_threadpool(key_records.release, svc, scope, key))
        raise
    if ride.answer is not None:  # stored with the changes it answers for
        return response
    if ride.claimed:
        return await _finish(request, svc, scope, key, fp, response)
    # Nothing it wrote was committed: it changed nothing, so its answer is kept as a
    # preview's is, unless the key was taken meanwhile (then that request's answer).
    earlier = await _kept(request, svc, purges, placeholder, response)
    if earlier is None:
        return response
    return None if earlier.status_code == IN_PROGRESS else _replay(earlier)
