"""The billing run: renew every period that has ended, then collect what is owed (SPEC §5).

Each (subscription, period) is invoiced at most once: subscriptions are claimed with row
locks (SKIP LOCKED on PostgreSQL, so many workers can share the run), and the store refuses
a second renewal invoice for the same period start.

A subscription that cannot be billed from the catalog (its configuration has a custom price,
or is no longer in the catalog) blocks only itself: it is left due, an audit entry and a
`renewal.blocked` event say why (once per period), and the run goes on with the others.

A batch's transaction also writes the payment intents of the invoices it issues, so they
are charged right after it commits and settled from memory (`collection.charge_issued`);
a crash in between leaves pending intents for `payments.reconcile`, as any charge does.
"""

from __future__ import annotations

import gc
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import date, datetime, timedelta
from functools import partial

from canone.billing.configuration import Configuration, validate
from canone.billing.errors import InvalidField
from canone.billing.invoicing import InvoiceStatus, is_taxed
from canone.billing.pricing import CUSTOM, Price, price
from canone.billing.seller import document_date
from canone.services import collection, einvoice_files, subscriptions, taxation
from canone.services.batching import BatchStore
from canone.services.collection import RunReport
from canone.services.context import (
    Services,
    config_json,
    record_change,
    subscription_json,
)
from canone.services.documents import EInvoice
from canone.services.errors import Conflict, existing
from canone.services.forwarding import (
    ForwardDocuments,
    ForwardInvoices,
    ForwardLedger,
    ForwardSubscriptions,
)
from canone.services.records import (
    CANCELLED,
    Account,
    AccountBillingDetails,
    Invoice,
    LedgerEntry,
    PaymentIntent,
    Subscription,
)
from canone.services.repositories import Documents, Invoices, Ledger, Subscriptions
from canone.services.store import Store
from canone.services.taxation import DocumentTerms

# What `renew_one` did with a due subscription.
RENEWED, CANCELLED_NOW, BLOCKED = "renewed", "cancelled", "blocked"


Progress = Callable[[int], None]


def run(svc: Services, until: datetime | None = None, batch: int = 500,
        progress: Progress | None = None, own_process: bool = False) -> RunReport:
    """Renew everything due up to `until` (default now), and collect what is owed.

    Each batch is one transaction, written in a few statements (`_BatchStore`), with the
    payment intents of its invoices; they are charged and settled as soon as it commits. A
    batch that cannot be written so (a conflict, a year that turned mid-batch) is rolled
    back and renewed again one subscription at a time, its invoices left to `collect`,
    which ends the run with every open invoice whose next attempt is due. A blocked
    subscription stays due, and is not claimed again in this run.

    `own_process`: the run is all its process does (`canone billing run`), so it may pause
    the process's garbage collector for its batches (`_collected_between_batches`); a run
    inside the server leaves it alone, for the requests served meanwhile."""
    until = until or svc.now()
    report = RunReport()
    blocked: set[str] = set()
    pausing = _collected_between_batches() if own_process else nullcontext(_nothing)
    with pausing as between_batches:
        _run_batches(svc, until, batch, progress, report, blocked, between_batches)
    collection.collect(svc, svc.now(), report)
    return report


def _nothing() -> None:
    """Between batches of a run that leaves the collector alone."""


@contextmanager
def _collected_between_batches() -> Iterator[Callable[[], object]]:
    """Python's cyclic garbage collector paused while the batches run, its young
    generations collected after each batch instead (the call it yields): a batch keeps
    hundreds of thousands of objects alive at once (its renewals' records, rows and files),
    and the collector's automatic passes walked them over and over, ~10 % of the run's CPU
    (gc.callbacks, 10,000 renewals). What a batch leaves in cycles is freed after it, as
    before. The pause is the process's; the collector is on again at the end if it was."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield partial(gc.collect, 1)
    finally:
        if enabled:
            gc.enable()


def _run_batches(svc: Services, until: datetime, batch: int, progress: Progress | None,
                 report: RunReport, blocked: set[str], between_batches: Callable[[], object]
                 ) -> None:
    while True:
        done = RunReport()
        issued: list[tuple[PaymentIntent, Invoice]] = []
        try:
            with svc.database.transaction() as store:
                due = store.subscriptions.claim_due(until, batch, sorted(blocked))
                outcomes, issued = _renew_batch(svc, store, due, done)
        except (Conflict, _Fallback):
            done = RunReport()
            with svc.database.transaction() as store:
                due = store.subscriptions.claim_due(until, batch, sorted(blocked))
                outcomes = [renew_one(svc, store, sub, done) for sub in due]
        collection.charge_issued(svc, issued, report)
        blocked.update(sub.id for sub, outcome in zip(due, outcomes, strict=True)
                       if outcome == BLOCKED)
        report.renewed += done.renewed
        report.cancelled += done.cancelled
        report.blocked += done.blocked
        if progress is not None:
            progress(len(due))
        between_batches()
        if not due:  # a subscription several periods behind comes back once per period
            break


class _Fallback(Exception):
    """The batch could not be written in one go: renew it row by row."""


def _renew_batch(svc: Services, store: Store, due: list[Subscription], report: RunReport
                 ) -> tuple[list[str], list[tuple[PaymentIntent, Invoice]]]:
    """Renew a batch in the caller's transaction: what became of each (`renew_one`), and
    the invoices to charge once it commits, with their intents (written in it)."""
    if not due:
        return [], []
    ids = sorted({sub.account_id for sub in due})
    accounts = store.accounts.by_ids(ids)
    # Every invoice is taxed, and filed, by its account's details (one read each else).
    saved = store.accounts.billing_details_by_ids(ids)
    details = {account_id: saved.get(account_id) for account_id in ids}
    # Documents are dated, and numbered, in the seller's calendar (SPEC §8).
    year = document_date(svc.now()).year
    bill = _priced_once(svc)
    billed = [sub for sub in due
              if not sub.cancel_at_period_end and isinstance(bill(sub), Price)]
    years = Counter(year for _ in billed)
    balances = store.ledger.balances_of(ids)
    # Each account's terms, worked out once: to count the files, and to tax its invoice.
    now = svc.now()
    terms = {account_id: taxation.terms_of(svc.seller, saved, now)
             for account_id, saved in details.items()}
    files = _files(svc, terms, balances, billed, bill) if einvoice_files.filing(svc) else 0
    # Last before renewing: the counter rows stay locked until the batch commits, and a
    # concurrent worker's batch waits for them. The progressives after the numbers, as
    # every transaction that issues a document takes them.
    numbers = {year: store.invoices.next_numbers(year, count)
               for year, count in sorted(years.items())}
    progressives = store.documents.next_sdi_progressives(files) if files else []
    batch = _BatchStore(svc, store, accounts, details, balances, numbers, progressives)
    outcomes = [renew_one(svc, batch, sub, report, bill(sub), terms[sub.account_id])
                for sub in due]
    batch.flush()
    return outcomes, batch.batch_invoices.charges


def _files(svc: Services, terms: dict[str, DocumentTerms], balances: dict[str, int],
           billed: list[Subscription], bill: Callable[[Subscription], Price | str]) -> int:
    """How many of the batch's invoices are FatturaPA files (SPEC §8), each taking an SDI
    progressive: asked of `einvoice_files.makes_file`, as `file_invoice` asks it of each
    invoice, with the customer and the tax lines its invoice will have (taxed by the
    account's terms; its lines the price's and what a negative balance carries). The
    balance is the one read for the batch: only a second renewal of one account, priced
    with no lines at all, could carry less than that, and its batch would fall back."""
    count = 0
    for sub in billed:
        price = bill(sub)
        assert isinstance(price, Price)  # `billed` holds only these
        account_terms = terms[sub.account_id]
        lines = subscriptions.invoice_lines(price.lines, balances[sub.account_id])
        count += einvoice_files.makes_file(svc, account_terms.customer,
                                           is_taxed(lines, account_terms.treatment))
    return count


class _BatchLedger(ForwardLedger):
    """The balances read for the whole batch, following the credit it uses."""

    def __init__(self, inner: Ledger, balances: dict[str, int]) -> None:
        super().__init__(inner)
        self.balances = balances
        self.added: list[LedgerEntry] = []

    def balance_of(self, account_id: str) -> int:
        return self.balances[account_id]

    def add(self, entry: LedgerEntry) -> None:
        self.balances[entry.account_id] += entry.amount
        self.added.append(entry)


class _BatchInvoices(ForwardInvoices):
    """Invoice numbers taken for the batch in one statement; the invoices issued kept, and
    the intents to collect the open ones made, for `_BatchStore.flush`."""

    def __init__(self, svc: Services, inner: Invoices, documents: Documents,
                 accounts: dict[str, Account], numbers: dict[int, list[str]]) -> None:
        super().__init__(inner)
        self._svc = svc
        self._documents = documents
        self._accounts = accounts
        self.numbers = {year: deque(taken) for year, taken in numbers.items()}
        self.added: list[Invoice] = []
        self.charges: list[tuple[PaymentIntent, Invoice]] = []  # intent, invoice

    def next_number(self, year: int) -> str:
        if not self.numbers.get(year):
            raise _Fallback(f"no number of {year} was taken for this batch")
        return self.numbers[year].popleft()

    def next_number_with_progressive(self, year: int) -> tuple[str, int]:
        # Both were taken for the whole batch before (`_BatchDocuments`).
        return self.next_number(year), self._documents.next_sdi_progressive()

    def renewal_invoiced(self, subscription_id: str, period_start: date) -> bool:
        # Not asked row by row: the batch's insert of its invoices finds a billed period
        # (Conflict), and the batch, invoice numbers included, is rolled back and redone.
        return False

    def add(self, invoice: Invoice) -> None:
        # Its first attempt is in flight from this commit on.
        if invoice.status == InvoiceStatus.OPEN:
            invoice = invoice.but(next_attempt_at=None)
            self.charges.append((collection.intent_for(
                self._svc, invoice, self._accounts[invoice.account_id]), invoice))
        self.added.append(invoice)


class _BatchDocuments(ForwardDocuments):
    """FatturaPA progressives taken for the batch in one statement, used in the order the
    files are made (as one at a time would be); the files kept for `_BatchStore.flush`."""

    def __init__(self, inner: Documents, progressives: list[int]) -> None:
        super().__init__(inner)
        self.progressives = deque(progressives)
        self.added: list[EInvoice] = []

    def next_sdi_progressive(self) -> int:
        if not self.progressives:
            raise _Fallback("no FatturaPA progressive was taken for this file")
        return self.progressives.popleft()

    def add_einvoice(self, file: EInvoice) -> None:
        self.added.append(file)


class _BatchSubscriptions(ForwardSubscriptions):
    def __init__(self, inner: Subscriptions) -> None:
        super().__init__(inner)
        self.saved: list[Subscription] = []

    def save(self, subscription: Subscription) -> None:
        self.saved.append(subscription)


class _BatchStore(BatchStore):
    """The store as one batch of renewals sees it: accounts, their billing details and
    balances read for the whole batch at once, invoice numbers and FatturaPA progressives
    taken in one statement each, and what each renewal writes (invoices, their files and the
    intents to collect them, credit used, subscription updates, audit entries, events)
    written together by `flush`."""

    def __init__(self, svc: Services, store: Store, accounts: dict[str, Account],
                 details: dict[str, AccountBillingDetails | None], balances: dict[str, int],
                 numbers: dict[int, list[str]], progressives: list[int]) -> None:
        super().__init__(store, accounts, billing_details=details)
        self.batch_ledger = _BatchLedger(store.ledger, balances)
        # The accounts as the batch has them, saved ones included (an intent's card).
        self.batch_documents = _BatchDocuments(store.documents, progressives)
        self.documents = self.batch_documents
        self.batch_invoices = _BatchInvoices(svc, store.invoices, self.batch_documents,
                                             self.buffered_accounts.read, numbers)
        self.batch_subscriptions = _BatchSubscriptions(store.subscriptions)
        self.ledger = self.batch_ledger
        self.invoices = self.batch_invoices
        self.subscriptions = self.batch_subscriptions

    def flush(self) -> None:
        # A number or progressive not used would be a gap.
        if any(self.batch_invoices.numbers.values()) or self.batch_documents.progressives:
            raise _Fallback("invoice numbers or FatturaPA progressives were left over")
        self.store.invoices.add_many(self.batch_invoices.added)
        self.store.documents.add_einvoices(self.batch_documents.added)
        self.store.payments.add_intents([intent for intent, _ in self.batch_invoices.charges])
        self.store.ledger.add_many(self.batch_ledger.added)
        self.store.subscriptions.save_many(self.batch_subscriptions.saved)
        super().flush()


def _next_bill(svc: Services, sub: Subscription) -> Price | str:
    """The price of the subscription's next period from the catalog, or why there is none."""
    config = sub.pending or sub.config
    try:
        bill = price(svc.catalog, validate(svc.catalog, config))
    except InvalidField as exc:
        return f"the configuration is not in the catalog any more ({exc})"
    if bill.status == CUSTOM:  # negotiated by support: never billed from the list
        return "the configuration has a custom price: support bills it, not the price list"
    return bill


def _priced_once(svc: Services) -> Callable[[Subscription], Price | str]:
    """`_next_bill` for a batch: each configuration priced once (a batch holds hundreds of
    subscriptions and a few configurations; the price depends on the configuration and the
    catalog alone)."""
    known: dict[Configuration, Price | str] = {}

    def bill(sub: Subscription) -> Price | str:
        config = sub.pending or sub.config
        if config not in known:
            known[config] = _next_bill(svc, sub)
        return known[config]
    return bill


def renew_one(svc: Services, store: Store, sub: Subscription, report: RunReport,
              bill: Price | str | None = None, terms: DocumentTerms | None = None) -> str:
    """Renew one due subscription in the caller's transaction (the subscription locked):
    RENEWED, CANCELLED_NOW (it was to end at period end) or BLOCKED (left due). `bill`:
    its `_next_bill`, and `terms` its account's, when the caller has them."""
    account = existing(store.accounts.get(sub.account_id), "account")
    if sub.cancel_at_period_end:
        ended = sub.but(status=CANCELLED, version=sub.version + 1,
                        renews_at=sub.renews_at + timedelta(days=365 * 1000))
        store.subscriptions.save(ended)
        record_change(svc, store, account_id=account.id, actor="system",
                      action="subscription.cancelled", before=subscription_json(sub),
                      after=subscription_json(ended), event="subscription.cancelled")
        report.cancelled += 1
        return CANCELLED_NOW
    config = sub.pending or sub.config
    # A scheduled change of interval (support, month ↔ year) starts a new period, and a new
    # anchor, where the old period ends (SPEC §2: periods are counted from the anchor).
    anchor = sub.anchor if config.interval == sub.config.interval else sub.period_end
    renewed = subscriptions.with_period(sub, account.timezone, anchor, config.interval,
                                        sub.period_end)
    renewed = renewed.but(config=config, pending=None, version=sub.version + 1)
    bill = _next_bill(svc, sub) if bill is None else bill
    if not isinstance(bill, Price):
        _block(svc, store, account, sub, renewed, bill)
        report.blocked += 1
        return BLOCKED
    # Billed by an earlier run that did not move the dates: only move them. Asked first,
    # under the subscription's lock, so no invoice number is taken in vain.
    if not store.invoices.renewal_invoiced(sub.id, renewed.period_start):
        subscriptions.issue_invoice(svc, store, account, renewed, "renewal", bill.lines,
                                    renewed.period_start, renewed.period_end, terms)
    store.subscriptions.save(renewed)
    if sub.pending is not None:
        record_change(svc, store, account_id=account.id, actor="system",
                      action="subscription.change_applied", before=subscription_json(sub),
                      after=subscription_json(renewed), event="subscription.change_applied")
    record_change(svc, store, account_id=account.id, actor="system",
                  action="subscription.renewed", before=None, after=subscription_json(renewed),
                  event="subscription.renewed")
    report.renewed += 1
    return RENEWED


def _block(svc: Services, store: Store, account: Account, sub: Subscription,
           renewed: Subscription, reason: str) -> None:
    """Leave a subscription that cannot be billed due, and say why: once per period (the
    run meets it again every day until support changes its configuration or the catalog)."""
    period = {"start": renewed.period_start.isoformat(), "end": renewed.period_end.isoformat()}
    last = store.audit.of_account(account.id, 1, action="renewal.blocked")
    if last and last[0].after is not None and (last[0].after.get("subscription"),
                                               last[0].after.get("period")) == (sub.id, period):
        return
    record_change(svc, store, account_id=account.id, actor="system", action="renewal.blocked",
                  before=subscription_json(sub),
                  after={"subscription": sub.id, "period": period, "reason": reason,
                         "configuration": config_json(renewed.config)},
                  event="renewal.blocked")
