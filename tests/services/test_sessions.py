"""Sign-in sessions (services.sessions): only the token's hash is stored, a new session
ends the browser's old one, and sessions expire after SESSION_HOURS."""

from __future__ import annotations

from datetime import timedelta

from canone.services import sessions

from .conftest import at, sign_up

NOW = at(2026, 4, 1, 9)


def test_a_session_is_found_by_its_token_until_it_expires(svc) -> None:
    signed = sign_up(svc)
    user = next(iter(signed_users(svc, signed.account.id)))
    token = sessions.start(svc, f"user:{user.id}", NOW)

    found = sessions.owner(svc, token, NOW + timedelta(hours=11, minutes=59))
    assert found is not None
    assert (found.session.principal, found.user, found.account) == (
        f"user:{user.id}", user, signed.account)
    assert found.session.expires_at == NOW + timedelta(hours=12)
    assert found.staff is None
    assert sessions.owner(svc, token, NOW + timedelta(hours=12)) is None
    with svc.database.read() as store:  # the token itself is never stored
        assert store.access.session_by_hash(token) is None
        assert store.access.session_by_hash(sessions.token_hash(token)) == found.session


def test_signing_in_again_ends_the_old_session_and_signing_out_ends_the_new(svc) -> None:
    old = sessions.start(svc, "staff:stf_1", NOW)
    new = sessions.start(svc, "staff:stf_1", NOW, replacing=old)

    assert new != old
    assert sessions.owner(svc, old, NOW) is None
    assert sessions.owner(svc, new, NOW) is not None
    sessions.end(svc, new)
    assert sessions.owner(svc, new, NOW) is None


def signed_users(svc, account_id):  # type: ignore[no-untyped-def]
    with svc.database.read() as store:
        return store.people.users_of(account_id)
