"""bench/wire.py: the statements, commits and round trips of a pair, counted from the log of
what psycopg sent (bench/pair_counts.py --sql), as bench/RESULTS.md reports them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_PATH = Path(__file__).resolve().parents[2] / "bench" / "wire.py"
_SPEC = importlib.util.spec_from_file_location("bench_wire", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
wire = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(wire)


def counted(log: list[str]) -> dict[str, int]:
    return dict(wire.wire_counts(log))


def test_a_transaction_of_single_statements_is_a_round_trip_each() -> None:
    # canone's preview: psycopg's BEGIN, four reads and an insert, its COMMIT
    log = ["-- BEGIN ISOLATION LEVEL READ COMMITTED",
           *[f"SELECT {n}\n    {{}}" for n in range(4)],
           "INSERT INTO idempotency_records VALUES (%s)\n    ['k']", "-- COMMIT"]
    assert counted(log) == {"round trips": 7, "statements": 5, "commits": 1}


def test_a_pipeline_is_one_round_trip_whatever_it_holds() -> None:
    log = ["-- BEGIN READ WRITE", "SELECT 1\n    None",
           "-- (pipeline: one round trip from here)",
           "INSERT INTO invoices VALUES (%s)\n    ['i']",
           "(many) INSERT INTO invoice_lines VALUES (%s)\n    [['a'], ['b']]",
           "COMMIT\n    None", "-- (end of pipeline)"]
    assert counted(log) == {"round trips": 3, "statements": 3, "commits": 1}


def test_a_statement_alone_in_autocommit_commits_only_if_it_writes() -> None:
    log = ["-- (autocommit: a transaction of its own)", "SELECT a.id FROM accounts a\n    {}",
           "-- (autocommit: a transaction of its own)",
           "UPDATE payment_intents SET provider_id = %s\n    ['pi']",
           "-- (autocommit: a transaction of its own)",
           "WITH claim AS (INSERT INTO idempotency_records VALUES (1)) SELECT 1\n    {}"]
    assert counted(log) == {"round trips": 3, "statements": 3, "commits": 2}


def test_an_explicit_begin_and_commit_in_a_pipeline_are_no_statements() -> None:
    # bench/api_least.py's transactions: BEGIN, the lock, the writes, COMMIT in one trip
    log = ["-- (pipeline: one round trip from here)", "BEGIN\n    None",
           "SELECT 1 FROM subscriptions FOR UPDATE\n    {}",
           "WITH claim AS (INSERT INTO idempotency_records VALUES (1)) SELECT 1\n    {}",
           "COMMIT\n    None", "-- (end of pipeline)"]
    assert counted(log) == {"round trips": 1, "statements": 2, "commits": 1}
