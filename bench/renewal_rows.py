"""The billing run's ceiling: what the rows canone writes per renewal cost, with no logic.

`renewal.py`'s floor writes the least a renewal must (an invoice, a line, a payment, two
events, an email, the FatturaPA file; all subscriptions updated in one statement; printed
also without the files, the floor before session 8). canone writes more, each for a reason
of the spec (audit entries, the `subscription.renewed` event, the payment intent committed
before the charge, its provider id stored before confirming, the settle writes): per
renewal (counted with pg_stat_user_tables over a run of the benchmark, whose accounts have
billing details) 3.1 audit entries, 3.1 events, 1.6 invoice lines, an invoice, its
FatturaPA file (~3.8 kB), an intent, a payment, an email and 0.05 ledger entries inserted;
the subscription, the invoice and the intent (twice) updated; the FatturaPA counter once a
batch; and two calls to the sandbox card network. This writes exactly those rows through
canone's own SQL repositories, batches of 500 in the transactions the run uses (renew;
provider ids; settle), by as many processes as workers, and no Python of the renewals (no
file is built: canone's bytes for the renewal's customer, `renewal.renewal_files`, are
made beforehand): the most any code that keeps today's rows can reach, as a share of the
floor measured in the same run.

    .venv/bin/python bench/renewal_rows.py [N] [--workers 2] [--no-network] [--cpu]

`--cpu`: in one process, the wall and CPU time of a renewal, canone's run and then its rows
alone (the CPU time is far less moved by the machine's load than the wall time).
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import renewal as bench

from canone.db.database import Database
from canone.integrations.payments import SandboxGateway
from canone.services import renewal
from canone.services.context import local_midnight
from canone.services.documents import EInvoice
from canone.services.ports import Card, ChargeRequest
from canone.services.records import (
    AuditEntry,
    Event,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    Notification,
    Payment,
    PaymentIntent,
    Subscription,
)

BATCH = 500
DUE = bench.DUE


def renewal_rows(n: int, account_id: str, card: str, files: list[bytes | None]
                 ) -> dict[str, Any]:
    """What renewal `n` writes, as canone's records (made before the clock starts); `files`:
    `renewal.renewal_files`, every bench customer's (each files one)."""
    inv = f"inv_ceil{n:08d}"
    currency = bench.customer(n).currency
    lines = [InvoiceLine("base", "Marketing Plus", 4900)]
    if n % 5 < 3:  # 1.6 lines an invoice: a reduction's or an add-on's line
        lines.append(InvoiceLine("sms", "SMS add-on", 0))
    invoice = Invoice(inv, account_id, f"sub_b{n:08d}", f"2097-{n + 1:06d}", "renewal",
                      currency, DUE, date(2026, 6, 1), date(2026, 7, 1), tuple(lines), 4900,
                      0, 0, "open", subtotal=4900, tax_lines=(), issued_on=DUE.date())
    key = f"col_{inv}_1"
    intent = PaymentIntent(key, account_id, "invoice", 4900, currency, card,
                           {"v": 1, "invoice_id": inv, "on_session": False}, "pending", DUE)
    data = {"invoice_id": inv, "number": invoice.number, "total": 4900, "currency": currency,
            "status": "open", "period_start": "2026-06-01", "period_end": "2026-07-01"}
    audit = [AuditEntry(f"aud_ceil{n:08d}{k}", account_id, "system", action, None, data, DUE)
             for k, action in enumerate(("invoice.issued", "subscription.renewed",
                                         "payment.succeeded"))]
    events = [Event(f"evt_ceil{n:08d}{k}", kind, account_id, data, DUE)
              for k, kind in enumerate(("invoice.issued", "subscription.renewed",
                                        "invoice.paid"))]
    # Its file's bytes, canone's for its customer (named when its progressive is taken).
    content = files[n % len(files)]
    assert content is not None, "every bench customer files a FatturaPA e-invoice"
    einvoice = EInvoice(f"einv_ceil{n:08d}", account_id, "invoice", inv, invoice.number, "",
                        content, DUE)
    return {"invoice": invoice, "intent": intent, "audit": audit, "events": events,
            "einvoice": einvoice,
            "ledger": [LedgerEntry(f"led_ceil{n:08d}", account_id, -1500, "USD",
                                   f"Applied to invoice {invoice.number}", inv, DUE)]
            if n % 20 == 7 else [],
            "payment": Payment(f"pay_ceil{n:08d}", account_id, inv, 4900, "USD", "succeeded",
                               f"ch_ceil{n:08d}", key, "", DUE),
            "email": Notification(f"out_ceil{n:08d}", account_id, f"admin{n}@bench.example",
                                  "renewal_receipt", "en", data, DUE)}


def renewed(n: int, account_id: str) -> Subscription:
    """Subscription `n` as `renewal.seed` made it, one period on (written whole, as the run
    writes it)."""
    return Subscription(f"sub_b{n:08d}", account_id, bench.plan_of(n), bench.ANCHOR,
                        date(2026, 6, 1), date(2026, 7, 1),
                        local_midnight(date(2026, 7, 1), bench.customer(n).timezone), "active",
                        None, False, 2)


def write_batch(database: Database, subs: list[Subscription], made: list[dict[str, Any]],
                gateway: SandboxGateway | None) -> None:
    """One batch as the run writes it, in its three transactions, the card network between."""
    with database.transaction() as store:
        progressives = store.documents.next_sdi_progressives(len(made))
        store.invoices.add_many([m["invoice"] for m in made])
        store.documents.add_einvoices([m["einvoice"].but(file_name=f"IT12345670017_{p}.xml")
                                       for m, p in zip(made, progressives, strict=True)])
        store.payments.add_intents([m["intent"] for m in made])
        store.ledger.add_many([e for m in made for e in m["ledger"]])
        store.subscriptions.save_many(subs)
        store.audit.add_many([m["audit"][k] for m in made for k in range(2)])
        store.outbox.add_events([m["events"][k] for m in made for k in range(2)])
    opened = []
    for m in made:
        intent = m["intent"]
        request = ChargeRequest(intent.key, intent.card_token, 4900, "USD", off_session=True)
        provider_id = gateway.open_charge(request) if gateway else f"pi_{intent.key}"
        opened.append((intent.key, provider_id, request))
    with database.transaction() as store:
        store.payments.save_provider_ids([(key, pid) for key, pid, _ in opened])
    results = [gateway.confirm_charge(pid, request) if gateway else None
               for _, pid, request in opened]
    with database.transaction() as store:
        store.invoices.save_many([m["invoice"].but(status="paid", amount_paid=4900)
                                  for m in made])
        store.payments.save_outcomes([m["intent"].but(
            status="succeeded", result={"v": 1, "invoice_id": m["invoice"].id})
            for m in made])
        store.payments.add_many([m["payment"] for m in made])
        store.audit.add_many([m["audit"][2] for m in made])
        store.outbox.add_events([m["events"][2] for m in made])
        store.outbox.add_notifications([m["email"] for m in made])
    assert gateway is None or all(r.status == "succeeded" for r in results)


def writer(url: str, first: int, count: int, account_ids: list[str], card: str,
           files: list[bytes | None], gateway_path: str | None, start_at: float
           ) -> tuple[float, float]:
    """Renewals `first`.. written batch by batch; (start, end) in `time.time()`."""
    database = Database(url)
    gateway = SandboxGateway(gateway_path, bench.ManualClock(DUE)) if gateway_path else None
    made = [renewal_rows(n, account_ids[n], card, files) for n in range(first, first + count)]
    subs = [renewed(n, account_ids[n]) for n in range(first, first + count)]
    while time.time() < start_at:
        time.sleep(0.001)
    try:
        start = time.time()
        for at in range(0, count, BATCH):
            write_batch(database, subs[at:at + BATCH], made[at:at + BATCH], gateway)
        return start, time.time()
    finally:
        database.dispose()


def ceiling(database: Database, count: int, account_ids: list[str], workers: int,
            gateway_path: str | None, card: str, files: list[bytes | None]) -> float:
    """Seconds for `workers` processes to write the rows of `count` renewals, a share each."""
    share = -(-count // workers)
    parts = [(first, min(share, count - first)) for first in range(0, count, share)]
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        start_at = time.time() + 3 + count / 20_000  # after each has made its rows
        jobs = [pool.apply_async(writer, (database.url, first, n, account_ids, card, files,
                                          gateway_path, start_at)) for first, n in parts]
        spans = [job.get() for job in jobs]
    return max(e for _, e in spans) - min(s for s, _ in spans)


def cpu_per_renewal(count: int) -> str:
    """In this one process, no parallelism: the wall and CPU time a renewal takes (the
    sandbox network's calls included: it runs in-process), canone's run, then its rows
    alone on a fresh database. The CPU time moves far less with the machine's load than
    the wall time does; the server's CPU is not in it."""
    spent = {}
    files = bench.renewal_files()
    for what in ("canone", "rows"):
        with tempfile.TemporaryDirectory() as tmp, bench.postgres_database() as database:
            clock = bench.ManualClock(DUE)
            gateway = SandboxGateway(str(Path(tmp) / "sandbox.db"), clock)
            card = gateway.store_card(Card("4242424242424242", 12, 2035, "123")).token
            account_ids = bench.seed(database, gateway, count)
            made = [renewal_rows(n, account_ids[n], card, files) for n in range(count)]
            subs = [renewed(n, account_ids[n]) for n in range(count)]
            svc = bench.bench_services(database, clock, gateway)
            wall, cpu = time.perf_counter(), time.process_time()
            if what == "canone":
                assert renewal.run(svc).collected == count
            else:
                for at in range(0, count, BATCH):
                    write_batch(database, subs[at:at + BATCH], made[at:at + BATCH], gateway)
            spent[what] = (1000 * (time.perf_counter() - wall) / count,
                           1000 * (time.process_time() - cpu) / count)
    return (f"{count:,} renewals, 1 process, load {bench.os.getloadavg()[0]:.1f}: canone "
            f"{spent['canone'][0]:.3f} ms a renewal ({spent['canone'][1]:.3f} ms CPU); its "
            f"rows alone {spent['rows'][0]:.3f} ms ({spent['rows'][1]:.3f} ms CPU)")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("count", type=int, nargs="?", default=20_000)
    parser.add_argument("--workers", type=int, default=bench.CORES)
    parser.add_argument("--no-network", action="store_true",
                        help="leave the sandbox card network's two calls a renewal out")
    parser.add_argument("--cpu", action="store_true",
                        help="time a renewal in one process instead, CPU time too")
    args = parser.parse_args()
    if args.cpu:
        print(cpu_per_renewal(args.count))
        return 0
    load = f"{bench.os.getloadavg()[0]:.1f}"
    with tempfile.TemporaryDirectory() as tmp, bench.postgres_database() as database:
        gateway_path = None if args.no_network else str(Path(tmp) / "sandbox.db")
        gateway = SandboxGateway(gateway_path or str(Path(tmp) / "cards.db"),
                                 bench.ManualClock(DUE))
        card = gateway.store_card(Card("4242424242424242", 12, 2035, "123")).token
        account_ids = bench.seed(database, gateway, args.count)
        files = bench.renewal_files()
        old_seconds = bench.floor(database, args.count, account_ids, args.workers)
        floor_seconds = bench.floor(database, args.count, account_ids, args.workers, files)
        ceiling_seconds = ceiling(database, args.count, account_ids, args.workers,
                                  gateway_path, card, files)
    floor_rate, ceiling_rate = args.count / floor_seconds, args.count / ceiling_seconds
    old_rate = args.count / old_seconds
    network = "without the card network" if args.no_network else "with the sandbox network"
    print(f"{args.count:,} renewals, {args.workers} writer(s), load {load}: floor "
          f"{floor_rate:,.0f}/s ({old_rate:,.0f}/s without the files); canone's rows "
          f"{network}, no logic: {ceiling_rate:,.0f}/s = {ceiling_rate / floor_rate:.2f} of "
          f"the floor ({ceiling_rate / old_rate:.2f} of the one without the files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
