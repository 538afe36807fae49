"""The least a preview + confirm pair must send (issue 14, goal 1), with no billing logic.

bench/api_rows.py replays exactly the statements a canone pair sends. This replays the same
pair, served the same way (uvicorn, the floor's set-up) on canone's database, accounts and
sandbox card network, writing the same rows with the same values (bench/api_rows.py's
templates: what canone's last confirmation wrote), with every guarantee canone's statements
give, but sent with as few statements and round trips as PostgreSQL allows: reads joined
into one statement on an autocommit connection, each transaction's statements sent in one
pipeline with its BEGIN and COMMIT, dependent inserts folded into data-modifying CTEs (the
invoice number and the SDI progressive, taken in the statement that writes what needs them),
several rows in one insert (unnest).

- preview: one read (account, billing details, subscription, credit balance and the
  Idempotency-Key's earlier answer, if any); the Idempotency-Key record inserted with the
  answer (its own transaction). 2 statements, 2 round trips, 1 commit.
- confirm, the intent (committed before the card is charged), one pipeline: BEGIN; the
  subscription locked FOR UPDATE (concurrent confirmations take turns: the next statement
  of each starts after the lock, so it sees what the other committed); one statement that
  claims the Idempotency-Key, checks what the quote bound (subscription version, credit
  balance, billing details' updated_at; no other pending intent of the account) and inserts
  the intent, and reads the intent of that key if one was there; COMMIT.
- the sandbox network opens the charge; its id is stored (one UPDATE, its own transaction:
  SPEC §9 wants it stored before the intent is confirmed); the network confirms the charge.
  The sandbox network has no call that opens and confirms at once (`charge` has no intent,
  so its charge could not be refunded by id), so both calls stay, as canone's.
- confirm, the settlement, one pipeline: BEGIN; the intent, account and subscription locked
  FOR UPDATE (canone's order); one statement that checks again, updates the subscription,
  bumps the year's invoice counter and the SDI progressive (held to the COMMIT, in this
  same round trip) and writes the payment, the invoice, its lines, the e-invoice file, the
  email, the intent's outcome, the Idempotency-Key's answer, the audit entries, the events
  and their webhook deliveries (to every endpoint that wants them, as canone's outbox
  makes them: none in the benchmark); COMMIT.

That is 7 statements and 4 commits in 5 round trips to PostgreSQL (`bench/pair_counts.py
--sql --replay api_least` prints and counts them), against canone's 32 statements and 4
commits in 31 round trips (32 in bench/api_rows.py's replay).

REPLAY_ROWS=required writes only the rows SPEC requires (bench/RESULTS.md lists each row
with its SPEC line): no email, one audit entry (SPEC §4 "audit record"), no invoice.paid
event (the invoice.issued event says it is paid), the intent's outcome as its status alone.
REPLAY_NETWORK=off makes the card network's ids up, as bench/api_rows.py's does.

    .venv/bin/python bench/api_least.py [--workers 2] [--seconds 10] [--runs 3]

Each run: the floor (stack_floor.py), canone driven by wrk, bench/api_rows.py's exact replay
and both of these, each with the sandbox card network and without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from api_rows import (
    CLAIM,
    INTENT_COLUMNS,
    Pool,
    _id,
    answer,
    claimed,
    columns,
    dumps,
    keep_templates,
    quote_token,
    read_token,
    templates,
)
from fastapi import FastAPI, Request, Response
from replay_run import arguments, floor, medians, prepared, replayed, report, wrk_pairs
from sqlalchemy.dialects import postgresql

import api
from canone.db import tables
from canone.integrations.einvoice.fatturapa import ALPHABET

_READ_TABLES = {"a": tables.accounts, "d": tables.billing_details, "s": tables.subscriptions}
_CREDIT = ("(SELECT coalesce(sum(amount), 0)::bigint FROM ledger_entries WHERE account_id = "
           "%(account)s)")
PREVIEW = (
    "SELECT " + ", ".join(f"{alias}.{c} AS {alias}_{c}" for alias, table in _READ_TABLES.items()
                          for c in columns(table))
    + f", {_CREDIT} AS credit, r.fingerprint AS done_fingerprint, r.status_code AS "
    "done_status, r.body AS done_body FROM accounts a JOIN subscriptions s ON s.account_id = "
    "a.id LEFT JOIN billing_details d ON d.account_id = a.id LEFT JOIN idempotency_records r"
    " ON r.scope = %(scope)s AND r.key = %(key)s WHERE a.id = %(account)s")

# What a quote bound, checked again after the locks (canone re-reads and re-prices).
_BOUND = ("s.version = %(version)s AND d.updated_at IS NOT DISTINCT FROM "
          "%(details_at)s::timestamptz AND "
          f"{_CREDIT} = %(credit)s")
LOCK_SUBSCRIPTION = "SELECT 1 FROM subscriptions WHERE account_id = %(account)s FOR UPDATE"
INTEND = (
    "WITH claim AS (" + CLAIM.replace("RETURNING idempotency_records.scope, "
                                      "idempotency_records.key", "RETURNING 1") + "), "
    "fresh AS (SELECT a.card_token FROM accounts a JOIN subscriptions s ON s.account_id = a.id"
    f" LEFT JOIN billing_details d ON d.account_id = a.id WHERE a.id = %(account)s AND {_BOUND}"
    " AND NOT EXISTS (SELECT 1 FROM payment_intents p WHERE p.account_id = a.id AND "
    "p.status = 'pending' AND p.key <> %(intent)s) AND EXISTS (SELECT 1 FROM claim)), "
    f"added AS (INSERT INTO payment_intents ({', '.join(INTENT_COLUMNS)}) SELECT "
    + ", ".join("fresh.card_token" if c == "card_token" else f"%(i_{c})s"
                for c in INTENT_COLUMNS)
    + " FROM fresh ON CONFLICT DO NOTHING RETURNING card_token) "
    "SELECT (SELECT count(*) FROM claim) AS claimed, (SELECT count(*) FROM fresh) AS fresh, "
    "(SELECT card_token FROM added) AS card_token, p.status AS earlier, p.provider_id "
    "FROM (SELECT 1) one LEFT JOIN payment_intents p ON p.key = %(intent)s")
PROVIDER_ID = ("UPDATE payment_intents SET provider_id = %s WHERE key = %s AND status = "
               "'pending' RETURNING 1")
LOCK_SETTLEMENT = (  # scalar subqueries run left to right: canone's order
    "SELECT (SELECT status FROM payment_intents WHERE key = %(intent)s FOR UPDATE), "
    "(SELECT 1 FROM accounts WHERE id = %(account)s FOR UPDATE), "
    "(SELECT 1 FROM subscriptions WHERE account_id = %(account)s FOR UPDATE)")


def _number(text: str) -> str:
    """`text` (a template's, with its invoice number) with this invoice's number."""
    return f"replace({text}, %(old_number)s, num.number)"


def _typed(table: Any, prefix: str) -> dict[str, str]:
    """Each column's value as a parameter `prefix` + its name, cast to its type (a NULL or
    a string in a SELECT list would be text)."""
    return {c.name: f"%({prefix}{c.name})s::{c.type.compile(dialect=postgresql.dialect())}"
            for c in table.c if c.name != "seq"}


def _rows(table: Any, values: dict[str, str], source: str) -> str:
    """An INSERT of `table` whose values are SQL expressions over `source`."""
    return (f"INSERT INTO {table.name} ({', '.join(columns(table))}) SELECT "
            + ", ".join(values[c] for c in columns(table)) + f" FROM {source}")


def settle_sql(required: bool) -> str:
    """The settlement's one statement: every write chained from the intent still pending
    and the subscription still at the quoted version (else none is made, nothing returned)."""
    invoice = _typed(tables.invoices, "v_") | {
        "number": "num.number", "subscription_id": "sub.id", "account_id": "%(account)s",
        "issued_at": "%(now)s"}
    parts = {
        "intent": "SELECT 1 FROM payment_intents p JOIN subscriptions s ON s.account_id = "
                  "p.account_id LEFT JOIN billing_details d ON d.account_id = p.account_id "
                  f"WHERE p.key = %(intent)s AND p.status = 'pending' AND {_BOUND}",
        "sub": "UPDATE subscriptions SET config = %(config)s, version = version + 1 FROM "
               "intent WHERE account_id = %(account)s RETURNING subscriptions.id",
        "num": "INSERT INTO invoice_counters (year, last) SELECT %(year)s, 1 FROM sub ON "
               "CONFLICT (year) DO UPDATE SET last = invoice_counters.last + 1 RETURNING "
               "%(year)s || '-' || lpad(last::text, 6, '0') AS number",
        "sdi": "INSERT INTO document_counters (name, last) SELECT 'sdi', 1 FROM sub ON "
               "CONFLICT (name) DO UPDATE SET last = document_counters.last + 1 RETURNING "
               "(SELECT string_agg(substr(%(alphabet)s, (last / power(36, i)::bigint %% 36)"
               "::int + 1, 1), '' ORDER BY i DESC) FROM generate_series(0, 4) i) AS code",
        "pay": _rows(tables.payments, _typed(tables.payments, "p_"), "sub"),
        "inv": _rows(tables.invoices, invoice, "num, sub"),
        "lines": "INSERT INTO invoice_lines (invoice_id, position, account_id, key, "
                 "description, amount) SELECT %(v_id)s, l.position, %(account)s, l.key, "
                 "l.description, l.amount FROM num, unnest(%(l_positions)s::int[], "
                 "%(l_keys)s::text[], %(l_descriptions)s::text[], %(l_amounts)s::bigint[]) "
                 "AS l(position, key, description, amount)",
        "einv": "INSERT INTO einvoices (id, account_id, document_kind, document_id, "
                "document_number, file_name, content, created_at, state, sdi) SELECT "
                "%(e_id)s, %(account)s, 'invoice', %(v_id)s, num.number, %(e_prefix)s || '_' "
                f"|| sdi.code || '.xml', convert_to({_number('%(e_content)s')}, 'UTF8'), "
                "%(now)s, 'pending', '{}' FROM num, sdi",
        "mail": "INSERT INTO outbox (id, channel, account_id, payload, attempts, "
                "next_attempt_at, status, last_error, created_at) SELECT %(m_id)s, 'email', "
                f"%(account)s, replace({_number('%(m_payload)s')}, %(m_to)s, (SELECT email "
                "FROM users WHERE account_id = %(account)s ORDER BY email LIMIT 1)), 0, "
                "%(now)s, 'pending', NULL, %(now)s FROM num",
        "settled": "UPDATE payment_intents SET status = 'succeeded'" + (
            "" if required else f", result = {_number('%(result)s')}")
            + " FROM num WHERE key = %(intent)s",
        "answer": "UPDATE idempotency_records SET status_code = 200, body = convert_to("
                  f"{_number('%(answer)s')}, 'UTF8') FROM num WHERE scope = %(scope)s AND "
                  "key = %(key)s",
        "audit": "INSERT INTO audit_entries (id, account_id, actor, action, before, after, "
                 "at) SELECT a.id, %(account)s, 'system', a.action, a.before, "
                 f"{_number('a.after')}, %(now)s FROM num, unnest(%(a_ids)s::text[], "
                 "%(a_actions)s::text[], %(a_before)s::text[], %(a_after)s::text[]) AS "
                 "a(id, action, before, after)",
        "ev": "INSERT INTO events (id, type, account_id, data, created_at) SELECT e.id, "
              f"e.type, %(account)s, {_number('e.data')}, %(now)s FROM num, unnest("
              "%(e_ids)s::text[], %(e_types)s::text[], %(e_data)s::text[]) AS e(id, type, "
              "data) RETURNING id, type, account_id, data, created_at",
        "hooks": "INSERT INTO webhook_deliveries (id, endpoint_id, event_id, account_id, "
                 "event_type, payload, status, attempts, next_attempt_at, last_status_code, "
                 "last_error, created_at) SELECT 'whd_' || md5(ev.id || w.id), w.id, ev.id, "
                 "ev.account_id, ev.type, json_build_object('id', ev.id, 'type', ev.type, "
                 "'account_id', ev.account_id, 'created_at', ev.created_at, 'data', "
                 "ev.data::json)::text, 'pending', 0, ev.created_at, NULL, NULL, "
                 "ev.created_at FROM ev JOIN webhook_endpoints w ON (w.account_id IS NULL OR "
                 "w.account_id = ev.account_id) AND (w.events::jsonb ? ev.type OR "
                 "w.events::jsonb ? '*')",
    }
    if required:
        del parts["mail"]
    return ("WITH " + ", ".join(f"{name} AS ({sql})" for name, sql in parts.items())
            + " SELECT number FROM num")


def settle_values(t: dict[str, Any], made: dict[str, list[dict[str, Any]]], required: bool,
                  invoice_id: str) -> dict[str, Any]:
    """The settlement's template values: the rows canone wrote last, with this invoice's id
    (its number is put in by the statement, where the counter gives it)."""
    def renamed(text: str) -> str:
        return text.replace(t["invoice"]["id"], invoice_id)

    audit = [a for a in made["audit"] if not required or a["action"].startswith("subscription")]
    events = [e for e in made["events"] if not required or e["type"] != "invoice.paid"]
    return {
        **{f"v_{c}": v for c, v in t["invoice"].items()}, "v_id": invoice_id,
        "l_positions": [line["position"] for line in made["lines"]],
        "l_keys": [line["key"] for line in made["lines"]],
        "l_descriptions": [line["description"] for line in made["lines"]],
        "l_amounts": [line["amount"] for line in made["lines"]],
        "e_id": _id("einv"), "e_prefix": t["einvoice"]["file_name"].split("_")[0],
        "e_content": bytes(t["einvoice"]["content"]).decode(),
        "m_id": _id("ntf"), "m_payload": renamed(t["email"]["payload"]),
        "m_to": json.loads(t["email"]["payload"])["to"],
        "result": renamed(t["intent"]["result"]),
        "a_ids": [_id("aud") for _ in audit], "a_actions": [a["action"] for a in audit],
        "a_before": [a["before"] for a in audit], "a_after": [renamed(a["after"]) for a in audit],
        "e_ids": [_id("evt") for _ in events], "e_types": [e["type"] for e in events],
        "e_data": [renamed(e["data"]) for e in events],
        "old_number": t["invoice"]["number"], "alphabet": ALPHABET}


def create_app() -> Any:
    """The app uvicorn serves (factory), as bench/api_rows.py's: canone's database at
    FLOOR_DATABASE_URL, its sandbox card network at CANONE_SANDBOX_PATH."""
    import psycopg

    from canone.integrations.payments import SandboxGateway
    from canone.services.ports import ChargeRequest

    url = os.environ["FLOOR_DATABASE_URL"]
    gateway = SandboxGateway(os.environ["CANONE_SANDBOX_PATH"])
    network = os.environ.get("REPLAY_NETWORK") != "off"  # off: ids made up, no card charged
    required = os.environ.get("REPLAY_ROWS") == "required"
    settle = settle_sql(required)
    made, t = templates(url)
    scope, old_number = t["previewed"]["scope"], t["invoice"]["number"]
    preview_body, confirm_body = (json.loads(t[n]["body"]) for n in ("previewed", "confirmed"))
    quoted = json.loads(t["intent"]["payload"])
    app = FastAPI()
    pool = Pool(url, autocommit=True)  # a statement alone is its own transaction

    @contextlib.asynccontextmanager
    async def connection() -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        async with pool.borrow() as conn:
            try:
                yield conn
            finally:
                if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    await conn.execute("ROLLBACK")  # a pipeline that failed half-way

    async def one(sql: str, params: Any) -> Any:
        async with connection() as conn:
            return await (await conn.execute(sql, params)).fetchone()

    async def transaction(*statements: tuple[str, dict[str, Any]]) -> Any:
        """One round trip: BEGIN, the statements, COMMIT; the last statement's row."""
        async with connection() as conn:
            async with conn.pipeline():
                await conn.execute("BEGIN")
                cursors = [await conn.execute(sql, params) for sql, params in statements]
                await conn.execute("COMMIT")
            return await cursors[-1].fetchone()

    @app.post("/api/v1/accounts/{account}/subscription/preview")
    async def preview(account: str, request: Request) -> Response:
        body = await request.body()
        target = json.loads(body)["target"]
        found = await one(PREVIEW, {"account": account, "scope": scope,
                                    "key": request.headers["idempotency-key"]})
        if found is None or found["done_status"] is not None:
            return Response(status_code=409)  # (canone: 404, or the key's first answer)
        details_at = found["d_updated_at"]
        claims = {**quoted, "account_id": account, "subscription_version": found["s_version"],
                  "credit": found["credit"], "details_at": details_at and details_at.isoformat(),
                  "immediate": target, "target": target, "nonce": secrets.token_hex(6)}
        out = dumps({**preview_body, "quote_token": quote_token(claims)}).encode()
        if await one(CLAIM, claimed(scope, request, body, 200, out)) is None:
            return Response(status_code=409)  # the same key, at the same time
        return answer(out)

    @app.post("/api/v1/accounts/{account}/subscription/confirm")
    async def confirm(account: str, request: Request) -> Response:
        body = await request.body()
        claims, key = read_token(json.loads(body)["quote_token"])
        now = datetime.now(UTC)
        bound = {"account": account, "intent": key, "version": claims["subscription_version"],
                 "credit": claims["credit"], "details_at": claims["details_at"]}
        intent = {**t["intent"], "key": key, "account_id": account, "payload": dumps(claims),
                  "status": "pending", "created_at": now, "result": None, "provider_id": None}
        found = await transaction((LOCK_SUBSCRIPTION, bound), (INTEND, {
            **bound, **claimed(scope, request, body, 0, b""),
            **{f"i_{c}": intent[c] for c in INTENT_COLUMNS}}))
        if found["card_token"] is None:  # (canone answers each; none is measured here)
            return Response(b"the Idempotency-Key's retry" if not found["claimed"] else
                            b"stale quote, or another payment pending" if not found["fresh"]
                            else b"the quote's intent is there: " + found["earlier"].encode(),
                            status_code=409)
        charge = ChargeRequest(key, found["card_token"], intent["amount"], intent["currency"],
                               off_session=False)
        provider_id = (await asyncio.to_thread(gateway.open_charge, charge) if network
                       else _id("pi"))
        await one(PROVIDER_ID, [provider_id, key])
        charge_id = ((await asyncio.to_thread(gateway.confirm_charge, provider_id, charge))
                     .charge_id if network else _id("ch"))
        invoice_id = _id("inv")
        out = dumps({**confirm_body, "subscription": {
            **confirm_body["subscription"], "configuration": claims["target"],
            "version": claims["subscription_version"] + 1}}).replace(t["invoice"]["id"],
                                                                     invoice_id)
        payment = {"id": _id("pay"), "account_id": account, "invoice_id": invoice_id,
                   "amount": intent["amount"], "currency": intent["currency"],
                   "status": "succeeded", "charge_id": charge_id, "idempotency_key": key,
                   "message": "", "created_at": now}
        settled = await transaction((LOCK_SETTLEMENT, bound), (settle, {
            **bound, **settle_values(t, made, required, invoice_id),
            **{f"p_{c}": v for c, v in payment.items()}, "year": now.year, "now": now,
            "config": dumps(claims["target"]), "answer": out, "scope": scope,
            "key": request.headers["idempotency-key"]}))
        if settled is None:  # stale since the charge (canone refunds it)
            return Response(status_code=409)
        return answer(out.replace(old_number, settled["number"]).encode())

    return app


REPLAYS = [(name + ("" if network == "on" else ", no card network"), app, rows, network)
           for name, app, rows in (("replay", "api_rows", ""), ("least", "api_least", "all"),
                                   ("least, required rows", "api_least", "required"))
           for network in ("on", "off")]


def main() -> int:
    args = arguments((__doc__ or "").splitlines()[0])
    with prepared(args) as (url, env, key, _accounts, (base, pid)):
        env = {**env, **keep_templates(api._libpq(url), Path(env["BENCH_TMP"]) / "rows")}
        runs: list[dict[str, dict[str, float]]] = []
        for number in range(args.runs):
            print(f"run {number + 1} of {args.runs}", flush=True)
            load = os.getloadavg()[0]
            found = {"floor": floor(args), "canone, wrk": wrk_pairs(base, url, key,
                                                                    args.seconds, pid)}
            turn = 2 * number % len(REPLAYS)  # each run starts with the next replay, so the
            for name, app, rows, network in REPLAYS[turn:] + REPLAYS[:turn]:  # load's drift
                found[name] = replayed(args, url, env, key, f"{app}:create_app", {  # evens out
                    "REPLAY_NETWORK": network, "REPLAY_ROWS": rows})
            print(f"load average {load:.1f} -> {os.getloadavg()[0]:.1f}")
            report(found)
            runs.append(found)
    medians(runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
