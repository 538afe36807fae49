"""API keys of the JSON API: created and revoked by an operator (`canone apikey`), shown
once, stored only as a SHA-256 hash.

An operator key (no account) sees every account and acts as support staff; an account key
is the host application's key for one account.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from canone.billing.errors import InvalidField
from canone.services.access import ACCOUNT_KEY, OPERATOR, Actor
from canone.services.context import Services, new_id
from canone.services.errors import NotFound
from canone.services.records import ApiKey

LIVE_PREFIX = "ck_live_"
TEST_PREFIX = "ck_test_"


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    secret: str  # the key itself: shown once, never stored


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()


def create(svc: Services, name: str, account_id: str | None, test_mode: bool = False) -> NewKey:
    """A new key for one account, or an operator key when `account_id` is None."""
    name = name.strip()
    if not name:
        raise InvalidField("name", "required: say what the key is for")
    secret = (TEST_PREFIX if test_mode else LIVE_PREFIX) + secrets.token_urlsafe(32)
    with svc.database.transaction() as store:
        if account_id is not None and store.accounts.get(account_id) is None:
            raise NotFound(f"no account {account_id}")
        key = ApiKey(new_id("key"), name, account_id, hash_key(secret), svc.now(), False)
        store.access.add_api_key(key)
    return NewKey(key, secret)


def revoke(svc: Services, key_id: str) -> ApiKey:
    with svc.database.transaction() as store:
        key = next((k for k in store.access.list_api_keys() if k.id == key_id), None)
        if key is None:
            raise NotFound(f"no API key {key_id}")
        revoked = ApiKey(key.id, key.name, key.account_id, key.key_hash, key.created_at, True)
        store.access.save_api_key(revoked)
    forget(key_id)
    return revoked


def list_keys(svc: Services) -> list[ApiKey]:
    with svc.database.read() as store:
        return store.access.list_api_keys()


# Keys found recently, by hash, with the monotonic time until which they are trusted: a
# request then needs no look-up of its key. A key revoked by another process stops working
# here within CACHE_SECONDS; one revoked by this process, at once.
CACHE_SECONDS = 2.0
_recent: dict[str, tuple[ApiKey, float]] = {}


def recent(secret: str) -> ApiKey | None:
    """The key with this secret if it was found live in the last CACHE_SECONDS, without
    any I/O (callers that must not block try this before `find`); else None."""
    known = _recent.get(hash_key(secret))
    return known[0] if known is not None and known[1] > time.monotonic() else None


def find(svc: Services, secret: str) -> ApiKey | None:
    """The live (not revoked) key with this secret, or None."""
    if not secret.startswith((LIVE_PREFIX, TEST_PREFIX)) or len(secret) > 200:
        return None
    key_hash = hash_key(secret)
    now = time.monotonic()
    known = _recent.get(key_hash)
    if known is not None and known[1] > now:
        return known[0]
    with svc.database.read() as store:
        key = store.access.api_key_by_hash(key_hash)
    if key is None or key.revoked:
        _recent.pop(key_hash, None)
        return None
    if len(_recent) > 10_000:
        _recent.clear()
    _recent[key_hash] = (key, now + CACHE_SECONDS)
    return key


def forget(key_id: str) -> None:
    for key_hash, (key, _) in list(_recent.items()):
        if key.id == key_id:
            del _recent[key_hash]


def actor_of(key: ApiKey) -> Actor:
    if key.account_id is None:
        return Actor(OPERATOR, f"apikey:{key.id}")
    return Actor(ACCOUNT_KEY, f"apikey:{key.id}", key.account_id)
