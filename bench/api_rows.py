"""The API's ceiling: what canone's statements per pair cost, with no logic (issue 14, goal 1).

A preview + confirm pair served by the same uvicorn set-up as bench/stack_floor.py (httptools,
uvloop, the same workers) that sends on raw async psycopg, with no billing logic, exactly
the statements a canone pair sends today (captured with `bench/pair_counts.py --sql`), in
the same transactions and round trips, the card charged on the same sandbox card network,
on canone's own database, accounts and sandbox file. Row values are canone's: the rows a
canone confirmation wrote last (invoice, lines, e-invoice file, email, intent, answers,
audit entries, events) are the templates, with new ids, numbers and times.

Per pair, as canone sends them (BEGIN is its own round trip, as psycopg sends it):

- preview, one transaction: BEGIN; the account, billing details, subscription and credit
  balance read; the Idempotency-Key record inserted with the answer; COMMIT.
- confirm, transaction 1 (committed before the card is charged): BEGIN; the Idempotency-Key
  claimed; the account read; the subscription read FOR UPDATE (it orders concurrent
  confirmations of one quote); the intent read by its key (an intent that succeeded is
  answered from, a pending one charged again with its key, which charges once); billing
  details and balance read; a pending intent of the account looked for; the intent inserted;
  COMMIT.
- the sandbox network opens the charge (one SQLite transaction).
- confirm, transaction 2: BEGIN; the provider's intent id stored; COMMIT.
- the sandbox network confirms the charge (one SQLite transaction).
- confirm, transaction 3 (settle): BEGIN; the intent, account and subscription read FOR
  UPDATE; billing details read; the subscription updated (whole row); webhook endpoints and
  the account's users read; the payment inserted; the year's invoice counter bumped (its
  row held to the commit); one pipeline: the invoice, its lines, the SDI progressive; one
  pipeline: the e-invoice file, the email, the intent's outcome, the Idempotency-Key
  answer, audit entries, events, COMMIT.

That is 32 statements (an executemany counted once) and 4 commits in 32 round trips to
PostgreSQL, and 2 SQLite transactions; the floor's `/pair-work` has 9 statements and 3
commits in 15 round trips. The API key check sends none (canone caches it); its CPU is left
out, like all of canone's Python.

    .venv/bin/python bench/api_rows.py [--workers 2] [--seconds 10] [--runs 1]

Each run, one after the other on the same accounts: canone driven by bench/api.py's clients
(httpx, as issue 14's goal measures it) and by wrk (bench/api_rows.lua: the same pairs, a C
client that costs next to nothing, as the floor's); the replay driven by wrk, with the
sandbox network and without it (ids made up, no card charged: what the network costs); the
stack floor (stack_floor.py). For each, pairs/s against the floor's, and the CPU a pair of
the server's processes and of PostgreSQL, with the floor's as a share of it.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import os
import pickle
import secrets
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from replay_run import arguments, floor, prepared, replayed, report, wrk_pairs

import api
from canone.db import tables
from canone.integrations.einvoice.fatturapa import progressive_code

LIMIT = " \n LIMIT %(param_1)s::INTEGER"


def columns(table: Any) -> list[str]:
    return [column.name for column in table.c if column.name != "seq"]  # (seq: a serial)


def _select(table: Any, where: str, tail: str = LIMIT) -> str:
    listed = ", ".join(f"{table.name}.{name}" for name in columns(table))
    return f"SELECT {listed} \nFROM {table.name} \nWHERE {where}{tail}"


def _insert(table: Any, tail: str = "") -> str:
    return (f"INSERT INTO {table.name} ({', '.join(columns(table))}) VALUES "
            f"({', '.join(['%s'] * len(columns(table)))}){tail}")


def _changed(table: str, sets: list[str], where: str) -> str:
    """An UPDATE that fails unless it finds its row, as canone's held writes are."""
    return (f"WITH changed AS (UPDATE {table} SET {', '.join(f'{c} = %s' for c in sets)} "
            f"WHERE {where} RETURNING 1) SELECT 1 / count(*) FROM changed")


ACCOUNT = _select(tables.accounts, "accounts.id = %(id)s::VARCHAR")
DETAILS = _select(tables.billing_details, "billing_details.account_id = "
                  "%(account_id)s::VARCHAR")
SUBSCRIPTION = _select(tables.subscriptions, "subscriptions.account_id = "
                       "%(account_id)s::VARCHAR")
BALANCE = ("SELECT coalesce(sum(ledger_entries.amount), %(coalesce_2)s::INTEGER) AS "
           "coalesce_1 \nFROM ledger_entries \nWHERE ledger_entries.account_id = "
           "%(account_id)s::VARCHAR")
CLAIM = ("INSERT INTO idempotency_records (scope, key, fingerprint, status_code, body, "
         "created_at) VALUES (%(scope)s::VARCHAR, %(key)s::VARCHAR, %(fingerprint)s::VARCHAR,"
         " %(status_code)s::INTEGER, %(body)s, %(created_at)s::TIMESTAMP WITH TIME ZONE) ON "
         "CONFLICT DO NOTHING RETURNING idempotency_records.scope, idempotency_records.key")
INTENT = _select(tables.payment_intents, "payment_intents.key = %(key)s::VARCHAR")
PENDING = _select(tables.payment_intents, "payment_intents.account_id = %(account_id)s::VARCHAR"
                  " AND payment_intents.status = %(status_1)s::VARCHAR", " ORDER BY "
                  "payment_intents.created_at DESC, payment_intents.key DESC" + LIMIT)
INTENT_COLUMNS = columns(tables.payment_intents)
ADD_INTENT = (f"INSERT INTO payment_intents ({', '.join(INTENT_COLUMNS)}) VALUES "
              f"({', '.join(f'%({c})s' for c in INTENT_COLUMNS)}) ON CONFLICT DO NOTHING "
              "RETURNING payment_intents.key")
PROVIDER_ID = ("UPDATE payment_intents SET provider_id = v.c1 FROM json_to_recordset(%s::json)"
               " AS v(c0 VARCHAR(255), c1 VARCHAR(255)) WHERE payment_intents.key = v.c0")
SAVE_SUB = ("UPDATE subscriptions SET " + ", ".join(
    f"{c}=%({c})s" for c in columns(tables.subscriptions))
    + " WHERE subscriptions.id = %(saved_id)s::VARCHAR")
ENDPOINTS = _select(tables.webhook_endpoints, "true", " ORDER BY webhook_endpoints.created_at,"
                    " webhook_endpoints.id")
USERS = _select(tables.users, "users.account_id = %(account_id)s::VARCHAR",
                " ORDER BY users.email")
ADD_PAYMENT = _insert(tables.payments, " ON CONFLICT DO NOTHING RETURNING payments.id")
NUMBER = ("INSERT INTO invoice_counters (year, last) VALUES (%s, 1) ON CONFLICT (year) DO "
          "UPDATE SET last = (invoice_counters.last + 1) RETURNING invoice_counters.last")
SDI = ("INSERT INTO document_counters (name, last) VALUES (%s, 1) ON CONFLICT (name) DO "
       "UPDATE SET last = document_counters.last + 1 RETURNING last")
SETTLE_INTENT = _changed("payment_intents", INTENT_COLUMNS, "key = %s")
ANSWER = _changed("idempotency_records", ["status_code", "body"], "scope = %s AND key = %s")

# The rows canone wrote last: the values every replayed confirmation writes again.
TEMPLATES = {
    "invoice": "SELECT * FROM invoices ORDER BY issued_at DESC LIMIT 1",
    "lines": "SELECT * FROM invoice_lines WHERE invoice_id = %(invoice)s ORDER BY position",
    "einvoice": "SELECT * FROM einvoices WHERE document_id = %(invoice)s",
    "email": "SELECT * FROM outbox ORDER BY created_at DESC LIMIT 1",
    "intent": "SELECT * FROM payment_intents WHERE status = 'succeeded' "
              "ORDER BY created_at DESC LIMIT 1",
    "audit": "SELECT * FROM audit_entries ORDER BY at DESC, action LIMIT 3",
    "events": "SELECT * FROM events ORDER BY created_at DESC, type LIMIT 3",
    "previewed": "SELECT * FROM idempotency_records WHERE body LIKE '{\"change\"%%' "
                 "ORDER BY created_at DESC LIMIT 1",
    "confirmed": "SELECT * FROM idempotency_records WHERE body LIKE '{\"subscription\"%%' "
                 "ORDER BY created_at DESC LIMIT 1",
}


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))  # as canone's JSON text


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


def templates(url: str) -> tuple[dict[str, list[dict[str, Any]]], dict[str, dict[str, Any]]]:
    """The rows canone wrote last (`TEMPLATES`): every row of each, and the first of each;
    those kept in the file REPLAY_TEMPLATES names when it is set (`keep_templates`)."""
    import psycopg
    from psycopg.rows import dict_row

    kept = os.environ.get("REPLAY_TEMPLATES")
    if kept:
        made = pickle.loads(Path(kept).read_bytes())
    else:
        with psycopg.connect(url, row_factory=dict_row) as connection:
            row = connection.execute(TEMPLATES["invoice"]).fetchone()
            assert row is not None, "no invoice yet: run one canone confirmation first"
            made = {name: connection.execute(sql, {"invoice": row["id"]}).fetchall()
                    for name, sql in TEMPLATES.items()}
    return made, {name: rows[0] for name, rows in made.items()}


def keep_templates(url: str, path: Path) -> dict[str, str]:
    """canone's rows taken as templates now, kept at `path` for every replay to come (so a
    replay that writes fewer rows is never the next one's template): its environment."""
    path.write_bytes(pickle.dumps(templates(url)[0]))
    return {"REPLAY_TEMPLATES": str(path)}


def quote_token(claims: dict[str, Any]) -> str:
    """A quote token shaped as canone's: the claims, then a (made-up) signature."""
    signed = base64.urlsafe_b64encode(dumps(claims).encode()).decode().rstrip("=")
    return f"{signed}.{hashlib.sha256(signed.encode()).hexdigest()[:32]}"


def read_token(token: str) -> tuple[dict[str, Any], str]:
    """A quote token's claims, and the key of its payment intent (one charge per quote)."""
    signed = token.split(".")[0]
    claims = json.loads(base64.urlsafe_b64decode(signed + "=" * (-len(signed) % 4)))
    return claims, "chg_" + hashlib.sha256(token.encode()).hexdigest()[:40]


def claimed(scope: str, request: Request, body: bytes, status: int, answer: bytes
            ) -> dict[str, Any]:
    """CLAIM's values: the request's Idempotency-Key, its body's fingerprint, the answer."""
    return {"scope": scope, "key": request.headers["idempotency-key"],
            "fingerprint": hashlib.sha256(body).hexdigest(), "status_code": status,
            "body": answer, "created_at": datetime.now(UTC)}


def answer(body: bytes) -> Response:
    return Response(body, media_type="application/json")


class Pool:
    """Up to 10 connections (canone's pool_size) to `url`, opened when none is free."""

    def __init__(self, url: str, autocommit: bool) -> None:
        self.url, self.autocommit, self.opened = url, autocommit, 0
        self.free: asyncio.Queue[Any] = asyncio.Queue()

    @contextlib.asynccontextmanager
    async def borrow(self) -> AsyncIterator[Any]:
        import psycopg
        from psycopg.rows import dict_row

        if self.free.empty() and self.opened < 10:  # no await between test and count
            self.opened += 1
            connection = await psycopg.AsyncConnection.connect(
                self.url, autocommit=self.autocommit, options="-c timezone=UTC",
                row_factory=dict_row)
            if not self.autocommit:
                await connection.set_read_only(False)  # BEGIN READ WRITE, as SQLAlchemy's
        else:
            connection = await self.free.get()
        try:
            yield connection
        finally:
            self.free.put_nowait(connection)


def create_app() -> Any:
    """The app uvicorn serves (factory): canone's database at FLOOR_DATABASE_URL, its
    sandbox card network at CANONE_SANDBOX_PATH."""
    import psycopg

    from canone.integrations.payments import SandboxGateway
    from canone.services.ports import ChargeRequest

    url = os.environ["FLOOR_DATABASE_URL"]
    gateway = SandboxGateway(os.environ["CANONE_SANDBOX_PATH"])
    network = os.environ.get("REPLAY_NETWORK") != "off"  # off: ids made up, no card charged
    made, t = templates(url)
    preview_body, confirm_body = (json.loads(t[n]["body"]) for n in ("previewed", "confirmed"))
    old_id, old_number = t["invoice"]["id"], t["invoice"]["number"]
    quoted = json.loads(t["intent"]["payload"])
    app = FastAPI()
    pool = Pool(url, autocommit=False)

    @contextlib.asynccontextmanager
    async def transaction() -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A pooled connection, one transaction (BEGIN on its first statement, as psycopg
        does for canone); committed unless a pipeline already sent the COMMIT."""
        async with pool.borrow() as connection:
            try:
                yield connection
                if connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    await connection.commit()
            except BaseException:
                await connection.rollback()
                raise

    async def one(connection: Any, sql: str, params: Any) -> Any:
        return await (await connection.execute(sql, params)).fetchone()

    def claim(request: Request, body: bytes, status: int, answer: bytes) -> dict[str, Any]:
        return claimed(t["previewed"]["scope"], request, body, status, answer)

    @app.post("/api/v1/accounts/{account}/subscription/preview")
    async def preview(account: str, request: Request) -> Response:
        body = await request.body()
        target = json.loads(body)["target"]
        key = {"account_id": account, "param_1": 1}
        async with transaction() as connection:
            await one(connection, ACCOUNT, {"id": account, "param_1": 1})
            await one(connection, DETAILS, key)
            sub = await one(connection, SUBSCRIPTION, key)
            await one(connection, BALANCE, {"coalesce_2": 0, "account_id": account})
            claims = {**quoted, "account_id": account, "subscription_version": sub["version"],
                      "immediate": target, "target": target, "nonce": secrets.token_hex(6)}
            out = dumps({**preview_body, "quote_token": quote_token(claims)}).encode()
            await one(connection, CLAIM, claim(request, body, 200, out))
        return answer(out)

    @app.post("/api/v1/accounts/{account}/subscription/confirm")
    async def confirm(account: str, request: Request) -> Response:
        body = await request.body()
        claims, intent_key = read_token(json.loads(body)["quote_token"])
        key = {"account_id": account, "param_1": 1}
        async with transaction() as connection:  # the intent, before the charge
            if await one(connection, CLAIM, claim(request, body, 0, b"")) is None:
                return Response(status_code=409)
            found = await one(connection, ACCOUNT, {"id": account, "param_1": 1})
            await one(connection, SUBSCRIPTION + " FOR UPDATE", key)
            intent = await one(connection, INTENT, {"key": intent_key, "param_1": 1})
            if intent is not None and intent["status"] == "succeeded":
                return Response(status_code=409)  # canone answers from its result
            await one(connection, DETAILS, key)
            await one(connection, BALANCE, {"coalesce_2": 0, "account_id": account})
            await one(connection, PENDING, {**key, "status_1": "pending"})
            intent = {**t["intent"], "key": intent_key, "account_id": account,
                      "card_token": found["card_token"], "payload": dumps(claims),
                      "status": "pending", "created_at": datetime.now(UTC), "result": None,
                      "provider_id": None}
            await one(connection, ADD_INTENT, intent)
        charge = ChargeRequest(intent_key, found["card_token"], intent["amount"],
                               intent["currency"], off_session=False)
        provider_id = (await asyncio.to_thread(gateway.open_charge, charge) if network
                       else _id("pi"))
        async with transaction() as connection:
            await connection.execute(PROVIDER_ID, [json.dumps(
                [{"c0": intent_key, "c1": provider_id}], separators=(",", ":"))])
        charge_id = ((await asyncio.to_thread(gateway.confirm_charge, provider_id, charge))
                     .charge_id if network else _id("ch"))
        async with transaction() as connection:  # the settlement
            locked = await one(connection, INTENT + " FOR UPDATE",
                               {"key": intent_key, "param_1": 1})
            if locked["status"] == "succeeded":  # settled by a concurrent confirmation
                return Response(status_code=409)
            await one(connection, ACCOUNT + " FOR UPDATE", {"id": account, "param_1": 1})
            sub = await one(connection, SUBSCRIPTION + " FOR UPDATE", key)
            await one(connection, DETAILS, key)
            sub = {**sub, "config": dumps(claims["target"]), "version": sub["version"] + 1,
                   "saved_id": sub["id"]}
            await connection.execute(SAVE_SUB, sub)
            await (await connection.execute(ENDPOINTS, {})).fetchall()
            people = await (await connection.execute(USERS, key)).fetchall()
            invoice_id, now = _id("inv"), datetime.now(UTC)
            await one(connection, ADD_PAYMENT, [
                _id("pay"), account, invoice_id, intent["amount"], intent["currency"],
                "succeeded", charge_id, intent_key, "", now])
            last = (await one(connection, NUMBER, [now.year]))["last"]
            number = f"{now.year}-{last:06d}"

            def renamed(text: str) -> str:
                return text.replace(old_id, invoice_id).replace(old_number, number)

            invoice = {**t["invoice"], "id": invoice_id, "account_id": account,
                       "subscription_id": sub["id"], "number": number, "issued_at": now}
            out = renamed(dumps({**confirm_body, "subscription": {
                **confirm_body["subscription"], "configuration": claims["target"],
                "version": sub["version"]}})).encode()
            async with connection.pipeline():  # held from the number on: one round trip
                await connection.execute(_insert(tables.invoices),
                                         [invoice[c] for c in columns(tables.invoices)])
                await connection.cursor().executemany(_insert(tables.invoice_lines), [
                    [invoice_id, line["position"], account, line["key"], line["description"],
                     line["amount"]] for line in made["lines"]])
                sdi = await connection.execute(SDI, ["sdi"])
            progressive = (await sdi.fetchone())["last"]
            einvoice = t["einvoice"]
            async with connection.pipeline():  # the rest, and the COMMIT
                await connection.execute(_insert(tables.einvoices), [
                    _id("einv"), account, "invoice", invoice_id, number,
                    f"{einvoice['file_name'].split('_')[0]}_{progressive_code(progressive)}.xml",
                    einvoice["content"].replace(old_number.encode(), number.encode()), now,
                    "pending", "{}"])
                await connection.execute(_insert(tables.outbox), [
                    _id("ntf"), "email", account, renamed(t["email"]["payload"]).replace(
                        "counted@example.com", people[0]["email"]), 0, now, "pending", None,
                    now])
                settled = {**intent, "status": "succeeded", "provider_id": provider_id,
                           "result": renamed(t["intent"]["result"])}
                await connection.execute(SETTLE_INTENT, [
                    *(settled[c] for c in INTENT_COLUMNS), intent_key])
                await connection.execute(ANSWER, [200, out,
                                              t["previewed"]["scope"],
                                              request.headers["idempotency-key"]])
                await connection.cursor().executemany(_insert(tables.audit_entries), [
                    [_id("aud"), account, "system", a["action"], a["before"],
                     renamed(a["after"]), now] for a in made["audit"]])
                await connection.cursor().executemany(_insert(tables.events), [
                    [_id("evt"), e["type"], account, renamed(e["data"]), now]
                    for e in made["events"]])
                await connection.execute("COMMIT")
        return answer(out)

    return app


# -- the run ------------------------------------------------------------------------------

def one_run(args: argparse.Namespace, url: str, env: dict[str, str], key: str,
            accounts: list[str], canone: tuple[str, int]) -> dict[str, Any]:
    """canone (served at `canone`: base URL, pid) driven by bench/api.py's clients, then by
    wrk; the replay (wrk), with the card network and without; the floor (wrk)."""
    found: dict[str, Any] = {}
    load = os.getloadavg()[0]
    base, pid = canone
    driven = api.drive(base, key, accounts, args.clients, args.seconds, pid, None)
    found["canone, bench/api.py's clients"] = {
        "pairs_per_second": driven["pairs_per_second"], "failed": driven["failed"],
        **{f"cpu_{g}": driven["cpu_ms_per_pair"][g] for g in ("server", "postgres")}}
    found["canone, wrk"] = wrk_pairs(base, url, key, args.seconds, pid)
    for name, network in (("replay", "on"), ("replay, no card network", "off")):
        found[name] = replayed(args, url, env, key, "api_rows:create_app",
                               {"REPLAY_NETWORK": network})
    found["floor"] = floor(args)
    print(f"load average {load:.1f} -> {os.getloadavg()[0]:.1f}")
    return found


def main() -> int:
    args = arguments((__doc__ or "").splitlines()[0])
    with prepared(args) as (url, env, key, accounts, canone):
        for number in range(args.runs):
            print(f"run {number + 1} of {args.runs}", flush=True)
            report(one_run(args, url, env, key, accounts, canone))
    return 0


if __name__ == "__main__":
    sys.exit(main())
