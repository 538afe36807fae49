"""What the web and API edges keep: API keys, web sessions and idempotency records, on the
transaction's connection."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, bindparam, delete, func, literal_column, select, update

from canone.db import rows
from canone.db.queries import Prepared, Queries
from canone.db.tables import accounts, api_keys, idempotency_records, staff, users, web_sessions
from canone.services.records import (
    ApiKey,
    IdempotencyRecord,
    SessionOwner,
    Staff,
    User,
    WebSession,
)

_principal = web_sessions.c.principal


def _kind_is(prefix: str) -> ColumnElement[bool]:
    # The pattern is written into the SQL, not bound: SQLite prepares a statement again at
    # every run when a LIKE's pattern is a parameter (its LIKE optimisation depends on the
    # value), and preparing this one took 0.2 ms, 80 % of the sign-in's read.
    return _principal.like(literal_column(f"'{prefix}%'"))


# Built once: the session, its user and the user's account, or its staff member.
_SESSION_OWNER = Prepared(
    select(web_sessions,
           *(c.label(f"u_{c.name}") for c in users.c),
           *(c.label(f"a_{c.name}") for c in accounts.c),
           *(c.label(f"s_{c.name}") for c in staff.c))
    .select_from(
        web_sessions
        .outerjoin(users, (users.c.id == func.substr(_principal, len("user:") + 1))
                   & _kind_is("user:"))
        .outerjoin(accounts, accounts.c.id == users.c.account_id)
        .outerjoin(staff, (staff.c.id == func.substr(_principal, len("staff:") + 1))
                   & _kind_is("staff:")))
    .where(web_sessions.c.token_hash == bindparam("token_hash")))
_AT = {name: i for i, name in enumerate(_SESSION_OWNER.plain.selected_columns.keys())}


def _places(prefix: str, names: Iterable[str]) -> tuple[tuple[str, int], ...]:
    # Each field with its place in _SESSION_OWNER's rows, found once: every page and quote
    # reads its session, and naming ~40 columns per row took longer than the query's SQL.
    return tuple((name, _AT[prefix + name]) for name in names)


_SESSION_AT = _places("", WebSession.__dataclass_fields__)
_USER_AT = _places("u_", User.__dataclass_fields__)
_ACCOUNT_AT = _places("a_", accounts.c.keys())
_STAFF_AT = _places("s_", Staff.__dataclass_fields__)


class SqlAccess(Queries):
    def add_api_key(self, key: ApiKey) -> None:
        self.insert_new(api_keys, rows.values(key), f"API key {key.id}")

    def api_key_by_hash(self, key_hash: str) -> ApiKey | None:
        row = self.first(select(api_keys).where(api_keys.c.key_hash == key_hash))
        return None if row is None else rows.api_key_of(row)

    def list_api_keys(self) -> list[ApiKey]:
        query = select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id)
        return [rows.api_key_of(r) for r in self.all(query)]

    def save_api_key(self, key: ApiKey) -> None:
        self.update(api_keys, api_keys.c.id == key.id, rows.values(key), f"API key {key.id}")

    def add_session(self, session: WebSession) -> None:
        self.insert_new(web_sessions, rows.values(session), "the session")

    def session_by_hash(self, token_hash: str) -> WebSession | None:
        row = self.first(select(web_sessions).where(web_sessions.c.token_hash == token_hash))
        return None if row is None else rows.session_of(row)

    def session_owner(self, token_hash: str) -> SessionOwner | None:
        """One query: the session LEFT JOINed with the user its principal names ("user:<id>",
        matched by primary key on the id after the prefix) and that user's account, or with
        the staff member ("staff:<id>")."""
        row = self.prepared(_SESSION_OWNER, {"token_hash": token_hash}).first()
        if row is None:
            return None
        session = WebSession(**{f: row[i] for f, i in _SESSION_AT})
        user = account = member = None
        if row[_AT["u_id"]] is not None:
            user = User(**{f: row[i] for f, i in _USER_AT})
        if row[_AT["a_id"]] is not None:
            account = rows.account_from({c: row[i] for c, i in _ACCOUNT_AT})
        if row[_AT["s_id"]] is not None:
            member = Staff(**{f: row[i] for f, i in _STAFF_AT})
        return SessionOwner(session, user, account, member)

    def delete_session(self, token_hash: str) -> None:
        self.connection.execute(delete(web_sessions).where(web_sessions.c.token_hash == token_hash))

    def get_idempotency(self, scope: str, key: str, lock: bool = False
                        ) -> IdempotencyRecord | None:
        c = idempotency_records.c
        query = select(idempotency_records).where(c.scope == scope, c.key == key)
        row = self.first(self.locked(query, lock))
        return None if row is None else rows.idempotency_of(row)

    def save_idempotency(self, record: IdempotencyRecord) -> None:
        # `idempotency.respond` catches a taken key and reads the earlier answer.
        self.insert_new(idempotency_records, rows.values(record),
                        f"idempotency key {record.key!r}", caught=True)

    def finish_idempotency(self, record: IdempotencyRecord) -> None:
        self.update_by_key(idempotency_records, ("scope", "key"), (record.scope, record.key),
                           {"status_code": record.status_code, "body": record.body},
                           f"idempotency key {record.key!r}")

    def drop_idempotency(self, scope: str, key: str) -> None:
        c = idempotency_records.c
        self.connection.execute(delete(idempotency_records).where(c.scope == scope,
                                                                  c.key == key))

    def renew_idempotency(self, scope: str, key: str, at: datetime) -> None:
        c = idempotency_records.c
        self.connection.execute(update(idempotency_records).where(
            c.scope == scope, c.key == key, c.status_code == 0).values(created_at=at))

    def purge_idempotency(self, before: datetime) -> int:
        purge = delete(idempotency_records).where(idempotency_records.c.created_at < before)
        return int(self.connection.execute(purge).rowcount)
