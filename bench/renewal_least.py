"""The least a renewal run must do (issue 14, goal 2), with no billing logic: an upper bound.

bench/renewal.py's floor writes the least rows N renewals must write (per renewal an
invoice, its line, its payment, the events invoice.issued and invoice.paid, the receipt
email, the FatturaPA file; one UPDATE of the subscriptions) and nothing else: no claim, no
invoice number, no card charged. This adds only what the goal and SPEC make every
implementation do on top, each the cheapest way PostgreSQL allows:

- exactly once per (subscription, period) under concurrent workers (SPEC §5): a batch is
  claimed and its period moved in one statement, `UPDATE … WHERE id IN (SELECT … LIMIT 500
  FOR UPDATE SKIP LOCKED) RETURNING` (the pending change applied, the period and renewal
  time moved in the account's time zone), in the batch's only transaction, so a row another
  worker holds is skipped and a committed one is no longer due;
- gapless invoice numbers per year (§5, §8) and the never-reused SDI file progressive (§8):
  one statement bumps both counters by the batch's size, taken after the charges, so the
  counter rows are held only from there to the commit (a rollback gives the block back);
- every card charged on canone's sandbox card network, one `charge` call each, its
  idempotency key derived from (subscription, period);
- the floor's rows themselves, made before the clock starts (`renewal.floor_rows`) and written
  with canone's COPY as the floor does, the number and progressive filled in (invoice, the
  events' and email's data, the file's name and XML); with `subscription.renewed` (§7
  "signed webhooks for every state change": the subscription's period moved) and without.

One transaction a batch: claim, charge, write, commit. Crash-safe and exactly once: before
the commit nothing is written (PostgreSQL rolls back on a lost connection), the subscriptions
are due again and a later claim charges them with the same keys, which the network answers
with the first outcome (no second charge); after it, nothing of the batch is due. A real
provider keeps idempotency keys for a limited time (Stripe: 24 hours) and SPEC §9 wants its
PaymentIntent stored before confirming, which costs a second call and a commit: lenient here.
Left out though canone writes them (so this bounds any implementation from above): the
audit entries, payment intents, ledger entries of the credit used, and the pricing.

`--intents` keeps SPEC §9's crash recovery by a stored intent, as canone does (the least
that does): per batch one transaction claims, numbers and issues (invoices open, lines,
files, invoice.issued and subscription.renewed) with a pending payment intent each; then,
outside any transaction, each intent is opened on the network (`open_charge`), their ids
stored in one UPDATE (as canone's `open_charges`), each confirmed (`confirm_charge`); a
second transaction writes the payments, marks the invoices paid and the intents succeeded
(one statement each) and writes invoice.paid and the receipts. No row lock is held while
the network is asked, and a crash after charging leaves intents that reconciliation settles
by their stored ids (`reconciled`).

    .venv/bin/python bench/renewal_least.py [N] [--workers 2] [--runs 3] [--batch 500]
        [--intents]
    .venv/bin/python bench/renewal_least.py --check [N] [--intents]

Each run, on one seeded database (bench/renewal.py's `seed`): the floor with the files, then
the three variants (least with `subscription.renewed`, least, least with no card charged),
each on fresh tables (written rows truncated, the subscriptions put back as seeded) and a
fresh copy of the sandbox network's file; the variants' order turns from run to run. Each
prints renewals/s, its ratio to the floor, and the CPU a renewal of PostgreSQL's backends
and of the writer processes (`cpu_spent`), which the machine's load moves less.
`--check`: 2 workers, one of them dies after charging its second batch and before its
commit, then 2 more finish the run: each subscription renewed once, each card charged once,
numbers and progressives 1..N, else exit 1; with `--intents` the first dies once its
second batch's intents are confirmed, before they are settled.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import goals
import psycopg
import renewal as bench
from renewal_once import PREFIX, YEAR, problems
from sqlalchemy import Table

import api
from canone.db import rows, tables
from canone.db.database import Database
from canone.db.held import driver_of
from canone.integrations.einvoice.fatturapa import progressive_code
from canone.integrations.payments import SandboxGateway
from canone.services.payloads import InvoicePayload
from canone.services.ports import SUCCEEDED, ChargeRequest, ChargeResult
from canone.services.records import Event, IntentStatus, PaymentIntent

PERIOD = (date(2026, 6, 1), date(2026, 7, 1))
CLAIM = (
    "UPDATE subscriptions s SET period_start = s.period_end, period_end = (s.period_end + "
    "interval '1 month')::date, renews_at = ((s.period_end + interval '1 month')::date)"
    "::timestamp AT TIME ZONE a.timezone, config = coalesce(s.pending, s.config), pending = "
    "NULL, version = s.version + 1 FROM accounts a WHERE a.id = s.account_id AND s.id IN ("
    "SELECT id FROM subscriptions WHERE renews_at <= %(now)s AND status = 'active' AND NOT "
    "cancel_at_period_end ORDER BY renews_at LIMIT %(batch)s FOR UPDATE SKIP LOCKED) "
    "RETURNING s.id, s.period_start, a.card_token")
COUNTERS = (  # invoice number first, then the progressive: every batch locks in this order
    "WITH n AS (INSERT INTO invoice_counters (year, last) VALUES (%(year)s, %(k)s) ON "
    "CONFLICT (year) DO UPDATE SET last = invoice_counters.last + %(k)s RETURNING last), "
    "p AS (INSERT INTO document_counters (name, last) VALUES ('sdi', %(k)s) ON CONFLICT "
    "(name) DO UPDATE SET last = document_counters.last + %(k)s RETURNING last) "
    "SELECT n.last, p.last FROM n, p")
WRITTEN = ("invoices", "invoice_lines", "payments", "events", "outbox", "einvoices",
           "invoice_counters", "document_counters", "payment_intents")
# One statement each: the provider ids need a value a row, the outcomes none (`renew_batch`).
PROVIDER_IDS = ("UPDATE payment_intents i SET provider_id = u.id FROM unnest(%s::text[], "
                "%s::text[]) u(key, id) WHERE i.key = u.key")
SUCCEEDED_INTENTS = "UPDATE payment_intents SET status = 'succeeded' WHERE key = ANY(%s)"
PAID = "UPDATE invoices SET status = 'paid', amount_paid = total WHERE id = ANY(%s)"
COUNTED: list[float] = []  # seconds each batch's counters statement took, in this process
VARIANTS = {"least + subscription.renewed": (True, True, False), "least": (False, True, False),
            "least, no card": (False, False, False),
            "least + intents": (True, True, True)}  # (renewed event, card charged, intents)
LENIENT = list(VARIANTS)[:3]  # measured by default; `--intents`: the last alone


@dataclass(frozen=True)
class Span:
    """What a worker did: from `start` to `end` (time.time()), `done` renewals, `counted`
    seconds in the counters statement."""

    start: float
    end: float
    done: int
    counted: float


@dataclass(slots=True)
class Renewal:
    """One subscription's rows, as the floor writes them, to be numbered when renewed."""

    invoice: dict[str, Any]
    line: dict[str, Any]
    payment: dict[str, Any]
    events: list[dict[str, Any]]
    email: dict[str, Any]
    file: dict[str, Any]
    data: dict[str, Any]  # the events' and email's data (shared): its number
    xml: tuple[bytes, bytes, bytes]  # the file around its progressive and its number
    intent: dict[str, Any] | None  # its payment intent (`--intents`), pending

    @property
    def paid_event(self) -> dict[str, Any]:
        return self.events[1]  # (`floor_rows`' order: invoice.issued, invoice.paid)


def xml_parts(content: bytes) -> tuple[bytes, bytes, bytes]:
    """canone's file cut where its progressive and its invoice number go (once each)."""
    progressive = re.search(rb"<ProgressivoInvio>(\w+)<", content)
    number = re.search(rb"<Numero>(\d{4}-\d{6})<", content)
    assert progressive and number and progressive.end(1) < number.start(1), content[:200]
    return (content[:progressive.start(1)], content[progressive.end(1):number.start(1)],
            content[number.end(1):])


def prepared(count: int, account_ids: list[str], files: list[bytes | None], renewed: bool,
             intents: bool = False) -> dict[str, Renewal]:
    """Every subscription's rows by its id (a worker does not know which it will claim):
    `renewal.floor_rows`, the invoice for the period renewed, plus `subscription.renewed`;
    with `intents` the invoice is issued open, and its payment intent made as canone's."""
    made = {table.name: written for table, written in
            bench.floor_rows(0, count, account_ids, files)}
    assert len(made["einvoices"]) == count, "every bench customer files a FatturaPA"
    parts = {content: xml_parts(content) for content in {f["content"] for f in made["einvoices"]}}
    found = {}
    for n in range(count):
        invoice = made["invoices"][n]
        invoice["period_start"], invoice["period_end"] = PERIOD
        events = made["events"][2 * n:2 * n + 2]
        if renewed:
            events.append(rows.values(Event(
                f"evt_floor{n:08d}r", "subscription.renewed", invoice["account_id"], {
                    "subscription_id": invoice["subscription_id"], "invoice_id": invoice["id"],
                    "period_start": PERIOD[0].isoformat(), "period_end": PERIOD[1].isoformat()},
                bench.DUE)))
        intent = None
        if intents:
            invoice["status"], invoice["amount_paid"] = "open", 0
            intent = rows.values(PaymentIntent(
                "", invoice["account_id"], "invoice", invoice["total"], invoice["currency"], "",
                InvoicePayload(invoice["id"]).to_json(), IntentStatus.PENDING, bench.DUE))
        file = made["einvoices"][n]
        found[invoice["subscription_id"]] = Renewal(
            invoice, made["invoice_lines"][n], made["payments"][n], events, made["outbox"][n],
            file, events[0]["data"], parts[file["content"]], intent)
    return found


Written = list[tuple[Table, list[dict[str, Any]]]]


def renew_batch(database: Database, made: dict[str, Renewal], gateway: SandboxGateway | None,
                batch: int, crash: bool = False, salt: str = "", intents: bool = False) -> int:
    """One batch: claimed, charged, numbered, written in one transaction; how many. With
    `intents` (SPEC §9): claimed, numbered and issued with its payment intents in one, the
    intents opened, confirmed (`by_intents`), then paid and settled in a second."""
    with database.transaction() as store, driver_of(store.connection).cursor() as cursor:  # type: ignore[attr-defined]
        claimed = cursor.execute(CLAIM, {"now": bench.DUE, "batch": batch}).fetchall()
        if not claimed:
            return 0
        todo = [made[sub_id] for sub_id, _, _ in claimed]
        for (sub_id, start, card), r in zip(claimed, todo, strict=True):
            key = f"renewal:{sub_id}:{start.isoformat()}{salt}"  # a retry's is the same
            r.payment["idempotency_key"] = key
            if r.intent is not None:
                r.intent["key"], r.intent["card_token"] = key, card
        if intents:
            numbered(store, cursor, todo, [(tables.payment_intents, [r.intent for r in todo])],
                     [(tables.invoices, [r.invoice for r in todo]),
                      (tables.invoice_lines, [r.line for r in todo]),
                      (tables.events, [e for r in todo for e in r.events if e is not r.paid_event]),
                      (tables.einvoices, [r.file for r in todo])])
        else:
            if gateway is not None:
                for (_, _, card), r in zip(claimed, todo, strict=True):
                    p = r.payment
                    paid(p, gateway.charge(card, p["amount"], p["currency"], p["idempotency_key"]))
            if crash:  # dies holding the batch: nothing written, its cards charged
                os._exit(3)
            numbered(store, cursor, todo, [(tables.payments, [r.payment for r in todo])],
                     [(tables.invoices, [r.invoice for r in todo]),
                      (tables.invoice_lines, [r.line for r in todo]),
                      (tables.events, [e for r in todo for e in r.events]),
                      (tables.outbox, [r.email for r in todo]),
                      (tables.einvoices, [r.file for r in todo])])
            return len(todo)
    assert gateway is not None, "the intents variant charges cards"
    by_intents(database, gateway, todo, crash)
    with database.transaction() as store, driver_of(store.connection).cursor() as cursor:  # type: ignore[attr-defined]
        store.insert_all(tables.payments, [r.payment for r in todo])  # type: ignore[attr-defined]
        # Every bench card succeeds (`paid`): all the batch's invoices and intents in one
        # statement each, with no value of their own (a failed one would take one more).
        cursor.execute(PAID, [[r.invoice["id"] for r in todo]])
        cursor.execute(SUCCEEDED_INTENTS, [[r.payment["idempotency_key"] for r in todo]])
        store.insert_all(tables.events, [r.paid_event for r in todo])  # type: ignore[attr-defined]
        store.insert_all(tables.outbox, [r.email for r in todo])  # type: ignore[attr-defined]
    return len(todo)


def numbered(store: Any, cursor: Any, todo: list[Renewal], before: Written, after: Written
             ) -> None:
    """`before` written, the batch numbered (both counters bumped by its size: held from
    here to the commit, so as late as can be), then `after` written, numbers filled in."""
    for table, written in before:
        store.insert_all(table, written)
    asked = time.perf_counter()
    last, last_file = cursor.execute(COUNTERS, {"year": YEAR, "k": len(todo)}).fetchone()
    COUNTED.append(time.perf_counter() - asked)  # mostly the wait for the other's commit
    first, first_file = last - len(todo) + 1, last_file - len(todo) + 1
    for at, r in enumerate(todo):
        number, code = f"{YEAR}-{first + at:06d}", progressive_code(first_file + at)
        r.invoice["number"] = r.data["number"] = r.file["document_number"] = number
        r.file["file_name"] = f"{PREFIX}_{code}.xml"
        head, middle, tail = r.xml
        r.file["content"] = b"".join((head, code.encode(), middle, number.encode(), tail))
    for table, written in after:
        store.insert_all(table, written)


def by_intents(database: Database, gateway: SandboxGateway, todo: list[Renewal],
               crash: bool) -> None:
    """Outside any transaction, as canone's `open_charges` and `charge`: each committed
    intent opened at the network, their ids stored in one statement (a transaction of its
    own: canone's one for the batch too), then each confirmed. A crash from the first open
    on leaves intents pending, their subscriptions renewed: reconciliation (`reconciled`)
    asks the network by the stored id, or opens again with the intent's key (the same
    intent comes back) if the crash came before the ids were stored."""
    requests = [ChargeRequest(r.payment["idempotency_key"], r.intent["card_token"],  # type: ignore[index]
                              r.payment["amount"], r.payment["currency"], off_session=True)
                for r in todo]
    ids = [gateway.open_charge(request) for request in requests]
    with database.transaction() as store, driver_of(store.connection).cursor() as cursor:  # type: ignore[attr-defined]
        cursor.execute(PROVIDER_IDS, [[request.key for request in requests], ids])
    for r, provider_id, request in zip(todo, ids, requests, strict=True):
        paid(r.payment, gateway.confirm_charge(provider_id, request))
    if crash:  # dies with the cards charged, the intents pending with their ids
        os._exit(3)


def paid(payment: dict[str, Any], result: ChargeResult) -> None:
    if result.status != SUCCEEDED:  # (every bench card succeeds)
        raise RuntimeError(f"{payment['idempotency_key']}: {result}")
    payment["charge_id"] = result.charge_id


def worker(url: str, count: int, account_ids: list[str], files: list[bytes | None],
           sandbox: str, variant: str, batch: int, ready: Any, results: Any, crash_at: int,
           salt: str) -> None:
    """One worker process: its rows made, then batches until none is due; puts (start, end,
    renewed, CPU seconds) in `results`. `crash_at`: dies after charging that batch."""
    renewed, charged, intents = VARIANTS[variant]
    made = prepared(count, account_ids, files, renewed, intents)
    database = Database(url)
    gateway = SandboxGateway(sandbox, bench.ManualClock(bench.DUE)) if charged else None
    salt = salt and os.urandom(4).hex()  # (--random-keys: each process its own keys)
    ready.wait(timeout=600)  # every worker's rows made
    start, done, batches = time.time(), 0, 0
    try:
        while n := renew_batch(database, made, gateway, batch, batches + 1 == crash_at, salt,
                               intents):
            done, batches = done + n, batches + 1
    finally:
        database.dispose()
    results.put(Span(start, time.time(), done, sum(COUNTED)))


def run_workers(url: str, count: int, account_ids: list[str], files: list[bytes | None],
                sandbox: str, variant: str, workers: int, batch: int, crash_at: int = 0,
                salt: str = "") -> list[Span]:
    """`workers` processes at once (the first dies after charging batch `crash_at`, if
    set); what each that lived put."""
    context = multiprocessing.get_context("spawn")
    ready, results = context.Barrier(workers), context.Queue()
    processes = [context.Process(target=worker, args=(
        url, count, account_ids, files, sandbox, variant, batch, ready, results,
        crash_at if n == 0 else 0, salt)) for n in range(workers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    if any(p.exitcode not in (0, 3 if crash_at else 0) for p in processes):
        raise RuntimeError(f"a worker failed: {[p.exitcode for p in processes]}")
    return [results.get(timeout=30) for p in processes if p.exitcode == 0]


# -- exactly once ---------------------------------------------------------------------------


def left_by_run(url: str, sandbox: str | None) -> tuple[dict[str, Any], int]:
    """What `problems` looks at, read from the database and the network's file, and how many
    intents were left pending: their payments as reconciliation would write them counted
    among the payments (`reconciled`)."""
    with psycopg.connect(bench._libpq(url)) as connection:
        def all_of(sql: str) -> list[Any]:
            return connection.execute(sql).fetchall()  # type: ignore[arg-type]
        counters = all_of("SELECT (SELECT last FROM invoice_counters), "
                          "(SELECT last FROM document_counters WHERE name = 'sdi')")[0]
        found = {
            "invoices": all_of("SELECT subscription_id, period_start, number FROM invoices"),
            "files": [name for (name,) in all_of("SELECT file_name FROM einvoices")],
            "counters": (counters[0] or 0, counters[1] or 0),
            "versions": Counter(dict(all_of("SELECT version, count(*) FROM subscriptions "
                                            "GROUP BY 1"))),
            "payments": dict(all_of("SELECT idempotency_key, charge_id FROM payments"))}
        pending = all_of("SELECT key, provider_id FROM payment_intents WHERE status = 'pending'")
    if sandbox and pending:
        found["payments"] |= reconciled(sandbox, pending)
    network = sqlite3.connect(sandbox) if sandbox else None
    found["charges"] = network and network.execute(
        "SELECT idempotency_key, charge_id, status FROM charges").fetchall()
    if network:
        network.close()
    return found, len(pending)


def reconciled(sandbox: str, pending: list[tuple[str, str | None]]) -> dict[str, str]:
    """The charge id by key of each pending intent the network says succeeded, asked by the
    intent's stored id, as canone's reconciliation would settle it (a payment, the invoice
    paid): what shows that a crash after charging loses nothing."""
    gateway = SandboxGateway(sandbox, bench.ManualClock(bench.DUE))
    outcomes = {key: gateway.charge_outcome(provider_id) for key, provider_id in pending
                if provider_id is not None}
    gateway.close()
    return {key: str(o.charge_id) for key, o in outcomes.items() if o.status == SUCCEEDED}


# -- the runs -------------------------------------------------------------------------------


def _children() -> list[int]:
    return [int(pid) for tasks in Path(f"/proc/{os.getpid()}/task").iterdir()
            for pid in (tasks / "children").read_text().split()]


@contextmanager
def cpu_spent(url: str) -> Iterator[list[float]]:
    """CPU seconds of the PostgreSQL backends that connect to `url`'s database meanwhile
    (the writers') and of this process's children (the writers) from the moment the first
    of those backends is there, in the list yielded, once the block ends. Each is read every
    0.1 s: up to 0.1 s of a process's last work may be missed."""
    servers: dict[int, float] = {}
    clients: dict[int, list[float]] = {}  # pid: CPU when the first backend came, last read
    done, spent = threading.Event(), []

    def sample() -> None:
        with psycopg.connect(bench._libpq(url), autocommit=True) as connection:
            since = connection.execute("SELECT now()").fetchone()[0]  # type: ignore[index]
            while not done.wait(0.1):
                started = bool(servers)
                for (pid,) in connection.execute(
                        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                        "AND backend_start >= %s AND pid <> pg_backend_pid()", [since]):
                    with suppress(OSError):  # (gone since)
                        servers[pid] = api._stat(pid)[2]
                for pid in _children():
                    with suppress(OSError):
                        cpu = api._stat(pid)[2]
                        clients.setdefault(pid, [cpu, cpu])[started] = cpu

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        yield spent
    finally:
        done.set()
        sampler.join()
        spent += [sum(servers.values()), sum(last - first for first, last in clients.values())]


def fresh(url: str) -> None:
    """The tables a run writes emptied and the subscriptions put back as seeded (untimed),
    so that each variant starts as the floor did."""
    with psycopg.connect(bench._libpq(url), autocommit=True) as connection:
        connection.execute(f"TRUNCATE {', '.join(WRITTEN)} CASCADE")  # type: ignore[arg-type]
        connection.execute("TRUNCATE subscriptions")
        connection.execute("INSERT INTO subscriptions SELECT * FROM seeded_subscriptions")
        connection.execute("VACUUM ANALYZE")


def network_copy(cards: Path, name: str) -> str:
    """A fresh sandbox network: a copy of the file the seed stored the card in."""
    with sqlite3.connect(cards) as network:
        network.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    copy = cards.with_name(f"{name}.db")
    shutil.copyfile(cards, copy)
    return str(copy)


def one_run(database: Database, cards: Path, account_ids: list[str],
            files: list[bytes | None], args: argparse.Namespace, turn: int
            ) -> dict[str, tuple[float, float, float, float]]:
    """The floor, then each variant (from the `turn`-th on): renewals/s and client CPU ms a
    renewal (the workers' processes, the sandbox network's calls included)."""
    count = args.count
    with cpu_spent(database.url) as spent:
        seconds = bench.floor(database, count, account_ids, args.workers, files)
    found = {"floor": (count / seconds, *(1000 * cpu / count for cpu in spent), 0.0)}
    names = args.variants[turn % len(args.variants):] + args.variants[:turn % len(args.variants)]
    for name in names:
        fresh(database.url)
        sandbox = network_copy(cards, f"network-{turn}-{names.index(name)}")
        with cpu_spent(database.url) as spent:
            spans = run_workers(database.url, count, account_ids, files, sandbox, name,
                                args.workers, args.batch)
        seconds = max(s.end for s in spans) - min(s.start for s in spans)
        left, pending = left_by_run(database.url, sandbox if VARIANTS[name][1] else None)
        wrong = problems(count, **left) + [f"{pending} intents pending"] * bool(pending)
        if wrong or sum(s.done for s in spans) != count:
            raise RuntimeError(f"{name}: not exactly once: {wrong}")
        found[name] = (count / seconds, *(1000 * cpu / count for cpu in spent),
                       max(s.counted for s in spans) / seconds)
    fresh(database.url)
    return found


def report(found: dict[str, tuple[float, float, float, float]], load: str) -> None:
    floor, floor_server, floor_clients, _ = found["floor"]
    print(f"  load {load}")
    for name, (rate, server, clients, counted) in found.items():
        print(f"  {name}: {rate:,.0f}/s = {rate / floor:.3f} of the floor; CPU ms a renewal: "
              f"PostgreSQL {server:.3f}, writers {clients:.3f}, the floor's ÷ its "
              f"{(floor_server + floor_clients) / (server + clients):.2f}"
              + (f"; {counted:.0%} of the time in the counters statement (a worker's most)"
                 if name != "floor" else ""), flush=True)


def medians(runs: list[dict[str, tuple[float, float, float, float]]], workers: int) -> None:
    print(f"medians of {len(runs)} runs: floor "
          f"{statistics.median(r['floor'][0] for r in runs):,.0f} renewals/s", flush=True)
    for name in list(runs[0])[1:]:
        rate = statistics.median(r[name][0] for r in runs)
        verdict = goals.verdict(goals.Goal(name, f"renewals/s ÷ COPY floor ({workers} "
                                           "workers)", 0.50),
                                goals.ratios([r[name][0] for r in runs],
                                             [r["floor"][0] for r in runs]))
        print(f"  {rate:,.0f}/s: {verdict.line()}", flush=True)


def seeded(database: Database, cards: Path, count: int) -> list[str]:
    """`count` due subscriptions (bench/renewal.py's `seed`), kept to be put back."""
    gateway = SandboxGateway(cards, bench.ManualClock(bench.DUE))
    account_ids = bench.seed(database, gateway, count)
    gateway.close()
    with psycopg.connect(bench._libpq(database.url), autocommit=True) as connection:
        connection.execute("CREATE TABLE seeded_subscriptions AS SELECT * FROM subscriptions")
        connection.execute("VACUUM ANALYZE")
    return account_ids


def check(args: argparse.Namespace) -> int:
    """Two workers, the first dying after charging its second batch, uncommitted (with
    `--intents`: its intents confirmed, not settled); then two more finish the run. Exactly
    once, the pending intents settled from the network by their stored ids, or exit 1."""
    variant = "least + intents" if args.intents else "least"
    files = bench.renewal_files()
    with tempfile.TemporaryDirectory() as tmp, bench.postgres_database() as database:
        cards = Path(tmp) / "cards.db"
        account_ids = seeded(database, cards, args.count)
        salt = "random" if args.random_keys else ""
        lived = run_workers(database.url, args.count, account_ids, files, str(cards), variant,
                            2, args.batch, crash_at=2, salt=salt)
        left, pending = left_by_run(database.url, str(cards))
        print(f"a worker died after charging its second batch; the other renewed "
              f"{sum(s.done for s in lived):,}: {len(left['invoices']):,} invoices, "
              f"{len(left['charges']):,} cards charged so far, {pending} intents pending")
        lived = run_workers(database.url, args.count, account_ids, files, str(cards), variant,
                            2, args.batch, salt=salt)
        left, pending = left_by_run(database.url, str(cards))
        print(f"two more workers renewed {sum(s.done for s in lived):,}; {pending} intents "
              f"pending, {len(left['payments']):,} payments with those reconciliation settles")
        wrong = problems(args.count, **left)
    print(*wrong or [f"exactly once: {args.count:,} subscriptions renewed once, each card "
                     f"charged once, invoice numbers and file progressives 1..{args.count}"],
          sep="\n")
    return 1 if wrong else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("count", type=int, nargs="?", default=100_000)
    parser.add_argument("--workers", type=int, default=bench.CORES)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--check", action="store_true",
                        help="exactly once with 2 workers, one dying mid-batch")
    parser.add_argument("--random-keys", action="store_true",
                        help="with --check: charge keys not derived from (subscription, "
                             "period), which the check must catch")
    parser.add_argument("--intents", action="store_true",
                        help="the least with SPEC §9's payment intents, instead of the three "
                             "lenient variants (with --check: check it)")
    args = parser.parse_args()
    args.variants = ["least + intents"] if args.intents else LENIENT
    if args.check:
        return check(args)
    files = bench.renewal_files()
    runs = []
    with tempfile.TemporaryDirectory() as tmp, bench.postgres_database() as database:
        cards = Path(tmp) / "cards.db"
        account_ids = seeded(database, cards, args.count)
        for number in range(args.runs):
            load = f"{os.getloadavg()[0]:.1f}"
            print(f"run {number + 1} of {args.runs}, {args.count:,} renewals, "
                  f"{args.workers} workers:", flush=True)
            runs.append(one_run(database, cards, account_ids, files, args, number))
            report(runs[-1], f"{load} -> {os.getloadavg()[0]:.1f}")
    medians(runs, args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
