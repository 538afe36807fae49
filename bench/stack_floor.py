"""The floor under bench/api.py: what the web stack alone reaches on this machine.

A FastAPI app with no billing in it, served exactly as `canone serve` is (uvicorn,
httptools + uvloop, the same number of workers), driven by wrk (a C load generator, so the
client costs next to nothing), each request for a random one of 1,000 rows:

- `POST /noop`: a JSON body validated by pydantic, a JSON answer; no database.
- `POST /transaction`: the same, plus one committed PostgreSQL transaction of two statements
  (a read by primary key and an insert) through SQLAlchemy Core and psycopg, from a sync
  route, the way canone's services run.
- `POST /transaction-async`: the same transaction on a raw async psycopg connection, from
  an async route: the leanest way this stack has to reach PostgreSQL.
- `POST /pair-work`: on that leanest path, the database work no preview + confirm pair can
  do without: the preview's read (one transaction, two reads by key); the confirm's intent,
  committed before the card is charged (a row locked, an insert); its settlement (the
  subscription updated, invoice, payment and event inserted, the intent updated). Three
  commits, nine statements on narrow tables: less than canone writes (no invoice lines,
  number counter, audit entries, email, Idempotency-Key records or API-key check).

- `POST /pair-work-sync`: the same work through SQLAlchemy Core from a sync route, the
  stack DESIGN.md chose and canone uses.

A pair is two HTTP requests, so the most pairs per second this stack can serve is one
`/pair-work` plus one `/noop` per pair: 1 / (1 / pair-work rate + 1 / noop rate), each rate
measured with the machine saturated (and the same with `/pair-work-sync`).

    .venv/bin/python bench/stack_floor.py [--workers 2] [--seconds 10]

(bench/api.py runs it in the same session as its own measurement and pgbench.)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

WHAT = {  # each endpoint, as bench/RESULTS.md describes it
    "noop": "pydantic body in, JSON out, no database",
    "transaction": "one committed transaction (a read by key, an insert), SQLAlchemy Core "
                   "+ psycopg, from a sync route as canone's",
    "transaction-async": "the same transaction on a raw async psycopg connection",
    "pair-work": "on that path, the database work of a pair: 3 commits, 9 statements",
    "pair-work-sync": "the same work through SQLAlchemy Core from a sync route, as canone",
}
ENDPOINTS = tuple(WHAT)
RATIO_ENDPOINTS = ("noop", "pair-work")  # all issue 14's goal needs (`pairs_at_most`)
ROWS = 1000  # requests pick one at random, so concurrent ones rarely wait for a lock


class Body(BaseModel):
    product: str
    tier: str
    seats: int


def create_app() -> Any:
    """The app uvicorn serves (factory): the database URL comes from FLOOR_DATABASE_URL."""
    import psycopg
    from fastapi import FastAPI
    from sqlalchemy import create_engine, text

    url = os.environ["FLOOR_DATABASE_URL"]
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1),
                           pool_size=10, pool_pre_ping=False)
    app = FastAPI()
    read = text("SELECT value FROM item WHERE id = :id")
    write = text("INSERT INTO entry (item_id, note) VALUES (:id, :note)")
    version = text("SELECT version FROM item WHERE id = :id")
    lock = text("SELECT version FROM item WHERE id = :id FOR UPDATE")
    intend = text("INSERT INTO entry (item_id, note) VALUES (:id, 'intent') RETURNING id")
    bump = text("UPDATE item SET version = version + 1 WHERE id = :id")
    settle = text("UPDATE entry SET note = 'paid' WHERE id = :intent")

    @app.post("/noop")
    def noop(body: Body) -> dict[str, Any]:
        return {"ok": True, "seats": body.seats}

    @app.post("/transaction")
    def transaction(body: Body) -> dict[str, Any]:
        with engine.begin() as connection:
            value = connection.execute(read, {"id": body.seats}).scalar_one()
            connection.execute(write, {"id": body.seats, "note": body.product})
        return {"ok": True, "value": value}

    connections: asyncio.Queue[psycopg.AsyncConnection[Any]] = asyncio.Queue()
    opened = 0

    async def borrow() -> psycopg.AsyncConnection[Any]:
        nonlocal opened
        if connections.empty() and opened < 10:  # no await between test and count
            opened += 1
            return await psycopg.AsyncConnection.connect(url)
        return await connections.get()

    @app.post("/transaction-async")
    async def transaction_async(body: Body) -> dict[str, Any]:
        connection = await borrow()
        try:
            async with connection.transaction():
                cursor = await connection.execute(
                    "SELECT value FROM item WHERE id = %s", (body.seats,))
                row = await cursor.fetchone()
                await connection.execute("INSERT INTO entry (item_id, note) VALUES (%s, %s)",
                                         (body.seats, body.product))
        finally:
            connections.put_nowait(connection)
        return {"ok": True, "value": row[0] if row else None}

    @app.post("/pair-work-sync")
    def pair_work_sync(body: Body) -> dict[str, Any]:
        key = {"id": body.seats}
        with engine.begin() as connection:  # the preview reads
            connection.execute(read, key).one()
            connection.execute(version, key).one()
        with engine.begin() as connection:  # the intent, before the charge
            connection.execute(lock, key)
            intent = connection.execute(intend, key).scalar_one()
        with engine.begin() as connection:  # the settlement
            connection.execute(bump, key)
            for note in ("invoice", "payment", "event"):
                connection.execute(write, {**key, "note": note})
            connection.execute(settle, {"intent": intent})
        return {"ok": True}

    @app.post("/pair-work")
    async def pair_work(body: Body) -> dict[str, Any]:
        connection = await borrow()
        key = body.seats
        try:
            async with connection.transaction():  # the preview reads
                await (await connection.execute("SELECT value FROM item WHERE id = %s",
                                                (key,))).fetchone()
                await (await connection.execute("SELECT version FROM item WHERE id = %s",
                                                (key,))).fetchone()
            async with connection.transaction():  # the intent, before the charge
                await connection.execute("SELECT version FROM item WHERE id = %s FOR UPDATE",
                                         (key,))
                cursor = await connection.execute(
                    "INSERT INTO entry (item_id, note) VALUES (%s, 'intent') RETURNING id",
                    (key,))
                intent = await cursor.fetchone()
            async with connection.transaction():  # the settlement
                await connection.execute("UPDATE item SET version = version + 1 "
                                         "WHERE id = %s", (key,))
                for note in ("invoice", "payment", "event"):
                    await connection.execute(
                        "INSERT INTO entry (item_id, note) VALUES (%s, %s)", (key, note))
                await connection.execute("UPDATE entry SET note = 'paid' WHERE id = %s",
                                         (intent[0] if intent else None,))
        finally:
            connections.put_nowait(connection)
        return {"ok": True}

    return app


def _prepare(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE TABLE item (id int PRIMARY KEY, value text NOT NULL, "
                           "version int NOT NULL)")
        connection.execute("INSERT INTO item SELECT g, 'v' || g, 1 "
                           f"FROM generate_series(0, {ROWS - 1}) g")
        connection.execute("CREATE TABLE entry (id bigserial PRIMARY KEY, item_id int NOT NULL,"
                           " note text NOT NULL)")


def wrk(base: str, endpoint: str, seconds: float, connections: int, script: Path) -> float:
    """Requests per second wrk reached against one endpoint (every answer must be 200)."""
    run = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds:g}s", "-s", str(script),
         f"{base}/{endpoint}"], check=True, capture_output=True, text=True)
    if "Non-2xx" in run.stdout or "Socket errors" in run.stdout:
        raise RuntimeError(f"{endpoint}: wrk saw errors\n{run.stdout}")
    found = re.search(r"Requests/sec:\s+([0-9.]+)", run.stdout)
    if found is None or float(found.group(1)) == 0:
        raise RuntimeError(f"{endpoint}: wrk got no answers\n{run.stdout}")
    return float(found.group(1))


def uvicorn_command(app: str, port: int, workers: int) -> list[str]:
    """uvicorn serving `app` (`module:factory` of bench/) as `canone serve` serves canone."""
    return [sys.executable, "-m", "uvicorn", app, "--factory", "--app-dir",
            str(Path(__file__).parent), "--port", str(port), "--workers", str(workers),
            "--http", "httptools", "--loop", "uvloop", "--log-level", "warning"]


def measure(url: str, workers: int, seconds: float, connections: int = 16,
            endpoints: tuple[str, ...] = ENDPOINTS,
            cpu: dict[str, dict[str, float]] | None = None,
            cpu_of: Callable[[int], dict[str, float]] | None = None) -> dict[str, float]:
    """Requests per second of each of `endpoints`, on a scratch database at `url`; and in
    `cpu` when given, each one's CPU milliseconds a request of the server's processes and
    of PostgreSQL's (all of them: other work's too; or as `cpu_of(server pid)` counts
    them, CPU seconds so far by group)."""
    from api import cpu_by_group, free_port, serving  # bench/api.py's

    cpu_of = cpu_of or (lambda pid: cpu_by_group(pid, set()))

    if shutil.which("wrk") is None:
        raise SystemExit("stack floor: wrk is not installed (apt-get install wrk)")
    _prepare(url)
    tmp = Path(tempfile.mkdtemp(prefix="canone-bench-floor-"))
    try:
        script = tmp / "post.lua"
        script.write_text(
            "wrk.method = 'POST'\nwrk.headers['Content-Type'] = 'application/json'\n"
            "request = function()\n  return wrk.format(nil, nil, nil, string.format(\n"
            "    '{\"product\":\"marketing\",\"tier\":\"plus\",\"seats\":%d}', "
            f"math.random(0, {ROWS - 1})))\nend\n")
        port = free_port()
        command = uvicorn_command("stack_floor:create_app", port, workers)
        env = {**os.environ, "FLOOR_DATABASE_URL": url, "BENCH_TMP": str(tmp)}
        base = f"http://127.0.0.1:{port}"
        with serving(command, env, port) as server:
            for endpoint in endpoints:  # warm every worker's imports and connections
                wrk(base, endpoint, 2, connections, script)
            found = {}
            for endpoint in endpoints:
                before = cpu_of(server.pid)
                found[endpoint] = wrk(base, endpoint, seconds, connections, script)
                after = cpu_of(server.pid)
                if cpu is not None:
                    cpu[endpoint] = {group: 1000 * (after[group] - before.get(group, 0.0))
                                     / (found[endpoint] * seconds) for group in after}
            return found
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    from api import _libpq, scratch_database

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    with scratch_database("canone_bench_floor") as url:
        found = measure(_libpq(url), args.workers, args.seconds)
    for endpoint, rate in found.items():
        print(f"POST /{endpoint}: {rate:,.0f} requests/s")
    print(f"pairs/s at most: {pairs_at_most(found):,.0f} (async psycopg), "
          f"{pairs_at_most(found, 'pair-work-sync'):,.0f} (SQLAlchemy, sync)")


def pairs_at_most(found: dict[str, float], work: str = "pair-work") -> float:
    """A pair's two requests, one with all the database work: their costs (machine-seconds
    per request, each measured with the machine saturated) add up."""
    return 1 / (1 / found[work] + 1 / found["noop"])


if __name__ == "__main__":
    main()
