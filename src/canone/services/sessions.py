"""Sign-in sessions of people (account users and support staff), kept server-side.

The caller holds the session token; only its SHA-256 is stored, so a leaked row cannot be
replayed as a cookie. Sessions expire on the wall clock the caller passes (never the billing
test clock: moving it must not sign people out)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from canone.services.context import Services
from canone.services.records import SessionOwner, WebSession

SESSION_HOURS = 12


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(svc: Services, principal: str, now: datetime, replacing: str | None = None) -> str:
    """A new session for `principal` ("user:<id>" or "staff:<id>"): its token. The session
    whose token is `replacing` ends in the same transaction, so a session id never survives
    a sign-in (session fixation)."""
    token = secrets.token_urlsafe(32)
    with svc.database.transaction() as store:
        if replacing:
            store.access.delete_session(token_hash(replacing))
        store.access.add_session(WebSession(token_hash(token), principal, secrets.token_urlsafe(24),
                                            now + timedelta(hours=SESSION_HOURS)))
    return token


def end(svc: Services, token: str) -> None:
    with svc.database.transaction() as store:
        store.access.delete_session(token_hash(token))


def owner(svc: Services, token: str, now: datetime) -> SessionOwner | None:
    """The unexpired session of `token` with whoever it signs in (read in one query), or
    None. Whether that person may still sign in is the caller's to judge."""
    with svc.database.read() as store:
        found = store.access.session_owner(token_hash(token))
    return None if found is None or found.session.expires_at <= now else found
