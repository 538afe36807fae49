"""Statements and transactions of one preview + confirm pair, counted in-process (issue 14).

On a scratch PostgreSQL database (as bench/api.py makes it) it signs up one account through
the ASGI app, then runs `--pairs` previews and confirmations of one more seat, every POST
with an Idempotency-Key, and counts what SQLAlchemy sends: statements
(`before_cursor_execute`), commits and rollbacks (on PostgreSQL reads run in autocommit and
end in neither; a transaction that fails ends in a rollback),
the statements held while a counter is taken, sent in pipelines (one round trip each), and
the prepared reads and single-row writes run on the psycopg connection (`RawSelect`,
`Queries._written`).
It prints them per request and per pair, the CPU time of this process per pair (client
included: read it against a run of other code on the same machine, not alone), and with
`--verbose` the first pair's statements in order. Statements sent on the transaction's
psycopg connection itself are not seen (COPY, and on PostgreSQL `update_many`: the
confirm's UPDATE of the provider's intent id is one, shown as a transaction of no
statement). `--sql` prints instead what psycopg sends for the first pair, whole, with its
parameters: every statement, those bypassing SQLAlchemy included, and BEGIN, COMMIT and
the pipelines (bench/api_rows.py replays them).

    .venv/bin/python bench/pair_counts.py [--pairs 20] [--verbose | --sql]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import importlib
import os
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from wire import wire_counts

import api as bench
from canone.db.database import Database
from canone.db.held import Held
from canone.db.queries import Queries, RawSelect

WIRE: list[str] | None = None  # what psycopg sends, kept while `--sql` asks for it


def tap_psycopg() -> None:
    """Log into `WIRE` each statement psycopg sends (sync or async) with its parameters,
    the transactions' BEGIN, COMMIT and ROLLBACK, and the pipelines' boundaries."""
    import psycopg
    from psycopg._connection_base import BaseConnection

    def note(line: str) -> None:
        if WIRE is not None:
            WIRE.append(line)

    def wrap(cls: Any, name: str, many: bool) -> None:
        original = getattr(cls, name)

        def tapped(self: Any, sql: Any, params: Any = None, *args: Any, **kwargs: Any) -> Any:
            connection = self.connection
            idle = connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
            if not connection.autocommit and connection._pipeline is None and idle:
                note(f"-- {connection._get_tx_start_command().decode()}")  # sent first
            elif connection.autocommit and idle and connection._pipeline is None:
                note("-- (autocommit: a transaction of its own)")
            note(f"{'(many) ' if many else ''}{sql}\n    {params!r}")
            return original(self, sql, params, *args, **kwargs)

        setattr(cls, name, tapped)

    for cls in (psycopg.Cursor, psycopg.AsyncCursor):
        wrap(cls, "execute", False)
        wrap(cls, "executemany", True)
    command = BaseConnection._exec_command

    def commanded(self: Any, sql: Any, *args: Any, **kwargs: Any) -> Any:
        text = bytes(sql).decode() if isinstance(sql, bytes) else str(sql)
        if not text.startswith("BEGIN"):  # (noted with the statement it comes before)
            note(f"-- {text}")
        return (yield from command(self, sql, *args, **kwargs))

    BaseConnection._exec_command = commanded  # type: ignore[method-assign]
    pipeline, async_pipeline = psycopg.Connection.pipeline, psycopg.AsyncConnection.pipeline

    @contextlib.contextmanager
    def piped(self: Any) -> Any:
        note("-- (pipeline: one round trip from here)")
        with pipeline(self) as p:
            yield p
        note("-- (end of pipeline)")

    @contextlib.asynccontextmanager
    async def async_piped(self: Any) -> Any:
        note("-- (pipeline: one round trip from here)")
        async with async_pipeline(self) as p:
            yield p
        note("-- (end of pipeline)")

    psycopg.Connection.pipeline = piped  # type: ignore[method-assign,assignment]
    psycopg.AsyncConnection.pipeline = async_piped  # type: ignore[method-assign,assignment]


def replay_pair(url: str, headers: dict[str, str], module: str) -> None:
    """One pair through a replay's app (bench/api_rows.py's or bench/api_least.py's), in
    this process, its statements printed as canone's are (to compare them), and counted."""
    global WIRE
    os.environ["FLOOR_DATABASE_URL"] = bench._libpq(url)
    replay = importlib.import_module(module)

    with TestClient(replay.create_app()) as client:
        path = f"/api/v1/accounts/{_an_account(url)}/subscription"
        token = ""
        for what in ("preview", "confirm"):
            WIRE = []
            body = ({"target": {**bench.CONFIG, "seats": 99}} if what == "preview"
                    else {"quote_token": token})
            response = client.post(f"{path}/{what}", json=body,
                                   headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
            response.raise_for_status()
            token = response.json().get("quote_token", "")
            print(f"--- replayed {what}", *WIRE, sep="\n")
            print(f"{module} {what}: " + ", ".join(
                f"{name} {number}" for name, number in wire_counts(WIRE).items()))
    WIRE = None


def _an_account(url: str) -> str:
    with bench.psycopg.connect(bench._libpq(url)) as connection:
        row = connection.execute("SELECT id FROM accounts LIMIT 1").fetchone()
    return str(row[0]) if row else ""


class Counter:
    """What the engine sends, from the moment it is made; `log` keeps each line when asked."""

    def __init__(self, verbose: bool) -> None:
        self.counts: collections.Counter[str] = collections.Counter()
        self.log: list[str] = []
        self.verbose = verbose
        event.listen(Engine, "before_cursor_execute", self._statement)
        event.listen(Engine, "commit", lambda _: self._note("commits", "COMMIT"))
        event.listen(Engine, "rollback", lambda _: self._note("rollbacks", "ROLLBACK"))
        send = Held.send

        def sent(held: Held, then: Sequence[tuple[str, Any]] = (), commit: bool = False
                 ) -> Any:
            for sql, *_ in [*held.writes, *then]:
                self._note("statements", f"  (held) {sql[:92]}")
            if held.writes or then:
                self._note("pipelines", "  (one round trip for the held statements above"
                           + (", and the COMMIT)" if commit else ")"))
            return send(held, then, commit)

        Held.send = sent  # type: ignore[method-assign]
        read = RawSelect.rows

        def raw(select: RawSelect, connection: Any, values: dict[str, Any]) -> Any:
            self._note("statements", select.sql.split("\n")[0][:100])
            return read(select, connection, values)

        RawSelect.rows = raw  # type: ignore[method-assign]
        write = Queries._written

        def written(queries: Queries, sql: str, params: list[Any]) -> int:
            self._note("statements", sql[:100])
            return write(queries, sql, params)

        Queries._written = written  # type: ignore[method-assign]

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self._note("statements", statement.split("\n")[0][:100])

    def _note(self, what: str, line: str) -> None:
        self.counts[what] += 1
        if self.verbose:
            self.log.append(line)

    def take(self) -> tuple[collections.Counter[str], list[str]]:
        counts, log = self.counts, self.log
        self.counts, self.log = collections.Counter(), []
        return counts, log


def sign_up(client: TestClient, headers: dict[str, str]) -> str:
    body = {"name": "Counted", "timezone": "UTC", "locale": "en", "currency": "EUR",
            "billing_details": bench.BILLING_DETAILS, "subscription": bench.CONFIG,
            "primary_admin": {"email": "counted@example.com", "name": "Counted",
                              "password": "benchmark-password"},
            "payment_method": {"number": "4242424242424242", "exp_month": 12,
                               "exp_year": date.today().year + 3, "cvc": "123"}}
    response = client.post("/api/v1/accounts", json=body,
                           headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
    response.raise_for_status()
    account_id: str = response.json()["id"]
    return account_id


def count_pairs(client: TestClient, headers: dict[str, str], pairs: int, verbose: bool,
                sql: bool = False) -> tuple[dict[str, collections.Counter[str]], float]:
    """Per request kind, the counts over `pairs` pairs (after one not counted), and the
    process's CPU seconds for them."""
    account = sign_up(client, headers)
    path = f"/api/v1/accounts/{account}/subscription"
    counter = Counter(verbose)
    counted: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    seats, started, token = 1, 0.0, ""
    for n in range(pairs + 1):
        if n == 1:
            started = time.process_time()
        for what in ("preview", "confirm"):
            counter.take()
            global WIRE
            WIRE = [] if sql and n == 1 else None
            body = ({"target": {**bench.CONFIG, "seats": seats + 1}} if what == "preview"
                    else {"quote_token": token})
            response = client.post(f"{path}/{what}", json=body,
                                   headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
            if response.status_code != 200:
                raise RuntimeError(f"{what}: {response.status_code} {response.text}")
            token = response.json().get("quote_token", "")
            counts, log = counter.take()
            if n > 0:
                counted[what].update(counts)
            if verbose and n == 1:
                print(f"--- {what}", *log, sep="\n")
            if WIRE is not None:
                print(f"--- {what}", *WIRE, sep="\n")
                print(f"canone {what}: " + ", ".join(
                    f"{name} {number}" for name, number in wire_counts(WIRE).items()))
        seats += 1
    return counted, time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--sql", action="store_true",
                        help="print the first pair's statements as psycopg sends them")
    parser.add_argument("--replay", nargs="?", const="api_rows", metavar="MODULE",
                        help="with --sql: then a pair of bench/api_rows.py's (or of MODULE's,"
                        " e.g. api_least), the same way")
    args = parser.parse_args()
    if args.sql:
        tap_psycopg()
    tmp = Path(tempfile.mkdtemp(prefix="canone-pair-counts-"))
    with bench.scratch_database("canone_pair_counts") as url:
        Database(url).migrate()
        key = bench.operator_key(url, tmp)
        os.environ.update(bench.environment(url, tmp))
        from canone.web.app import app_from_env  # reads the settings just set

        with TestClient(app_from_env()) as client:
            headers = {"Authorization": f"Bearer {key}"}
            counted, cpu = count_pairs(client, headers, args.pairs, args.verbose, args.sql)
        if args.sql and args.replay:
            replay_pair(url, headers, args.replay)
    pair = counted["preview"] + counted["confirm"]
    for what, counts in (*counted.items(), ("pair", pair)):
        print(what, ", ".join(f"{name} {counts[name] / args.pairs:.2f}"
                              for name in ("statements", "commits", "rollbacks",
                                           "pipelines")))
    print(f"CPU of this process per pair (client included): {1000 * cpu / args.pairs:.1f} ms")


if __name__ == "__main__":
    main()
