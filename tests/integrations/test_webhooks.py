"""Webhook signatures and deliveries, checked by a real HTTP receiver on localhost."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from canone.integrations.webhooks import (
    DeliveryAttempt,
    HttpWebhookSender,
    WebhookVerificationError,
    new_secret,
    next_attempt_delay,
    sign,
    signed_headers,
    verify,
)

from .http_receiver import WebhookReceiver
from .smtp_server import free_port

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
EVENT = json.dumps(
    {"id": "evt_1", "type": "invoice.paid", "data": {"number": "2026-000123", "total": "48.00"}}
).encode()
AT = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
STAMP = int(AT.timestamp())


@pytest.fixture
def sender() -> Iterator[HttpWebhookSender]:
    # The receivers listen on localhost, which only an operator's setting allows.
    with HttpWebhookSender(timeout=5, allow_private=True) as sender:
        yield sender


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(SECRET) as receiver:
        yield receiver


# -- signatures ---------------------------------------------------------------------------


def test_sign_matches_the_standard_webhooks_reference_vector():
    signature = sign(SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')

    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_new_secrets_are_32_random_bytes_in_base64():
    first, second = new_secret(), new_secret()

    assert first.startswith("whsec_")
    assert len(base64.b64decode(first.removeprefix("whsec_"))) == 32
    assert first != second


def test_a_secret_that_is_not_base64_is_refused():
    with pytest.raises(ValueError, match="a webhook secret is 'whsec_' followed by base64"):
        sign("whsec_not base64!", "msg_1", STAMP, EVENT)


def test_verify_accepts_a_fresh_genuine_delivery():
    headers = signed_headers(SECRET, "msg_1", STAMP, EVENT)

    verify(SECRET, headers, EVENT, now=AT + timedelta(seconds=300))
    verify(SECRET, headers, EVENT, now=AT - timedelta(seconds=300))


def test_verify_reads_headers_in_any_case():
    headers = {k.title(): v for k, v in signed_headers(SECRET, "msg_1", STAMP, EVENT).items()}

    verify(SECRET, headers, EVENT, now=AT)


def test_verify_accepts_any_of_several_signatures_during_secret_rotation():
    old = new_secret()
    headers = signed_headers(SECRET, "msg_1", STAMP, EVENT)
    headers["webhook-signature"] = (
        f"{sign(old, 'msg_1', STAMP, EVENT)} v2,abc {headers['webhook-signature']}"
    )

    verify(SECRET, headers, EVENT, now=AT)
    verify(old, headers, EVENT, now=AT)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"payload": EVENT + b" "}, "no signature matches the payload"),
        ({"secret": new_secret()}, "no signature matches the payload"),
        ({"webhook-id": "msg_2"}, "no signature matches the payload"),
        ({"webhook-timestamp": str(STAMP + 1)}, "no signature matches the payload"),
        ({"webhook-signature": "v1,AAAA"}, "no signature matches the payload"),
        ({"webhook-timestamp": "soon"}, "webhook-timestamp is not a number: 'soon'"),
        ({"webhook-signature": ""}, "missing header(s): webhook-signature"),
        (
            {"webhook-id": None, "webhook-timestamp": None},
            "missing header(s): webhook-id, webhook-timestamp",
        ),
        ({"now": AT + timedelta(seconds=301)}, "timestamp too old: 301s ago, tolerance 300s"),
        (
            {"now": AT - timedelta(seconds=301)},
            "timestamp in the future: 301s ahead, tolerance 300s",
        ),
        (
            {"now": AT + timedelta(seconds=61), "tolerance": 60},
            "timestamp too old: 61s ago, tolerance 60s",
        ),
    ],
)
def test_verify_refuses_a_tampered_or_stale_delivery(change: dict, error: str):
    headers: dict[str, str] = signed_headers(SECRET, "msg_1", STAMP, EVENT)
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        if name in change:
            if change[name] is None:
                del headers[name]
            else:
                headers[name] = change[name]
    secret = change.get("secret", SECRET)
    payload = change.get("payload", EVENT)

    with pytest.raises(WebhookVerificationError) as refused:
        verify(secret, headers, payload, change.get("tolerance", 300), change.get("now", AT))

    assert str(refused.value) == error


# -- retry schedule -----------------------------------------------------------------------


def test_retries_back_off_exponentially_up_to_six_hours():
    delays = [next_attempt_delay(n) for n in range(1, 14)]

    assert [int(d.total_seconds()) for d in delays] == [
        30,
        60,
        120,
        240,
        480,
        960,
        1920,
        3840,
        7680,
        15360,
        21600,
        21600,
        21600,
    ]
    assert next_attempt_delay(10_000) == timedelta(hours=6)


def test_attempt_numbers_start_at_one():
    with pytest.raises(ValueError, match="attempt numbers start at 1, not 0"):
        next_attempt_delay(0)


# -- deliveries to a real receiver --------------------------------------------------------


def test_a_delivery_arrives_signed_and_verified(
    sender: HttpWebhookSender, receiver: WebhookReceiver
):
    now = datetime.now(UTC)

    attempt = sender.send(receiver.url, SECRET, "msg_evt_1", EVENT, now)

    assert attempt == DeliveryAttempt(204, None, True)
    [delivery] = receiver.deliveries
    assert delivery.error is None
    assert delivery.path == "/hooks/canone"
    assert delivery.body == EVENT
    assert delivery.headers["webhook-id"] == "msg_evt_1"
    assert delivery.headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert delivery.headers["webhook-signature"] == sign(
        SECRET, "msg_evt_1", int(now.timestamp()), EVENT
    )
    assert delivery.headers["content-type"] == "application/json"
    assert delivery.headers["user-agent"] == "canone-webhooks/1"


def test_any_2xx_answer_is_a_success(sender: HttpWebhookSender, receiver: WebhookReceiver):
    receiver.status = 200

    assert sender.send(receiver.url, SECRET, "msg_1", EVENT, datetime.now(UTC)).ok


def test_the_receiver_refuses_a_delivery_signed_with_another_secret(
    sender: HttpWebhookSender, receiver: WebhookReceiver
):
    attempt = sender.send(receiver.url, new_secret(), "msg_1", EVENT, datetime.now(UTC))

    assert attempt == DeliveryAttempt(400, "HTTP 400 Bad Request", False)
    assert [d.error for d in receiver.deliveries] == ["no signature matches the payload"]


def test_the_receiver_refuses_a_replayed_old_delivery(
    sender: HttpWebhookSender, receiver: WebhookReceiver
):
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)

    attempt = sender.send(receiver.url, SECRET, "msg_1", EVENT, an_hour_ago)

    assert attempt.status_code == 400
    assert receiver.deliveries[0].error is not None
    assert receiver.deliveries[0].error.startswith("timestamp too old: ")


def test_a_server_error_is_a_failed_attempt(sender: HttpWebhookSender, receiver: WebhookReceiver):
    receiver.status = 503

    attempt = sender.send(receiver.url, SECRET, "msg_1", EVENT, datetime.now(UTC))

    assert attempt == DeliveryAttempt(503, "HTTP 503 Service Unavailable", False)


def test_a_redirect_is_not_followed(sender: HttpWebhookSender, receiver: WebhookReceiver):
    receiver.status = 307

    attempt = sender.send(receiver.url, SECRET, "msg_1", EVENT, datetime.now(UTC))

    assert attempt == DeliveryAttempt(307, "HTTP 307 Temporary Redirect", False)
    assert len(receiver.deliveries) == 1


def test_a_receiver_that_is_down_is_a_failed_attempt_not_an_exception(
    sender: HttpWebhookSender,
):
    url = f"http://127.0.0.1:{free_port()}/hooks"

    attempt = sender.send(url, SECRET, "msg_1", EVENT, datetime.now(UTC))

    assert attempt.ok is False
    assert attempt.status_code is None
    assert attempt.error == "could not connect: [Errno 111] Connection refused"


def test_a_receiver_that_comes_back_gets_the_same_event_and_can_deduplicate(
    sender: HttpWebhookSender,
):
    port = free_port()
    first = sender.send(f"http://127.0.0.1:{port}/hooks/canone", SECRET, "msg_9", EVENT, AT)
    assert not first.ok

    with WebhookReceiver(SECRET, port) as receiver:
        for _ in range(2):  # the retry, and a duplicate after a lost acknowledgement
            assert sender.send(receiver.url, SECRET, "msg_9", EVENT, datetime.now(UTC)).ok

    assert [d.error for d in receiver.deliveries] == [None, None]
    assert {d.headers["webhook-id"] for d in receiver.deliveries} == {"msg_9"}


def test_a_receiver_that_does_not_answer_in_time_is_a_failed_attempt(
    receiver: WebhookReceiver,
):
    receiver.hold.clear()  # the receiver reads the request, then never answers
    with HttpWebhookSender(timeout=0.2, allow_private=True) as sender:
        attempt = sender.send(receiver.url, SECRET, "msg_1", EVENT, datetime.now(UTC))
    receiver.hold.set()

    assert attempt == DeliveryAttempt(None, "timed out after 0.2s", False)


@pytest.mark.parametrize(
    ("url", "error"),
    [
        (
            "ftp://example.com/hooks",
            "UnsupportedProtocol: Request URL has an unsupported protocol 'ftp://'.",
        ),
        (
            "not a url",
            "UnsupportedProtocol: Request URL is missing an 'http://' or 'https://' protocol.",
        ),
    ],
)
def test_a_bad_url_is_a_failed_attempt(sender: HttpWebhookSender, url: str, error: str):
    assert sender.send(url, SECRET, "msg_1", EVENT, AT) == DeliveryAttempt(None, error, False)


def test_a_bad_secret_is_a_failed_attempt(sender: HttpWebhookSender):
    attempt = sender.send("http://127.0.0.1:9/", "whsec_???", "msg_1", EVENT, AT)

    assert attempt == DeliveryAttempt(
        None, "ValueError: a webhook secret is 'whsec_' followed by base64", False
    )


def test_a_transport_can_be_injected_for_callers_tests():
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202)

    with HttpWebhookSender(transport=httpx.MockTransport(answer)) as sender:
        attempt = sender.send("https://hooks.acme.example/canone", SECRET, "msg_1", EVENT, AT)

    assert attempt == DeliveryAttempt(202, None, True)
    verify(SECRET, seen[0].headers, seen[0].content, now=AT)


# -- only public addresses, unless the operator allows others -------------------------------


@pytest.fixture
def public_only() -> Iterator[HttpWebhookSender]:
    with HttpWebhookSender(timeout=5) as sender:
        yield sender


@pytest.mark.parametrize(("host", "why"), [
    ("127.0.0.1", "127.0.0.1 is a loopback address"),
    ("localhost", "localhost resolves to 127.0.0.1, a loopback address"),
    ("[::1]", "::1 is a loopback address"),
    ("169.254.169.254", "169.254.169.254 is a cloud metadata address"),
    ("10.20.30.40", "10.20.30.40 is a private address"),
    ("192.168.1.1", "192.168.1.1 is a private address"),
    ("[fd12:3456::1]", "fd12:3456::1 is a unique-local address"),
    ("[::ffff:127.0.0.1]", "::ffff:127.0.0.1 is a loopback address"),
    ("0.0.0.0", "0.0.0.0 is the unspecified address"),
    ("100.64.0.1", "100.64.0.1 is not a public address"),  # carrier-grade NAT
    ("2130706433", "2130706433 resolves to 127.0.0.1, a loopback address"),
])
def test_a_delivery_to_a_private_address_is_not_sent(
        public_only: HttpWebhookSender, receiver: WebhookReceiver, host: str, why: str):
    port = receiver.url.split(":")[2].split("/")[0]

    attempt = public_only.send(f"http://{host}:{port}/hooks/canone", SECRET, "msg_1", EVENT,
                               datetime.now(UTC))

    assert attempt == DeliveryAttempt(
        None, f"not sent: {why} (webhooks go to public addresses only)", False)
    assert receiver.deliveries == []


def test_a_name_that_does_not_resolve_is_a_failed_attempt(public_only: HttpWebhookSender):
    attempt = public_only.send("https://hooks.canone.invalid/x", SECRET, "msg_1", EVENT, AT)

    assert attempt.ok is False
    assert attempt.error is not None
    assert attempt.error.startswith("could not connect: ")


def test_the_operator_setting_allows_receivers_on_localhost(receiver: WebhookReceiver):
    with HttpWebhookSender(timeout=5, allow_private=True) as sender:
        attempt = sender.send(receiver.url.replace("127.0.0.1", "localhost"), SECRET, "msg_1",
                              EVENT, datetime.now(UTC))

    assert attempt == DeliveryAttempt(204, None, True)
