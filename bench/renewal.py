"""Benchmark of the renewal run (issue 3): renewals per second on PostgreSQL (and SQLite).

For each backend, on a fresh migrated database:
  1. baseline: insert N invoice rows with the database's fastest bulk path (PostgreSQL
     COPY; SQLite executemany in one transaction), into the real `invoices` table with its
     indexes, then delete them again; then the floor: the least rows N renewals must write
     (`floor_rows`), written as fast as canone writes rows by as many processes as the run
     has workers, and deleted again: first without the FatturaPA files (the floor of
     sessions 1 to 7, printed for comparison), then with them (the goal's floor: SPEC §8
     makes every invoice of a seller that files e-invoices a FatturaPA file, which a
     renewal must write, so the floor writes canone's own ~3.8 kB file for each renewal
     whose customer files one: all the bench's customers, which all have billing
     details; tax lines are a JSON column of the invoice, no rows of their own);
  2. seed N accounts (primary admin, sandbox card, billing details: `CUSTOMERS`, mostly
     Italian companies and consumers, so each renewal files a FatturaPA e-invoice as in
     production) with subscriptions all due on the same day, bulk-inserted in big
     transactions; a tenth have a scheduled reduction pending and a twentieth some credit;
  3. time `renewal.run` over them: renew (claim, price, invoice, use credit) and collect
     (charge through the sandbox card network, record the payment); every card succeeds.

Prints renewals per second, the phases, the extrapolation to 1,000,000 renewals, and
rewrites the "## Renewal run" section of bench/RESULTS.md (other sections are kept).
`--profile` runs the renewal under cProfile and prints the top functions.

By default it measures issue 14's goal: 100,000 subscriptions on PostgreSQL, the sandbox
network, a worker a core, `--runs` (3) times; the median of the runs' ratios, renewals/s ÷
the floor's renewals/s (as many writers as workers, same run, the files included), must be
>= 0.50; the median against the floor without the files is printed beside it. The last
line says whether it is met and by how much; the exit code is 1 when it is not, 2 when the
options left the goal's configuration out. `--quick`: 2,000 renewals, nothing written.

    .venv/bin/python bench/renewal.py [N] [--backends sqlite,postgres] [--workers 1,2]
                                      [--networks sandbox,instant] [--runs 3] [--batch B]
                                      [--profile] [--quick] [--no-write]

PostgreSQL: $CANONE_BENCH_POSTGRES_URL, else postgresql://postgres@127.0.0.1:5432/postgres
(a database `canone_bench_<random>` is created there and dropped at the end).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import multiprocessing
import os
import platform
import pstats
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import goals
import psycopg
from sqlalchemy import Table, delete, func, select, text, update
from sqlalchemy.engine import make_url

from canone.billing.configuration import Configuration
from canone.billing.parties import Address, BillingDetails
from canone.bootstrap import build_services
from canone.db import rows
from canone.db.billing_details import details_values
from canone.db.database import Database, normalise_url
from canone.db.tables import (
    accounts,
    billing_details,
    einvoices,
    events,
    invoice_lines,
    invoices,
    ledger_entries,
    outbox,
    payments,
    subscriptions,
    users,
)
from canone.integrations.payments import SandboxGateway
from canone.services import collection, renewal
from canone.services.clock import ManualClock
from canone.services.context import Services, local_midnight
from canone.services.documents import EInvoice
from canone.services.ports import (
    REQUIRES_CONFIRMATION,
    SUCCEEDED,
    Card,
    ChargeRequest,
    ChargeResult,
    PaymentGateway,
    StoredCard,
)
from canone.services.records import (
    Account,
    AccountBillingDetails,
    Event,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    Notification,
    Payment,
    Subscription,
    User,
)
from canone.services.vies import ViesCheck
from canone.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "## Renewal run"
GOAL = 1_000_000 / 120  # 1,000,000 renewals in under 2 minutes, per second (issue 3)
CORES = os.cpu_count() or 1
GOAL_RATIO = goals.Goal(  # issue 14: a share of the floor, PostgreSQL, sandbox, a worker a core
    "renewal", f"renewals/s ÷ COPY floor renewals/s ({CORES} workers)", 0.50)
NOT_CHECKED = 2  # the exit code of a run without the goal's configuration
ANCHOR = date(2026, 5, 1)  # every subscription: monthly from here, renewed on 1 June
DUE = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
PLANS = [
    Configuration("marketing", "plus", "month", "USD", 1000, 1),
    Configuration("marketing", "plus", "month", "USD", 2500, 3),
    Configuration("marketing", "pro", "month", "USD", 5000, 3, ("sms",)),
    Configuration("bundle", "plus", "month", "USD", 10_000, 5),
    Configuration("sales", "pro", "month", "USD", None, 4),
]


@dataclass(frozen=True)
class Customer:
    """Who a bench account bills: its billing details (each case of SPEC §8's tax table),
    VIES's stored answer, and the calendar, language and currency such a customer has."""

    details: BillingDetails
    timezone: str
    language: str
    currency: str
    vies_confirmed: bool = False


_ROME, _IT_ADDRESS = "Europe/Rome", Address("Via Tortona 27", "20144", "Milano", "MI", "IT")
_IT_SDI = Customer(BillingDetails("business", "Officina Verde S.r.l.", _IT_ADDRESS,
                                  "IT05182730159", "05182730159", "KRX5Q7A"), _ROME, "it", "EUR")
_IT_PEC = Customer(BillingDetails(  # no SDI code: the file goes to its PEC
    "business", "Studio Dentistico Alpina S.r.l.",
    Address("Via Druso 8", "38122", "Trento", "TN", "IT"), "IT03917850228",
    pec="studioalpina@pec.it"), _ROME, "it", "EUR")
_IT_CONSUMER = Customer(BillingDetails(
    "consumer", "Lucia Bellavista", Address("Via dei Neri 12", "50122", "Firenze", "FI", "IT"),
    tax_code="BLLLCU82C54D612L"), _ROME, "it", "EUR")
_DE_BUSINESS = Customer(BillingDetails(  # reverse charge: VIES confirmed its VAT id
    "business", "Lumen Analytics GmbH", Address("Torstraße 109", "10119", "Berlin", None, "DE"),
    "DE814937267"), "Europe/Berlin", "en", "EUR", vies_confirmed=True)
_FR_CONSUMER = Customer(BillingDetails(  # OSS: French VAT
    "consumer", "Camille Laurent", Address("12 rue des Capucins", "69001", "Lyon", None, "FR")),
    "Europe/Paris", "en", "EUR")
_US_BUSINESS = Customer(BillingDetails(  # outside the scope of EU VAT, billed in dollars
    "business", "Northwind Outfitters Inc.",
    Address("350 Fifth Avenue", "10118", "New York", "NY", "US"), "94-3172856"),
    "America/New_York", "en", "USD")
# An Italian seller's customers, a twentieth each: Italian companies (with an SDI code, or a
# PEC), Italian consumers, and a few EU and US businesses and consumers.
CUSTOMERS = (8 * [_IT_SDI] + 2 * [_IT_PEC] + 5 * [_IT_CONSUMER] + 2 * [_DE_BUSINESS]
             + [_FR_CONSUMER] + 2 * [_US_BUSINESS])


def customer(n: int) -> Customer:
    return CUSTOMERS[n % len(CUSTOMERS)]


def plan_of(n: int) -> Configuration:
    """Account `n`'s plan, in its customer's currency (the catalog prices both)."""
    return PLANS[n % len(PLANS)].with_(currency=customer(n).currency)


class InstantNetwork:
    """A card network that answers at once from memory (idempotent per key): what the
    engine itself costs, without the sandbox network's own SQLite file."""

    def __init__(self) -> None:
        self.charges: dict[str, ChargeResult] = {}

    def store_card(self, card: Card) -> StoredCard:
        return StoredCard("card_instant", "visa", card.number[-4:], card.exp_month,
                          card.exp_year)

    def charge(self, card_token: str, amount_minor: int, currency: str,
               idempotency_key: str) -> ChargeResult:
        return self.charges.setdefault(idempotency_key, ChargeResult(
            SUCCEEDED, f"ch_{idempotency_key}"))

    def lookup(self, idempotency_key: str) -> ChargeResult | None:
        return self.charges.get(idempotency_key)

    # Charging in two steps: the provider's intent id is canone's key, prefixed.

    def minimum_charge(self, currency: str) -> int:
        return 1

    def open_charge(self, request: ChargeRequest) -> str:
        return f"pi_{request.key}"

    def confirm_charge(self, provider_id: str, request: ChargeRequest) -> ChargeResult:
        return self.charge(request.card_token, request.amount_minor, request.currency,
                           request.key)

    def charge_outcome(self, provider_id: str) -> ChargeResult:
        key = provider_id.removeprefix("pi_")
        return self.charges.get(key) or ChargeResult(REQUIRES_CONFIRMATION, None, key=key)

    def cancel_charge(self, provider_id: str) -> ChargeResult:
        return self.charge_outcome(provider_id)


def network(kind: str, path: str, clock: ManualClock) -> PaymentGateway:
    return SandboxGateway(path, clock) if kind == "sandbox" else InstantNetwork()


def bench_services(database: Database, clock: ManualClock, gateway: PaymentGateway
                   ) -> Services:
    """The services `canone billing run` builds, on the benchmark's clock and card network
    (with the demo seller: renewals are taxed, as in production, SPEC §8)."""
    return build_services(Settings(secret_key="bench"), database, clock=clock, gateway=gateway,
                          vies=None)


# -- databases ------------------------------------------------------------------------------


@contextmanager
def sqlite_database(tmp: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp / 'bench.db'}")
    database.migrate()
    try:
        yield database
    finally:
        database.dispose()


def _libpq(url: str) -> str:
    return make_url(normalise_url(url)).set(drivername="postgresql").render_as_string(False)


@contextmanager
def postgres_database() -> Iterator[Database]:
    server = os.environ.get("CANONE_BENCH_POSTGRES_URL",
                            "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"canone_bench_{secrets.token_hex(4)}"
    with psycopg.connect(_libpq(server), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    database = Database(make_url(normalise_url(server)).set(database=name)
                        .render_as_string(False))
    try:
        database.migrate()
        yield database
    finally:
        database.dispose()
        with psycopg.connect(_libpq(server), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]


# -- the baseline: bulk-inserting N invoice rows --------------------------------------------


def invoice_rows(count: int, account_ids: list[str]) -> list[dict[str, Any]]:
    issued = DUE
    return [{"id": f"inv_base{n:08d}", "account_id": account_ids[n % len(account_ids)],
             "subscription_id": f"sub_base{n:08d}", "number": f"2099-{n + 1:06d}",
             "kind": "renewal", "currency": "USD", "issued_at": issued,
             "period_start": date(2026, 6, 1), "period_end": date(2026, 7, 1),
             "total": 4900, "credit_applied": 0, "amount_paid": 4900, "status": "paid",
             "attempts": 0, "next_attempt_at": None, "subtotal": 4900, "tax_lines": "[]",
             "issued_on": issued.date()} for n in range(count)]


def baseline(database: Database, count: int, account_ids: list[str]) -> float:
    """Seconds to insert `count` invoice rows the fastest way the database has."""
    data = invoice_rows(count, account_ids)
    columns = list(data[0])
    start = time.perf_counter()
    if database.postgres:
        raw = database.engine.raw_connection()
        try:
            cursor = raw.cursor()
            names = ", ".join(columns)
            with cursor.copy(f"COPY invoices ({names}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in data:
                    copy.write_row([row[c] for c in columns])
            raw.commit()
        finally:
            raw.close()
    else:
        raw = database.engine.raw_connection()
        try:
            placeholders = ", ".join("?" for _ in columns)
            cursor = raw.cursor()
            cursor.execute("BEGIN")
            cursor.executemany(
                f"INSERT INTO invoices ({', '.join(columns)}) VALUES ({placeholders})",
                [[_sqlite(row[c]) for c in columns] for row in data])
            cursor.execute("COMMIT")
        finally:
            raw.close()
    seconds = time.perf_counter() - start
    with database.engine.begin() as connection:
        inserted = connection.execute(select(func.count()).select_from(invoices)).scalar_one()
        assert inserted == count, inserted
        connection.execute(delete(invoices))
    return seconds


def renewal_files() -> list[bytes | None]:
    """The FatturaPA file a renewal to each of `CUSTOMERS` is (None: one that files none),
    made by canone: one account of each renewed on a scratch SQLite database, each
    invoice's file read back. The floor writes these bytes (made before its clock starts)
    as the e-invoice rows that SPEC §8 requires; real XML, as compressible as canone's."""
    with tempfile.TemporaryDirectory() as tmp_name, sqlite_database(Path(tmp_name)) as database:
        clock = ManualClock(DUE)
        gateway = InstantNetwork()
        account_ids = seed(database, gateway, len(CUSTOMERS))
        assert renewal.run(bench_services(database, clock, gateway)).renewed == len(CUSTOMERS)
        with database.engine.begin() as connection:
            made = {r.account_id: r.content for r in connection.execute(
                select(einvoices.c.account_id, einvoices.c.content)
                .where(einvoices.c.document_kind == "invoice"))}
    return [made.get(account_id) for account_id in account_ids]


def floor_rows(first: int, count: int, account_ids: list[str],
               files: list[bytes | None] | None = None
               ) -> list[tuple[Table, list[dict[str, Any]]]]:
    """The least that renewals `first` to `first + count - 1` must write, as rows (the
    updates aside): per renewal an invoice with one line, its payment, the outbox events
    `invoice.issued` and `invoice.paid` (webhooks), and the receipt email (issues 3 and 4);
    with `files` (`renewal_files`, by customer) also the FatturaPA file of each renewal
    whose customer files one (SPEC §8: every invoice of a seller that files e-invoices),
    as canone stores it (one `einvoices` row; tax lines are a JSON column of the invoice,
    no rows of their own). Left out, though canone writes them: audit entries, the
    `subscription.renewed` event, the payment intent and ledger entries; so this is a lower
    bound."""
    made: dict[str, list[dict[str, Any]]] = {"invoices": [], "lines": [], "payments": [],
                                             "events": [], "emails": [], "files": []}
    for n in range(first, first + count):
        account = n % len(account_ids)  # customer(account) is its customer (`seed`)
        account_id = account_ids[account]
        invoice = Invoice(f"inv_floor{n:08d}", account_id, f"sub_b{n:08d}",
                          f"2098-{n + 1:06d}", "renewal", "USD", DUE, date(2026, 5, 1),
                          date(2026, 6, 1), (InvoiceLine("base", "Marketing Plus", 4900),),
                          4900, 0, 4900, "paid", subtotal=4900, tax_lines=(),
                          issued_on=DUE.date())
        data = {"invoice_id": invoice.id, "number": invoice.number, "total": 4900,
                "amount_paid": 4900, "currency": "USD", "status": "paid"}
        made["invoices"].append(rows.invoice_values(invoice))
        made["lines"] += rows.line_values(invoice)
        made["payments"].append(rows.values(Payment(
            f"pay_floor{n:08d}", account_id, invoice.id, 4900, "USD", "succeeded",
            f"ch_floor{n:08d}", f"col_{invoice.id}_1", "", DUE)))
        made["events"] += [rows.values(Event(f"evt_floor{n:08d}{kind[0]}", f"invoice.{kind}",
                                             account_id, data, DUE))
                           for kind in ("issued", "paid")]
        made["emails"].append(rows.notification_values(Notification(
            f"out_floor{n:08d}", account_id, f"admin{n}@bench.example", "renewal_receipt",
            "en", data, DUE)))
        content = files[account % len(files)] if files else None
        if content is not None:
            made["files"].append(rows.values(EInvoice(
                f"einv_floor{n:08d}", account_id, "invoice", invoice.id, invoice.number,
                f"IT12345670017_floor{n:08d}.xml", content, DUE)))
    return [(invoices, made["invoices"]), (invoice_lines, made["lines"]),
            (payments, made["payments"]), (events, made["events"]), (outbox, made["emails"]),
            (einvoices, made["files"])]


def floor_writer(url: str, first: int, count: int, account_ids: list[str],
                 files: list[bytes | None] | None, ready: Any = None) -> tuple[float, float]:
    """Write what renewals `first`.. must write at the least (`floor_rows`) the way canone
    writes rows at its fastest (`insert_all`: COPY on PostgreSQL), and update their
    subscriptions in one statement, in one transaction: no logic, no card charged. The
    rows are made before the clock starts (when every writer in parallel has made its own
    and waits at the barrier `ready`); returns (start, end) in `time.time()`."""
    data = floor_rows(first, count, account_ids, files)
    database = Database(url)
    c = subscriptions.c
    mine = (c.id >= f"sub_b{first:08d}") & (c.id < f"sub_b{first + count:08d}")
    if ready is not None:
        ready.wait()
    try:
        start = time.time()
        with database.transaction() as store:
            for table, written in data:
                if written:
                    store.insert_all(table, written)  # type: ignore[attr-defined]
            store.connection.execute(  # type: ignore[attr-defined]
                update(subscriptions).where(mine).values(version=c.version + 1))
        return start, time.time()
    finally:
        database.dispose()


def floor(database: Database, count: int, account_ids: list[str], writers: int,
          files: list[bytes | None] | None = None) -> float:
    """Seconds for `writers` processes in parallel (the run's worker count) to write the
    floor of `count` renewals, a share each (with `files`: their FatturaPA files too, as
    the goal counts it; without: the floor of the sessions before 8, for comparison);
    what they wrote is removed again, untimed."""
    share = -(-count // writers)
    parts = [(first, min(share, count - first)) for first in range(0, count, share)]
    if writers == 1:
        start, end = floor_writer(database.url, 0, count, account_ids, files)
    else:
        context = multiprocessing.get_context("spawn")
        # Each writer starts once all have made their rows: on a busy machine that takes
        # 10-20 s for 50,000 renewals, and a fixed delay let one start seconds late.
        with context.Manager() as manager, context.Pool(writers) as pool:
            ready = manager.Barrier(writers)
            jobs = [pool.apply_async(floor_writer, (database.url, first, n, account_ids,
                                                    files, ready)) for first, n in parts]
            spans = [job.get() for job in jobs]
        start, end = min(s for s, _ in spans), max(e for _, e in spans)
    with database.engine.begin() as connection:
        for table in (einvoices, outbox, events, payments, invoice_lines, invoices):
            key = table.c.id if "id" in table.c else table.c.invoice_id
            connection.execute(delete(table).where(key.like("%\\_floor%", escape="\\")))
        connection.execute(update(subscriptions).values(version=subscriptions.c.version - 1))
        left = connection.execute(select(func.count()).select_from(invoices)).scalar_one()
        assert left == 0, left
    return end - start


def _sqlite(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


# -- seeding N due subscriptions ------------------------------------------------------------


def seed(database: Database, gateway: PaymentGateway, count: int, chunk: int = 5000
         ) -> list[str]:
    """N accounts with a primary admin, billing details (`CUSTOMERS`) and a monthly
    subscription due on 1 June 2026 in their time zone; all share one good sandbox card
    (the network keys charges by idempotency key, not card)."""
    card = gateway.store_card(Card("4242424242424242", 12, 2035, "123"))
    created = datetime(2026, 5, 1, 6, tzinfo=UTC)
    account_ids = []
    for first in range(0, count, chunk):
        made: dict[str, list[dict[str, Any]]] = {"accounts": [], "users": [], "details": [],
                                                 "subs": [], "credit": []}
        for n in range(first, min(first + chunk, count)):
            account_id = f"acc_b{n:08d}"
            account_ids.append(account_id)
            who = customer(n)
            made["accounts"].append(rows.account_values(Account(
                account_id, f"Bench {n}", who.timezone, who.language, who.currency, "active",
                False, card, created)))
            made["users"].append(rows.values(User(
                f"usr_b{n:08d}", account_id, f"admin{n}@bench.example", f"Admin {n}",
                "primary_admin", True, True, "not-a-real-hash")))
            vies = ViesCheck(True, created, who.details.legal_name, None, f"bench{n}") \
                if who.vies_confirmed else None
            made["details"].append(details_values(AccountBillingDetails(
                account_id, who.details, vies, who.details.country, created)))
            plan = plan_of(n)
            pending = plan.with_(seats=plan.seats - 1) if n % 10 == 3 and plan.seats > 1 \
                else None
            made["subs"].append(rows.subscription_values(Subscription(
                f"sub_b{n:08d}", account_id, plan, ANCHOR, ANCHOR, date(2026, 6, 1),
                local_midnight(date(2026, 6, 1), who.timezone), "active", pending, False, 1)))
            if n % 20 == 7:
                made["credit"].append(rows.values(LedgerEntry(
                    f"led_b{n:08d}", account_id, 1500, who.currency, "Bench credit", None,
                    created)))
        with database.engine.begin() as connection:
            for table, written in ((accounts, made["accounts"]), (users, made["users"]),
                                   (billing_details, made["details"]),
                                   (subscriptions, made["subs"]),
                                   (ledger_entries, made["credit"])):
                if written:
                    connection.execute(table.insert(), written)
    return account_ids


# -- the measurement ------------------------------------------------------------------------


@dataclass
class Measure:
    backend: str
    network: str
    count: int
    workers: int
    seed_seconds: float = 0.0
    baseline_seconds: float = 0.0
    floor_seconds: float = 0.0  # with the FatturaPA files: the goal's floor
    old_floor_seconds: float = 0.0  # without them: the floor of sessions 1 to 7
    run_seconds: float = 0.0
    collect_seconds: float = 0.0
    renewed: int = 0
    collected: int = 0
    profile: str = ""
    load: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.renewed / self.run_seconds

    @property
    def renew_rate(self) -> float:
        return self.renewed / (self.run_seconds - self.collect_seconds)

    @property
    def collect_rate(self) -> float:
        return self.collected / self.collect_seconds

    @property
    def baseline_rate(self) -> float:
        return self.count / self.baseline_seconds

    @property
    def floor_rate(self) -> float:
        return self.count / self.floor_seconds

    @property
    def old_floor_rate(self) -> float:
        return self.count / self.old_floor_seconds


def timed_collect() -> list[float]:
    """Wrap what `renewal.run` collects with to time it: `collection.charge_issued` (each
    batch's invoices, charged and settled after its commit) and `collection.collect` (what
    is due at the end of the run)."""
    spent: list[float] = []

    def timed(original: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent.append(time.perf_counter() - start)
        return call

    collection.charge_issued = timed(ORIGINAL_CHARGE_ISSUED)  # type: ignore[assignment]
    collection.collect = timed(ORIGINAL_COLLECT)  # type: ignore[assignment]
    return spent


def untimed_collect() -> None:
    collection.charge_issued = ORIGINAL_CHARGE_ISSUED  # type: ignore[assignment]
    collection.collect = ORIGINAL_COLLECT  # type: ignore[assignment]


ORIGINAL_CHARGE_ISSUED, ORIGINAL_COLLECT = collection.charge_issued, collection.collect


def worker(url: str, kind: str, gateway_path: str, batch: int, start_at: float
           ) -> tuple[int, int, float]:
    """One renewal worker process: `renewal.run` on its own engine; (renewed, collected,
    seconds spent collecting)."""
    spent = timed_collect()
    clock = ManualClock(DUE)
    database = Database(url)
    svc = bench_services(database, clock, network(kind, gateway_path, clock))
    while time.time() < start_at:  # every worker starts at the same instant
        time.sleep(0.001)
    try:
        report = renewal.run(svc, batch=batch, own_process=True)
    finally:
        database.dispose()
    return report.renewed, report.collected, sum(spent)


def measure(backend: str, kind: str, database: Database, tmp: Path, count: int,
            workers: int, batch: int, profile: bool) -> Measure:
    result = Measure(backend, kind, count, workers)
    clock = ManualClock(DUE)
    gateway_path = str(tmp / f"sandbox-{backend}.db")
    gateway = network(kind, gateway_path, clock)

    start = time.perf_counter()
    account_ids = seed(database, gateway, count)
    result.seed_seconds = time.perf_counter() - start
    result.baseline_seconds = baseline(database, count, account_ids)
    result.old_floor_seconds = floor(database, count, account_ids, workers)
    result.floor_seconds = floor(database, count, account_ids, workers, renewal_files())
    with database.engine.begin() as connection:  # fresh statistics after the bulk load
        if database.postgres:
            connection.execute(text("ANALYZE"))

    if workers == 1:
        spent = timed_collect()
        svc = bench_services(database, clock, gateway)
        profiler = cProfile.Profile() if profile else None
        try:
            start = time.perf_counter()
            if profiler is not None:
                profiler.enable()
            report = renewal.run(svc, batch=batch, own_process=True)
            if profiler is not None:
                profiler.disable()
            result.run_seconds = time.perf_counter() - start
        finally:
            untimed_collect()
        result.renewed, result.collected = report.renewed, report.collected
        result.collect_seconds = sum(spent)
        if profiler is not None:
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime")
            stats.print_stats(25)
            result.profile = out.getvalue()
    else:
        context = multiprocessing.get_context("spawn")
        with context.Pool(workers) as pool:
            start_at = time.time() + 3  # after the workers have imported everything
            jobs = [pool.apply_async(worker, (database.url, kind, gateway_path, batch,
                                              start_at))
                    for _ in range(workers)]
            done = [job.get() for job in jobs]
            result.run_seconds = time.time() - start_at
        result.renewed = sum(renewed for renewed, _, _ in done)
        result.collected = sum(collected for _, collected, _ in done)
        result.collect_seconds = max(seconds for _, _, seconds in done)

    with database.engine.begin() as connection:
        per_period = connection.execute(text(
            "SELECT count(*), count(DISTINCT subscription_id || ':' || period_start) "
            "FROM invoices WHERE kind = 'renewal'")).one()
        paid = connection.execute(text(
            "SELECT count(*) FROM invoices WHERE status = 'paid'")).scalar_one()
    assert result.renewed == count and tuple(per_period) == (count, count), (result, per_period)
    assert paid == count, paid
    return result


# -- report ---------------------------------------------------------------------------------


def machine() -> str:
    return (f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), "
            f"{platform.machine()}, Linux {platform.release()}, "
            f"Python {platform.python_version()} ({platform.python_implementation()})")


def describe(m: Measure) -> str:
    million = 1_000_000 / m.rate
    return (f"{m.backend}, {m.network} network, {m.workers} worker(s): {m.renewed:,} renewals "
            f"in {m.run_seconds:.1f} s = {m.rate:,.0f}/s (renew {m.renew_rate:,.0f}/s, "
            f"collect {m.collect_rate:,.0f}/s); 1,000,000 would take {million / 60:.1f} min; "
            f"baseline {m.baseline_rate:,.0f} invoice rows/s; floor {m.floor_rate:,.0f} "
            f"renewals/s (ratio {m.rate / m.floor_rate:.3f}), without the files "
            f"{m.old_floor_rate:,.0f}/s (ratio {m.rate / m.old_floor_rate:.3f}); load {m.load}")


def render(args: argparse.Namespace, measures: list[Measure]) -> str:
    table = "\n".join(
        f"| {m.backend} | {m.network} | {m.workers} | {m.count:,} | {m.rate:,.0f} | "
        f"{m.renew_rate:,.0f} | {m.collect_rate:,.0f} | {1_000_000 / m.rate / 60:.1f} min | "
        f"{m.baseline_rate:,.0f} | {m.rate / m.baseline_rate:.3f} | {m.floor_rate:,.0f} "
        f"| {m.old_floor_rate:,.0f} | {m.load} |"
        for m in measures)
    return f"""{SECTION}

- date: {date.today().isoformat()}
- machine: {machine()}; the machine is shared with other work, so the load average
  (1 min, at the start of each run) is in the table
- command: `.venv/bin/python bench/renewal.py {args.count} --backends {args.backends} \
--networks {args.networks} --workers {args.workers} --runs {args.runs} --batch {args.batch}`
- what is timed: `renewal.run` over N monthly subscriptions all due on the same day (a
  tenth with a scheduled reduction, a twentieth with ledger credit), on a fresh migrated
  database, a batch of 500 at a time: claim, price, apply the pending change, issue the
  invoice (gapless number, lines, audit entries, events) with its payment intent, use
  credit, move the period, commit ("renew phase"); then charge the batch's invoices and
  settle them (payment, receipt email, events; "collect phase", with the `collect` of
  whatever is due at the end of the run). Every invoice is paid at the end; each
  (subscription, period) exactly once. With 2 workers the phases of the two interleave:
  the collect phase is the longer worker's time collecting, the renew phase the rest.
- network: `sandbox` is the shipped sandbox card network (an SQLite file, a connection
  kept per thread, one committed transaction per charge); `instant` answers from memory,
  so the row shows what canone itself costs.
- workers: processes, each running `renewal.run` on its own engine (SKIP LOCKED).
- baseline: the same number of `invoices` rows inserted the database's fastest bulk way
  (PostgreSQL `COPY`; SQLite `executemany` in one transaction), same table and indexes.
- floor: the least N renewals must write, and nothing else, timed on the same database
  before the run: per renewal an invoice, its line, its payment, the outbox events
  `invoice.issued` and `invoice.paid`, the receipt email and, for each customer that
  files one (SPEC §8), its FatturaPA file (canone's own bytes, ~3.8 kB), written as canone
  writes rows at its fastest (COPY on PostgreSQL), plus one UPDATE of all N
  subscriptions; no logic, no card charged, no audit entry, intent or
  `subscription.renewed` event. No renewal run can beat it on the same machine. The goal
  is checked against it; "without files" is the floor of sessions 1 to 7, timed just
  before it, for comparison.

{HEADER}
{table}

Goal (issue 3): 1,000,000 renewals in under 2 minutes on PostgreSQL, i.e. {GOAL:,.0f}/s.
{extrapolation(measures)}

{goal_text(measures)}

{LIMITS}"""


HEADER = ("| backend | network | workers | N | renewals/s (run) | renew phase/s "
          "| collect phase/s | 1,000,000 at this rate | baseline rows/s | run / baseline "
          "| floor renewals/s | without files | load |\n"
          "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
LIMITS = """### Round 2: cutting what the profile shows (commit 8a60ef6; same machine, back to back)

Little or nothing. PostgreSQL, sandbox network, commit b1ecd0b (before) and 8a60ef6
(after) alternated twice, renewals/s; the 10,000-renewal runs with another benchmark
on the same 2 CPUs, the 20,000-renewal ones after the table above:

| renewals, load | 1 worker, before | after | 2 workers, before | after |
|---|---:|---:|---:|---:|
| 10,000, load 4-8 | 765, 786 | 765, 795 | 1,327, 1,274 | 1,253, 1,418 |
| 20,000, load 1.2-2.5 | 720, 689 | 735, 724 | 1,244, 1,224 | 1,282, 1,298 |

At the lower load each "after" beats its "before", by 2-6 %: within this machine's
noise. The table above (886/s and 1,351/s) ran at load ~1, the quietest of the session;
its rise over round 1's table (681/s and 1,249/s) is the machine's, not the code's.

Kept: settling a batch writes only each intent's status and result (`save_outcomes`),
not its payload, amount, card and creation time again: 500 intents 33.5 -> 25.9 ms
(median of 6, alternating), ~1 % of a batch. Tried and dropped, each measured:
- A sandbox charge in 2 statements (read the card, which never changes, then
  `INSERT ... ON CONFLICT DO NOTHING RETURNING`) instead of 5 (BEGIN, two reads, INSERT,
  COMMIT): 120-170 us a charge either way. The cost is the commit, WAL checkpoints
  included (with automatic checkpoints off ~120 us instead of ~180; every 10,000 pages
  instead of 1,000: 134-151 against 140-163, noise).
- `UPDATE ... FROM unnest(arrays)` for the batch updates: PostgreSQL hash-joins the
  arrays with the whole table (a sequential scan of subscriptions), and
  `save_subscriptions` went from ~65 to ~110 ms a batch in the profile.
- Ids from `os.urandom` directly (0.74 us instead of 0.89). Measured alone and not
  written: rows as `dict(zip(names, attrgetter(...)))` (2.8 us instead of 3.2), and an
  unchanged configuration's JSON left out of the subscription update (building and
  encoding it costs ~10 us a renewal, the most it could save): each well under 1 %.
cProfile inflates small functions (`new_id` looks like 8 us a call under it, 0.9 us
without): no Python function left is more than a few percent of a renewal. What is left
is spread thin over the ~13 inserted and 3 updated rows of each renewal, the server's
work on them, and the sandbox's commit per charge.

### Before and after: each batch collects its own invoices (same machine, same hour)

Before: commit 8378b99, the same command run just before the table above (load average
2.8 for the SQLite rows, 1.3-2.0 for PostgreSQL). This machine (kernel -v782) is about 3x
slower than the one of the earlier rounds below (the COPY baseline ~30,000 rows/s here,
~110,000 there): compare within this round. renewals/s of the whole run (renew phase/s,
collect phase/s):

| backend, network, workers | before | after (the table) |
|---|---:|---:|
| PostgreSQL, sandbox, 1 | 346 (1,351, 465) | 716 (1,456, 1,408) |
| PostgreSQL, sandbox, 2 | 646 (1,754, 1,022) | 1,243 (2,441, 2,531) |
| PostgreSQL, instant, 1 | 351 (1,364, 473) | 816 (1,452, 1,864) |
| PostgreSQL, instant, 2 | 711 (1,789, 1,180) | 1,404 (2,427, 3,333) |
| SQLite, sandbox, 1 | 537 (1,449, 853) | 682 (1,278, 1,461) |
| SQLite, instant, 1 | 565 (1,333, 981) | 721 (1,189, 1,835) |

Again a few minutes later, back to back at load 1.6 (PostgreSQL, sandbox): before 347/s
with 1 worker and 637/s with 2, after 707/s and 1,215/s. So 2.0x on PostgreSQL, the
collect phase 3x; on SQLite 1.3x (its "before" ran at a higher load). The renew phase now
also writes the payment intents (on SQLite without COPY), which the collect phase wrote
before, so it did not get faster.

What changed:
1. A batch's renew transaction writes, with the invoices, the pending payment intent of
   each open one (its next attempt cleared: in flight). Once it commits, the batch charges
   them and settles them in one transaction from the invoices it holds: the intents and
   the accounts are read again, locked (one query each; a paid invoice may lift a past_due
   restriction), the people read (receipt address), then one update of each invoice and
   of each intent, and payments, audit entries, events and emails with COPY. Before, a
   separate collect transaction read the invoices with their lines, updated them and wrote
   the intents, and the settling read intents, invoices with lines and accounts again:
   per invoice one insert and one update now, instead of an insert, two reads and two
   updates. The invoices are not read again because only settling their intent changes
   them (`collect` skips an invoice in flight, `collect_account` one whose intent exists)
   and settling locks the intent first and leaves one settled meanwhile alone. A crash
   after the commit leaves pending intents for `payments.reconcile`, as before (tests: the
   process dies after the second charge of a batch; a charge settled meanwhile). `collect`
   (retries on days 3, 5, 7, card updates, a batch renewed row by row) settles the same
   way; `services/collection.py` holds it.
2. Reads by a batch's ids use `= ANY(:array)` on PostgreSQL instead of an IN list of 500
   parameters, whose text psycopg parsed again at every execution (~9 ms a read).
3. The credit a batch uses is one COPY instead of one INSERT round trip per entry; JSON
   columns reuse one encoder; a configuration's JSON without `dataclasses.asdict`;
   `Record.but` copies fields instead of `dataclasses.replace` (3 us instead of 10).
4. The invoice numbers are taken after the batch's reads. Taking them after the Python of
   the renewals as well (the counter row is locked from then to the commit) would need
   placeholder numbers replaced in the invoices, audit entries, events and ledger texts;
   not done: with 2 workers, the wait for the counter row measured 0.16 and 0.51 s of an
   8 s run (10,000 renewals), and 0.03 and 0.79 s in one run before this step (noisy).

### What limits it now

- **The machine**: the floor column is the least N renewals must write (an invoice, its
  line, its payment, two outbox events, the receipt email; one UPDATE of the
  subscriptions), written with COPY by as many processes as the run has workers, with no
  logic and no card charged. Over this session's runs it measured 6,500-10,800
  renewals/s, moving with the machine's load: writing those rows alone for 1,000,000
  renewals takes 77-128 % of the 2-minute budget, leaving little or nothing for pricing,
  charging, audit entries and intents, so the goal is out of reach here for any code
  that writes what a renewal must. The machine also varies between sessions: the earlier
  rounds below ran on one whose COPY baseline was ~3.7x faster.
- **Python, one worker**: about 75 % of a worker's wall time is its own CPU (9.6 s of
  13.0 s for 10,000 renewals on PostgreSQL), the rest waiting for the server. A batch of
  500 takes ~650 ms (timed per store call, sandbox network, load ~1.4): the renew
  transaction ~275 ms (the Python of the renewals ~75, invoices and lines 50, subscription
  updates 50, audit entries and events ~47, accounts 14, intents 16), claiming 31, the
  charges 86 (~170 us each through the sandbox's SQLite file), the settling ~250 (invoice
  updates 46, intent updates 42, audit entries and events ~47, payments 19, emails 18,
  intents locked 21, accounts locked 14, people 12, the Python of `settle_in` ~40). Every
  renewal and its collection update 3 rows (subscription, invoice, intent; executemany,
  one statement per row, the server's work per row dominates: `UPDATE ... FROM unnest()`
  was no faster for 500 invoice updates in plain psycopg, 22 ms against 18 with the
  commit), insert ~13 rows and encode ~12 JSON documents.
- **Workers**: 2 processes gave 1.7-1.75x on 2 CPUs shared with the PostgreSQL server and
  with each other; the counter row is a small part of it (above).
- **A real card network** answers in 100-500 ms: charged one after another, as a batch
  does, 1,000,000 charges take a day or more; in 2 minutes they need 1,000-4,000 charges
  in flight, i.e. concurrent charges (threads or async), each with its own key.
- **The baseline** writes one row per renewal with COPY; a renewal and its collection
  write ~13 rows and update 3, in Python, hence a ratio of 1 to 20-80.
- **What it would take** to reach 8,333/s on this machine: 6.7x the sandbox network's
  best rate in the table (1,243/s, 2 workers; 5.9x the instant network's 1,404/s), i.e.
  ~0.12 ms per renewal where one worker spends ~1.4 ms: set-based SQL (invoices and lines
  as INSERT ... SELECT from the due subscriptions and a catalog table, payments and paid
  invoices the same way from the charge results), far less Python per row, and more
  cores for more workers.

### Earlier: the sandbox connection and COPY (commits 1fdb773, 3416c6a; kernel -v657)

renewals/s of the whole run (renew phase/s, collect phase/s), before (commit 95409e6) and
after: PostgreSQL sandbox 1 worker 311 (2,293, 359) → 1,126 (5,051, 1,449); 2 workers 610
(2,325, 827) → 2,082 (5,687, 3,285); PostgreSQL instant 992 (3,079, 1,464) → 1,078 (4,930,
1,380); SQLite sandbox 548 (4,753, 619) → 1,813 (4,741, 2,936). The sandbox network keeps
one SQLite connection per thread (~3,400 us a charge before, ~60 us after), and on
PostgreSQL `insert_all` writes 8 rows or more with one `COPY ... FROM STDIN`. Not done
then: `charge_many` (a card network takes each charge on its own key, outcome and
time-out; none charges a batch of cards in one call), and `UPDATE ... FROM unnest()` for
the subscription updates (15 % on that statement, 3 % of the renew phase).

### Earlier: the batching (commit f04f5d0; N = 2,000, load average ~2)

renewals/s of the whole run (renew phase/s, collect phase/s), before (commit a47eb72) and
after: PostgreSQL sandbox 112 (380, 158) → 608 (3,284, 746); PostgreSQL instant 130 (363,
203) → 1,610 (3,369, 3,083); SQLite sandbox 188 (733, 253) → 665 (5,671, 753); SQLite
instant 272 (724, 437) → 1,960 (4,259, 3,632). `SqlStore` statements reuse one compiled
statement per table with the values as parameters (SQLAlchemy was coercing and
cache-keying every literal, 80 % of the renew phase), and batches write a few statements
per 500 renewals or collections instead of ~11-16 round trips each, falling back to one
row at a time when a batch cannot be written so.
"""


def extrapolation(measures: list[Measure]) -> str:
    postgres = [m for m in measures if m.backend == "postgres"]
    if not postgres:
        return ""
    best = max(postgres, key=lambda m: m.rate)
    minutes = 1_000_000 / best.rate / 60
    one_worker = [f"{1_000_000 / m.rate / 60:.0f} minutes" for m in postgres
                  if m.network == "sandbox" and m.workers == 1]
    # Said only when the run measured one worker (a run of the goal's workers has none).
    single = (" With the sandbox network and one worker, it takes " + ", ".join(one_worker)
              + ".") if one_worker else ""
    return (f"Extrapolation: the best PostgreSQL rate of this run, {best.rate:,.0f}/s "
            f"({best.network} network, {best.workers} worker(s)), renews 1,000,000 "
            f"subscriptions in {minutes:.1f} minutes: the goal is "
            f"{GOAL / best.rate:.1f}x away on this machine.{single}\n\n"
            + floor_verdict(postgres))


def goal_text(measures: list[Measure]) -> str:
    verdict = goal_verdict(measures)
    if verdict is None:
        return (f"Issue 14's goal (PostgreSQL, sandbox network, {CORES} workers) was not "
                f"measured in this run.")
    return (f"Issue 14's goal, each run against its own floor: {verdict.line()}. "
            f"{old_floor(measures)}.")


def old_floor(measures: list[Measure]) -> str:
    """The goal's runs against the floor without the FatturaPA files, for comparison."""
    mine = goal_runs(measures)
    old = [m.rate / m.old_floor_rate for m in mine]
    return (f"Against the floor without the FatturaPA files (sessions 1 to 7): median "
            f"{statistics.median(old):.3f} ({', '.join(f'{r:.3f}' for r in old)})")


def floor_verdict(postgres: list[Measure]) -> str:
    """What the floor says of the goal, from the PostgreSQL rows of this run."""
    best = max(postgres, key=lambda m: m.floor_rate)
    seconds = 1_000_000 / best.floor_rate
    share = seconds / (1_000_000 / GOAL)
    verdict = (f"{share:.0%} of the 2-minute budget goes to these writes alone, before any "
               f"pricing, card charge, audit entry or payment intent: on this machine no "
               f"renewal run can reach the goal" if share >= 1 else
               f"these writes alone take {share:.0%} of the 2-minute budget, leaving "
               f"{1 - share:.0%} for pricing, charging and the other rows")
    same = [f"{m.rate / m.floor_rate:.0%} ({m.network}, {m.workers})" for m in postgres]
    return (f"Floor on PostgreSQL: at best {best.floor_rate:,.0f} renewals/s "
            f"({best.workers} writer(s)), i.e. 1,000,000 in {seconds:.0f} s only to write the "
            f"least rows and update the subscriptions; {verdict}. Each run as a share of the "
            f"floor with as many writers as workers (network, workers): {', '.join(same)}.")


def write_results(text_: str) -> None:
    old = RESULTS.read_text("utf-8") if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    new = (pattern.sub(lambda _: text_, old) if pattern.search(old)
           else old.rstrip("\n") + "\n\n" + text_)
    RESULTS.write_text(new, "utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("count", type=int, nargs="?", default=100_000)
    parser.add_argument("--backends", default="postgres")
    parser.add_argument("--networks", default="sandbox")
    parser.add_argument("--workers", default=str(CORES),
                        help="comma-separated worker counts (PostgreSQL; SQLite runs 1)")
    parser.add_argument("--runs", type=int, default=3,
                        help="times to measure each combination; the goal is the median")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 2,000 renewals, nothing written")
    parser.add_argument("--no-write", action="store_true", help="do not touch RESULTS.md")
    args = parser.parse_args()
    if args.quick:
        args.count, args.no_write = 2_000, True

    measures = []
    for number in range(args.runs):
        for backend in args.backends.split(","):
            for kind in args.networks.split(","):
                counts = [1] if backend == "sqlite" else [int(w) for w in args.workers.split(",")]
                for workers in counts:
                    print(f"run {number + 1} of {args.runs}: ", end="", flush=True)
                    measures.append(measure_one(args, backend, kind, workers))
    if not args.no_write and not args.profile:
        write_results(render(args, measures))
        print(f"updated {RESULTS.relative_to(ROOT)}")
    verdict = goal_verdict(measures)
    if verdict is None:
        print(f"renewal: goal not checked: it needs a PostgreSQL run on the sandbox network "
              f"with {CORES} workers (--backends postgres --networks sandbox --workers "
              f"{CORES})", flush=True)
        return NOT_CHECKED
    print(old_floor(measures), flush=True)
    return goals.finish([verdict])


def measure_one(args: argparse.Namespace, backend: str, kind: str, workers: int) -> Measure:
    load = f"{os.getloadavg()[0]:.1f}"
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        opened = sqlite_database(tmp) if backend == "sqlite" else postgres_database()
        with opened as database:
            m = measure(backend, kind, database, tmp, args.count, workers, args.batch,
                        args.profile)
    m.load = load
    print(describe(m), flush=True)
    if m.profile:
        print(m.profile, flush=True)
    return m


def goal_runs(measures: list[Measure]) -> list[Measure]:
    """The runs in the goal's configuration: PostgreSQL, sandbox network, a worker a core."""
    return [m for m in measures
            if (m.backend, m.network, m.workers) == ("postgres", "sandbox", CORES)]


def goal_verdict(measures: list[Measure]) -> goals.Verdict | None:
    """Issue 14's goal over the runs in its configuration (PostgreSQL, sandbox network, a
    worker a core), each against the floor written by as many writers in the same run."""
    mine = goal_runs(measures)
    if not mine:
        return None
    return goals.verdict(GOAL_RATIO, goals.ratios([m.rate for m in mine],
                                                  [m.floor_rate for m in mine]))


if __name__ == "__main__":
    sys.exit(main())
