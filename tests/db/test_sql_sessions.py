"""A web session is read with whoever it signs in, in one query, on both backends."""

from __future__ import annotations

from canone.db.database import Database
from canone.services.records import SessionOwner, Staff, WebSession

from .samples import account, later, user


def test_a_session_is_read_with_its_user_and_account_or_its_staff_member(
        database: Database) -> None:
    agent = Staff("stf_1", "sam@canone.test", "Sam", "$argon2id$hash")
    sessions = [WebSession("h_user", "user:usr_1", "csrf-1", later(60)),
                WebSession("h_staff", "staff:stf_1", "csrf-2", later(60)),
                WebSession("h_gone", "user:usr_9", "csrf-3", later(60)),
                WebSession("h_other", "robot:usr_1", "csrf-4", later(60))]
    with database.transaction() as store:
        store.accounts.add(account())
        store.people.add_user(user(1))
        store.people.add_staff(agent)
        for session in sessions:
            store.access.add_session(session)
    with database.read() as store:
        assert store.access.session_owner("h_user") == SessionOwner(sessions[0], user(1), account(),
                                                                    None)
        assert store.access.session_owner("h_staff") == SessionOwner(sessions[1], None, None, agent)
        assert store.access.session_owner("h_gone") == SessionOwner(sessions[2], None, None, None)
        assert store.access.session_owner("h_other") == SessionOwner(sessions[3], None, None, None)
        assert store.access.session_owner("h_none") is None
