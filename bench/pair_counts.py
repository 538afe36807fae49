"""Statements and transactions of one preview + confirm pair, counted in-process (issue 14).

On a scratch PostgreSQL database (as bench/api.py makes it) it signs up one account through
the ASGI app, then runs `--pairs` previews and confirmations of one more seat, every POST
with an Idempotency-Key, and counts what SQLAlchemy sends: statements
(`before_cursor_execute`), commits and rollbacks (the read-only transactions end in one),
and the statements held while a counter is taken, sent in pipelines (one round trip each).
It prints them per request and per pair, the CPU time of this process per pair (client
included: read it against a run of other code on the same machine, not alone), and with
`--verbose` the first pair's statements in order. Statements sent on the transaction's
psycopg connection itself are not seen (COPY, and on PostgreSQL `update_many`: the
confirm's UPDATE of the provider's intent id is one, shown as a transaction of no
statement).

    .venv/bin/python bench/pair_counts.py [--pairs 20] [--verbose]
"""

from __future__ import annotations

import argparse
import collections
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

import api as bench
from canone.db.database import Database
from canone.db.held import Held


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


def count_pairs(client: TestClient, headers: dict[str, str], pairs: int, verbose: bool
                ) -> tuple[dict[str, collections.Counter[str]], float]:
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
        seats += 1
    return counted, time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="canone-pair-counts-"))
    with bench.scratch_database("canone_pair_counts") as url:
        Database(url).migrate()
        key = bench.operator_key(url, tmp)
        os.environ.update(bench.environment(url, tmp))
        from canone.web.app import app_from_env  # reads the settings just set

        with TestClient(app_from_env()) as client:
            counted, cpu = count_pairs(client, {"Authorization": f"Bearer {key}"},
                                       args.pairs, args.verbose)
    pair = counted["preview"] + counted["confirm"]
    for what, counts in (*counted.items(), ("pair", pair)):
        print(what, ", ".join(f"{name} {counts[name] / args.pairs:.2f}"
                              for name in ("statements", "commits", "rollbacks",
                                           "pipelines")))
    print(f"CPU of this process per pair (client included): {1000 * cpu / args.pairs:.1f} ms")


if __name__ == "__main__":
    main()
