"""`SqlStore`: the `Store` port (one unit of work) on one SQLAlchemy connection inside one
transaction; its repositories share that connection.

Reads that return several records with children (invoice lines, request history) fetch the
children in one IN () query. Lists are ordered as the port says; paginated lists take the
id of the last row seen as `after`.
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property

from sqlalchemy import select

from canone.db.access import SqlAccess
from canone.db.accounts import SqlAccounts, SqlPeople
from canone.db.documents import SqlDocuments
from canone.db.invoices import SqlInvoices, SqlSubscriptions
from canone.db.outbox import SqlOutbox
from canone.db.payments import SqlLedger, SqlPayments
from canone.db.queries import Queries
from canone.db.requests import SqlAudit, SqlRequests, SqlUsage
from canone.db.tables import clock_override


class SqlStore(Queries):
    # Each repository is made when first used: most transactions use two or three.
    @cached_property
    def accounts(self) -> SqlAccounts:
        return SqlAccounts(self.connection)

    @cached_property
    def people(self) -> SqlPeople:
        return SqlPeople(self.connection)

    @cached_property
    def subscriptions(self) -> SqlSubscriptions:
        return SqlSubscriptions(self.connection)

    @cached_property
    def invoices(self) -> SqlInvoices:
        return SqlInvoices(self.connection)

    @cached_property
    def payments(self) -> SqlPayments:
        return SqlPayments(self.connection)

    @cached_property
    def ledger(self) -> SqlLedger:
        return SqlLedger(self.connection)

    @cached_property
    def requests(self) -> SqlRequests:
        return SqlRequests(self.connection)

    @cached_property
    def audit(self) -> SqlAudit:
        return SqlAudit(self.connection)

    @cached_property
    def usage(self) -> SqlUsage:
        return SqlUsage(self.connection)

    @cached_property
    def outbox(self) -> SqlOutbox:
        return SqlOutbox(self.connection)

    @cached_property
    def access(self) -> SqlAccess:
        return SqlAccess(self.connection)

    @cached_property
    def documents(self) -> SqlDocuments:
        return SqlDocuments(self.connection)

    def flush(self, commit: bool = False) -> None:
        """Write what the repositories hold back until the commit (audit entries, events),
        and the writes held since a counter was taken (`canone.db.held`), before the
        transaction commits: `Database.transaction` calls it, to `commit` with the held
        writes in one round trip (SQLAlchemy's COMMIT then finds nothing left to do)."""
        if "audit" in self.__dict__:  # (made when first used)
            self.audit.flush()
        if "outbox" in self.__dict__:
            self.outbox.flush()
        self.send_held(commit)

    # -- the test clock --------------------------------------------------------------

    def clock_override(self) -> datetime | None:
        now: datetime | None = self.connection.execute(select(clock_override.c.now)).scalar()
        return now

    def set_clock_override(self, now: datetime) -> None:
        self.connection.execute(self.upsert(clock_override).values(id=1, now=now)
                                .on_conflict_do_update(index_elements=[clock_override.c.id],
                                                       set_={"now": now}))
