"""Migration 0009: payment intents are stored with room on their pages on PostgreSQL (so
the update of an intent's provider id is a HOT update), and a downgrade gives it back."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text

from canone.db.database import Database

_OPTIONS = "SELECT reloptions FROM pg_class WHERE relname = 'payment_intents'"


@pytest.mark.postgres
@pytest.mark.parametrize("empty_database", ["postgres"], indirect=True)
def test_payment_intents_leave_half_of_each_page_for_their_updates(
        empty_database: Database) -> None:
    empty_database.migrate()
    with empty_database.engine.connect() as connection:
        assert connection.execute(text(_OPTIONS)).scalar_one() == ["fillfactor=50"]

    with empty_database.engine.begin() as connection:
        command.downgrade(empty_database.alembic_config(connection), "0008")

    with empty_database.engine.connect() as connection:
        assert connection.execute(text(_OPTIONS)).scalar_one() is None
