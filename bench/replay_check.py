"""Do the replays write the rows canone writes? One pair of each, compared (issue 14, goal 1).

On a scratch PostgreSQL database, a canone pair (through the ASGI app, as
bench/pair_counts.py makes it), then one pair of bench/api_rows.py's exact replay and one of
bench/api_least.py's (REPLAY_ROWS all, then required) on the same account, each in this
process. For every table a pair writes, the rows each replay's pair added are compared with
those of api_rows' pair, ids, invoice numbers, file progressives and times masked: it prints
each difference (a row count, or a column's value), so "no differences" means the same rows
with the same values. Then api_least's guarantees under concurrent confirmations: one quote
confirmed 6 times at once is charged once, 6 quotes of one account confirmed at once settle
one (the others are answered 409), and no intent is paid twice.

    .venv/bin/python bench/replay_check.py
"""

from __future__ import annotations

import asyncio
import importlib
import os
import re
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pair_counts
from api_rows import keep_templates
from fastapi.testclient import TestClient

import api as bench
from canone.db.database import Database

# Each table, and how the rows a pair added are found (those after the ones there before).
ADDED = {"invoices": "issued_at", "invoice_lines": "invoice_id, position",
         "einvoices": "created_at", "outbox": "seq", "payments": "created_at",
         "audit_entries": "seq", "events": "seq", "webhook_deliveries": "created_at",
         "payment_intents": "created_at", "idempotency_records": "created_at"}
_MASKS = [(re.compile(r"\b(inv|pay|einv|ntf|aud|evt|chg|pi|ch|whd)_[0-9a-f]{8,40}"), r"\1_…"),
          (re.compile(r"\b20\d\d-\d{6}\b"), "<number>"),
          (re.compile(r"_[0-9A-Z]{5}\.xml"), "_<progressive>.xml"),
          (re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?(\+00:00)?"), "<time>"),
          (re.compile(r'"(subscription_)?version":\d+'), r'"\1version":<n>'),
          (re.compile(r'"(quote_token|nonce)":"[^"]*"'), r'"\1":"…"')]
UNCOMPARED = {"idempotency_records": ("key", "fingerprint")}  # each request's own
SEATS = 40  # what every replayed pair asks for (replays do not price: the same answers)


def masked(value: Any) -> str:
    text = bytes(value).decode() if isinstance(value, bytes | memoryview) else str(value)
    for pattern, mask in _MASKS:
        text = pattern.sub(mask, text)
    return text


def rows(url: str) -> dict[str, dict[tuple[Any, ...], dict[str, str]]]:
    """Each table's rows by their values as stored (ids and times make each one's own),
    masked for comparing, in the order `ADDED` gives."""
    with bench.psycopg.connect(url) as connection:
        connection.row_factory = bench.psycopg.rows.dict_row
        return {table: {tuple(row.values()): {
            column: masked(value) for column, value in row.items()
            if column != "seq" and column not in UNCOMPARED.get(table, ())}
            for row in connection.execute(f"SELECT * FROM {table} ORDER BY {order}")}
            for table, order in ADDED.items()}


def one_pair(app: Any, account: str, headers: dict[str, str], seats: int) -> None:
    with TestClient(app) as client:
        path = f"/api/v1/accounts/{account}/subscription"
        token = ""
        for what, body in (("preview", {"target": {**bench.CONFIG, "seats": seats}}),
                           ("confirm", None)):
            response = client.post(f"{path}/{what}", json=body or {"quote_token": token},
                                   headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
            if response.status_code != 200:
                raise RuntimeError(f"{what}: {response.status_code} {response.text}")
            token = response.json().get("quote_token", "")


def _apart(theirs: str, ours: str) -> str:
    """Where two values part: the text around it in each."""
    at = next((n for n, (a, b) in enumerate(zip(theirs, ours, strict=False)) if a != b),
              min(len(theirs), len(ours)))
    return f"…{theirs[max(0, at - 30):at + 50]!r}, not …{ours[max(0, at - 30):at + 50]!r}"


def differences(base: dict[str, list[dict[str, str]]], other: dict[str, list[dict[str, str]]]
                ) -> list[str]:
    found = []
    for table in ADDED:
        if len(base[table]) != len(other[table]):
            found.append(f"{table}: {len(other[table])} rows, not {len(base[table])}")
            continue
        for ours, theirs in zip(base[table], other[table], strict=True):
            found += [f"{table}.{column}: {_apart(theirs[column], value)}"
                      for column, value in ours.items() if theirs[column] != value]
    return found


async def races(app: Any, account: str, headers: dict[str, str]) -> list[str]:
    """One quote confirmed 6 times at once, then 6 quotes of the account confirmed at once:
    what each set of answers was (one 200 each, the others 409, is the guarantee)."""
    import httpx

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://replay") as client:
        async def post(what: str, body: dict[str, Any]) -> httpx.Response:
            return await client.post(
                f"/api/v1/accounts/{account}/subscription/{what}", json=body,
                headers={**headers, "Idempotency-Key": uuid.uuid4().hex})

        async def quote() -> str:
            token: str = (await post("preview", {"target": {**bench.CONFIG, "seats": SEATS}})
                          ).json()["quote_token"]
            return token

        found = []
        for name in ("one quote 6 times", "6 quotes"):  # (each quoted after the last race)
            once = await quote()
            confirmed = [once] * 6 if name == "one quote 6 times" else [
                once, *[await quote() for _ in range(5)]]
            answers = await asyncio.gather(*(post("confirm", {"quote_token": token})
                                             for token in confirmed))
            found.append(f"{name}: " + ", ".join(sorted(
                f"{answer.status_code} {answer.text[:40] if answer.status_code != 200 else ''}"
                for answer in answers)))
    return found


def charged_twice(url: str, sandbox: str) -> str:
    """Intents paid twice, in canone's payments and on the sandbox network."""
    import sqlite3

    with bench.psycopg.connect(url) as connection:
        (payments,) = connection.execute(
            "SELECT count(*) FROM (SELECT idempotency_key FROM payments GROUP BY 1 HAVING "
            "count(*) > 1) twice").fetchone() or (None,)
    network = sqlite3.connect(sandbox)
    (charges,) = network.execute("SELECT count(*) FROM (SELECT idempotency_key FROM charges "
                                 "GROUP BY 1 HAVING count(*) > 1)").fetchone()
    network.close()
    return f"intents paid twice: {payments} (payments), {charges} (sandbox charges)"


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="canone-replay-check-"))
    with bench.scratch_database("canone_replay_check") as url:
        Database(url).migrate()
        key = bench.operator_key(url, tmp)
        os.environ.update(bench.environment(url, tmp))
        os.environ["FLOOR_DATABASE_URL"] = bench._libpq(url)
        from canone.web.app import app_from_env  # reads the settings just set

        headers = {"Authorization": f"Bearer {key}"}
        with TestClient(app_from_env()) as client:
            pair_counts.sign_up(client, headers)
        account = pair_counts._an_account(url)
        one_pair(app_from_env(), account, headers, SEATS)
        os.environ.update(keep_templates(bench._libpq(url), tmp / "rows"))  # canone's rows
        added: dict[str, dict[str, list[dict[str, str]]]] = {}
        for module, kept in (("api_rows", ""), ("api_least", "all"), ("api_least", "required")):
            before = rows(bench._libpq(url))
            os.environ["REPLAY_ROWS"] = kept
            one_pair(importlib.import_module(module).create_app(), account, headers, SEATS)
            after = rows(bench._libpq(url))
            added[f"{module} {kept}".strip()] = {
                table: [row for stored, row in after[table].items()
                        if stored not in before[table]] for table in ADDED}
        raced = asyncio.run(races(importlib.import_module("api_least").create_app(), account,
                                  headers))
        raced.append(charged_twice(bench._libpq(url), os.environ["CANONE_SANDBOX_PATH"]))
    for name in ("api_least all", "api_least required"):
        print(f"{name} against api_rows:", *differences(added["api_rows"], added[name]) or [
            "no differences"], sep="\n  ")
    print("api_least, confirmations at the same time:", *raced, sep="\n  ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
