"""`canone mail listen`: inbound email from a primary admin becomes a change request.

The wiring of `inbound_mail.InboundMailHandler` to the services: the sender must be the
primary admin of an account (matched case-insensitively); the request is created through
`services.requests.create` as an EMAIL actor, source "email", unverified — "from email,
sender not verified" — so support takes it (in_progress) to confirm the sender before
anything is applied.
"""

from __future__ import annotations

import logging

from aiosmtpd.controller import Controller

from canone.integrations.inbound_mail import InboundMailHandler, serve_inbound
from canone.services import requests
from canone.services.access import EMAIL, Actor
from canone.services.accounts import is_plain_email
from canone.services.context import Services
from canone.services.records import PRIMARY_ADMIN, ChangeRequest, User

log = logging.getLogger(__name__)

REASON = "Email to support"
MAX_MESSAGE_CHARS = 20_000


def primary_admin(svc: Services, address: str) -> User | None:
    """The active primary admin whose email is `address` (any case), or None. An address
    that is not plain (a quoted local part, a control character) matches nobody."""
    if not is_plain_email(address.strip()):
        return None
    with svc.database.transaction() as store:
        user = store.people.user_by_email(address.strip())
    if user is None or user.role != PRIMARY_ADMIN or not user.active:
        return None
    return user


def request_from_email(svc: Services, sender: str, subject: str, body: str) -> ChangeRequest:
    user = primary_admin(svc, sender)
    if user is None:  # the handler checked already; the admin may have changed since
        raise LookupError(f"{sender} is no longer a primary admin")
    actor = Actor(EMAIL, f"email:{user.email}", user.account_id)
    parts = [part for part in (subject.strip(), body.strip()) if part]
    message = "\n\n".join(parts) or "(an empty email)"
    request = requests.create(svc, actor, user.account_id, None, REASON,
                              message[:MAX_MESSAGE_CHARS], source="email")
    log.info("inbound mail from %s: request %s on account %s", sender, request.id,
             user.account_id)
    return request


def inbound_handler(svc: Services) -> InboundMailHandler:
    return InboundMailHandler(
        resolve_sender=lambda address: primary_admin(svc, address),
        on_message=lambda sender, subject, body: request_from_email(svc, sender, subject, body),
    )


def listen(svc: Services, host: str, port: int) -> Controller:
    """Start the inbound SMTP server in a background thread; `.stop()` it to end."""
    return serve_inbound(host, port, inbound_handler(svc))
