"""Webhook endpoints and their delivery log, as the API and the console show them.

An endpoint of an account receives that account's events; an endpoint registered with an
operator key and no account receives every account's. Its secret (Standard Webhooks:
"whsec_" + base64 of 24 random bytes) is shown once, when it is registered.
"""

from __future__ import annotations

import base64
import secrets
from urllib.parse import urlsplit

from canone.billing.errors import InvalidField
from canone.services import destinations
from canone.services.access import Actor, load_account, require_billing, require_staff
from canone.services.context import Services, new_id
from canone.services.errors import RefusedDestination
from canone.services.records import WebhookDelivery, WebhookEndpoint
from canone.services.store import Store

# Every event type the services emit (webhooks are sent for each state change).
EVENT_TYPES = (
    "account.updated",
    "credit.granted",
    "credit_note.issued",
    "invoice.issued",
    "invoice.paid",
    "invoice.refunded",
    "invoice.disputed",
    "payment.failed",
    "request.created",
    "renewal.blocked",
    "request.updated",
    "subscription.cancelled",
    "subscription.change_applied",
    "subscription.change_scheduled",
    "subscription.changed",
    "subscription.created",
    "subscription.renewed",
    "usage.threshold_reached",
)
ALL = "*"


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def check_url(url: str, allow_private: bool = False) -> str:
    """The url, if deliveries may go there: http(s), and (unless `allow_private`) a host on
    public addresses only. A name that does not resolve yet is accepted: each delivery
    checks the addresses again."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidField("url", "must be an http:// or https:// URL with a host")
    if len(url) > 2000:
        raise InvalidField("url", "at most 2000 characters")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InvalidField("url", "the port must be a number from 1 to 65535") from None
    if not allow_private:
        try:
            destinations.public_addresses(parts.hostname, port)
        except RefusedDestination as refused:
            raise InvalidField("url", f"{refused}: webhooks go to public addresses "
                               "only") from None
        except (OSError, UnicodeError):
            pass  # not resolvable now: the delivery checks again
    return url


def check_events(events: list[str]) -> tuple[str, ...]:
    if not events:
        raise InvalidField("events", f"list at least one event type, or {ALL!r} for all")
    for event in events:
        if event != ALL and event not in EVENT_TYPES:
            raise InvalidField("events", f"unknown event type {event!r}; allowed: "
                               + ", ".join((ALL, *EVENT_TYPES)))
    return tuple(sorted(set(events)))


def register(svc: Services, actor: Actor, url: str, events: list[str],
             account_id: str | None, *, allow_private: bool = False) -> WebhookEndpoint:
    """An endpoint for one account, or (staff only, `account_id` None) for all accounts.
    Its url must be on public addresses unless the operator allows private ones."""
    url = check_url(url, allow_private)
    types = check_events(events)
    account_id = account_id if account_id is not None else actor.account_id
    with svc.database.transaction() as store:
        if account_id is None:
            require_staff(actor, "register an endpoint for every account")
        else:
            load_account(store, actor, account_id)
            require_billing(store, actor, account_id, "register webhook endpoints")
        endpoint = WebhookEndpoint(new_id("whe"), account_id, url, types, new_secret(),
                                   svc.now())
        store.outbox.add_endpoint(endpoint)
        return endpoint


def endpoints_of(svc: Services, actor: Actor, account_id: str | None) -> list[WebhookEndpoint]:
    """The actor's account's endpoints; staff see every endpoint (or one account's)."""
    with svc.database.transaction() as store:
        account_id = _visible(store, actor, account_id, "see every webhook endpoint")
        return store.outbox.endpoints(account_id)


def deliveries(svc: Services, actor: Actor, account_id: str | None, limit: int,
               after: str | None) -> list[WebhookDelivery]:
    """Newest first; the actor's account's, or (staff) every account's or one account's."""
    with svc.database.transaction() as store:
        account_id = _visible(store, actor, account_id, "see every webhook delivery")
        return store.outbox.deliveries(account_id, limit, after)


def _visible(store: Store, actor: Actor, account_id: str | None, what: str) -> str | None:
    """The account whose records the actor asked for (its own by default), or None for
    every account's (staff only)."""
    if account_id is not None:
        load_account(store, actor, account_id)  # NotFound for another account's
        return account_id
    if actor.account_id is not None:
        return actor.account_id
    require_staff(actor, what)
    return None
