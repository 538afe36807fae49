"""The persistence adapter: `Database(url)` (SQLite file or PostgreSQL) and its `SqlStore`."""

from canone.db.database import Database, NotMigrated
from canone.db.store import SqlStore

__all__ = ["Database", "NotMigrated", "SqlStore"]
