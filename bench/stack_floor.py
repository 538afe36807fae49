"""The floor under bench/api.py: what the web stack alone reaches on this machine.

A FastAPI app with no billing in it, served exactly as `canone serve` is (uvicorn,
httptools + uvloop, the same number of workers), driven by wrk (a C load generator, so the
client costs next to nothing):

- `POST /noop`: a JSON body validated by pydantic, a JSON answer; no database.
- `POST /transaction`: the same, plus one committed PostgreSQL transaction of two statements
  (a read by primary key and an insert) through SQLAlchemy Core and psycopg, from a sync
  route, the way canone's services run.
- `POST /transaction-async`: the same transaction on a raw async psycopg connection, from
  an async route: the leanest way this stack has to reach PostgreSQL.

A preview + confirm pair is two such requests that must do more: the confirm commits its
payment intent before the card is charged and settles it in a second transaction, and both
POSTs keep an Idempotency-Key record. So half the requests per second of `/transaction` is
an upper bound on pairs per second that no work inside canone can beat.

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
from pathlib import Path
from typing import Any

from pydantic import BaseModel

WHAT = {  # each endpoint, as bench/RESULTS.md describes it
    "noop": "pydantic body in, JSON out, no database",
    "transaction": "one committed transaction (a read by key, an insert), SQLAlchemy Core "
                   "+ psycopg, from a sync route as canone's",
    "transaction-async": "the same transaction on a raw async psycopg connection",
}
ENDPOINTS = tuple(WHAT)
BODY = '{"product":"marketing","tier":"plus","seats":7}'


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

    return app


def _prepare(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE TABLE item (id int PRIMARY KEY, value text NOT NULL)")
        connection.execute("INSERT INTO item SELECT g, 'v' || g FROM generate_series(0, 99) g")
        connection.execute("CREATE TABLE entry (id bigserial PRIMARY KEY, item_id int NOT NULL,"
                           " note text NOT NULL)")


def wrk(base: str, endpoint: str, seconds: int, connections: int, script: Path) -> float:
    """Requests per second wrk reached against one endpoint (every answer must be 200)."""
    run = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "-s", str(script),
         f"{base}/{endpoint}"], check=True, capture_output=True, text=True)
    if "Non-2xx" in run.stdout or "Socket errors" in run.stdout:
        raise RuntimeError(f"{endpoint}: wrk saw errors\n{run.stdout}")
    found = re.search(r"Requests/sec:\s+([0-9.]+)", run.stdout)
    if found is None or float(found.group(1)) == 0:
        raise RuntimeError(f"{endpoint}: wrk got no answers\n{run.stdout}")
    return float(found.group(1))


def measure(url: str, workers: int, seconds: int, connections: int = 16) -> dict[str, float]:
    """Requests per second of each endpoint, on a scratch database at `url`."""
    from api import free_port, serving  # bench/api.py: the same start and stop of a server

    if shutil.which("wrk") is None:
        raise SystemExit("stack floor: wrk is not installed (apt-get install wrk)")
    _prepare(url)
    tmp = Path(tempfile.mkdtemp(prefix="canone-bench-floor-"))
    try:
        script = tmp / "post.lua"
        script.write_text(f"wrk.method = 'POST'\nwrk.body = '{BODY}'\n"
                          "wrk.headers['Content-Type'] = 'application/json'\n")
        port = free_port()
        command = [sys.executable, "-m", "uvicorn", "stack_floor:create_app", "--factory",
                   "--app-dir", str(Path(__file__).parent), "--port", str(port),
                   "--workers", str(workers), "--http", "httptools", "--loop", "uvloop",
                   "--log-level", "warning"]
        env = {**os.environ, "FLOOR_DATABASE_URL": url, "BENCH_TMP": str(tmp)}
        base = f"http://127.0.0.1:{port}"
        with serving(command, env, port):
            for endpoint in ENDPOINTS:  # warm every worker's imports and connections
                wrk(base, endpoint, 2, connections, script)
            return {endpoint: wrk(base, endpoint, seconds, connections, script)
                    for endpoint in ENDPOINTS}
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
        print(f"POST /{endpoint}: {rate:,.0f} requests/s = {rate / 2:,.0f} pairs/s at most")


if __name__ == "__main__":
    main()
