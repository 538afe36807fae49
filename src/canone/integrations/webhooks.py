"""Webhooks: Standard Webhooks signatures and one HTTP delivery attempt.

The outbox decides what to send and when (`next_attempt_delay`); this module signs a
payload, posts it, and reports what happened without ever raising, so a receiver that is
down costs a retry, never an event. Scheme (https://www.standardwebhooks.com):

    webhook-id:        the event's unique id (receivers deduplicate by it)
    webhook-timestamp: seconds since the epoch, of this attempt
    webhook-signature: "v1,<base64 HMAC-SHA256 of f'{id}.{timestamp}.{payload}'>", keyed
                       with the base64-decoded part of the secret after "whsec_"
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpcore
import httpx

from canone.services import destinations
from canone.services.errors import RefusedDestination

SECRET_PREFIX = "whsec_"
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=6)
USER_AGENT = "canone-webhooks/1"


class WebhookVerificationError(Exception):
    """The request is not a genuine, fresh delivery: refuse it (HTTP 400)."""


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error as error:
        raise ValueError("a webhook secret is 'whsec_' followed by base64") from error


def sign(secret: str, msg_id: str, timestamp: int, payload: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + payload
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, msg_id: str, timestamp: int, payload: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, payload),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    payload: bytes,
    tolerance: int = 300,
    now: datetime | None = None,
) -> None:
    """Raise WebhookVerificationError unless `payload` was signed with `secret` within
    `tolerance` seconds of `now` (the tolerance stops replays of an old delivery)."""
    lowered = {name.lower(): value for name, value in headers.items()}
    missing = [
        name
        for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
        if not lowered.get(name)
    ]
    if missing:
        raise WebhookVerificationError(f"missing header(s): {', '.join(missing)}")
    msg_id, stamp = lowered["webhook-id"], lowered["webhook-timestamp"]
    if not stamp.isascii() or not stamp.isdigit():
        raise WebhookVerificationError(f"webhook-timestamp is not a number: {stamp!r}")
    timestamp = int(stamp)
    current = int((now or datetime.now(UTC)).timestamp())
    if timestamp < current - tolerance:
        raise WebhookVerificationError(
            f"timestamp too old: {current - timestamp}s ago, tolerance {tolerance}s"
        )
    if timestamp > current + tolerance:
        raise WebhookVerificationError(
            f"timestamp in the future: {timestamp - current}s ahead, tolerance {tolerance}s"
        )
    expected = sign(secret, msg_id, timestamp, payload).encode()
    # Several signatures may be sent while a secret is rotated; any one may match.
    for candidate in lowered["webhook-signature"].split():
        if candidate.startswith("v1,") and hmac.compare_digest(candidate.encode(), expected):
            return
    raise WebhookVerificationError("no signature matches the payload")


def next_attempt_delay(attempt_number: int) -> timedelta:
    """How long to wait after failed attempt n (1, 2, ...): 30 s · 2^(n−1), at most 6 h.
    30 s, 1 min, 2 min, ... 4 h 16 min, then every 6 h."""
    if attempt_number < 1:
        raise ValueError(f"attempt numbers start at 1, not {attempt_number}")
    doublings = min(attempt_number - 1, 16)  # 2^16 · 30 s is far past the cap already
    return min(FIRST_RETRY * (1 << doublings), LONGEST_RETRY)


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    status_code: int | None  # None when no HTTP answer came back
    error: str | None
    ok: bool


class _PublicOnly(httpcore.SyncBackend):
    """Connects only to public addresses, checked on what the name resolves to at this
    moment (not at registration: the name may have been re-pointed since), and connects to
    the very address checked, so a second lookup cannot swap in another (DNS rebinding).
    TLS still verifies the certificate against the url's host name."""

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        try:
            addresses = destinations.public_addresses(host, port)
        except OSError as error:  # the name does not resolve
            raise httpcore.ConnectError(str(error)) from error
        for address in addresses[:-1]:
            try:
                return super().connect_tcp(str(address), port, timeout, local_address,
                                           socket_options)
            except httpcore.ConnectError:
                continue  # the next address of the name, as a browser would
        return super().connect_tcp(str(addresses[-1]), port, timeout, local_address,
                                   socket_options)


class _PublicOnlyTransport(httpx.HTTPTransport):
    def __init__(self) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(),
                                             network_backend=_PublicOnly())


class HttpWebhookSender:
    """Posts signed payloads; one connection pool for every delivery of this process.
    Only to public addresses unless `allow_private` (see `services.destinations`)."""

    def __init__(self, timeout: float = 10.0, transport: httpx.BaseTransport | None = None,
                 allow_private: bool = False) -> None:
        self.timeout = timeout
        if transport is None and not allow_private:
            transport = _PublicOnlyTransport()
        # Redirects are not followed: a signed delivery goes to the registered url only.
        self.client = httpx.Client(timeout=timeout, follow_redirects=False, transport=transport)

    def send(
        self, url: str, secret: str, msg_id: str, payload: bytes, now: datetime
    ) -> DeliveryAttempt:
        try:
            headers = signed_headers(secret, msg_id, int(now.timestamp()), payload)
            headers |= {"content-type": "application/json", "user-agent": USER_AGENT}
            response = self.client.post(url, content=payload, headers=headers)
        except RefusedDestination as refused:
            return DeliveryAttempt(None, f"not sent: {refused} (webhooks go to public "
                                   "addresses only)", False)
        except httpx.TimeoutException:
            return DeliveryAttempt(None, f"timed out after {self.timeout:g}s", False)
        except httpx.ConnectError as error:
            return DeliveryAttempt(None, f"could not connect: {error}", False)
        except Exception as error:  # a bad url, a bad secret, a broken connection: report it
            return DeliveryAttempt(None, f"{type(error).__name__}: {error}", False)
        if response.is_success:
            return DeliveryAttempt(response.status_code, None, True)
        return DeliveryAttempt(
            response.status_code, f"HTTP {response.status_code} {response.reason_phrase}", False
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> HttpWebhookSender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
