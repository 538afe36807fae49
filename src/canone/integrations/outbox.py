"""The outbox workers: send the emails and webhook deliveries that the services queued in the
transaction of each change (`store.outbox.add_notification`, `store.outbox.add_event`).

Each pass works in three steps, so a slow SMTP server or webhook receiver never holds a
database lock:

1. claim (one transaction): the due rows, locked with SKIP LOCKED, get `attempts + 1` and a
   lease — `next_attempt_at = now + LEASE` — so no other worker picks them up meanwhile;
   what the email needs from the database (the invoice for the PDF) is read here too;
2. send (no transaction): render, then talk to the network;
3. record (one transaction): sent/delivered, or the next attempt with exponential backoff
   (`webhooks.next_attempt_delay`: 30 s, 1 min, 2 min, … capped at 6 h), or failed.

A worker that dies between 1 and 3 leaves its rows leased; they come due again when the
lease ends, so nothing is lost (a message may then be sent twice: at-least-once, which is
why every email carries a stable Message-ID and every webhook its event id).

Giving up:
- emails: at once on a permanent failure (an SMTP 5xx reply, a notification without a
  template or with data missing, an invoice that does not exist); after MAX_EMAIL_ATTEMPTS
  temporary failures (about three days of backoff) the item is marked failed with its last
  error;
- webhooks: never. A delivery that keeps failing is retried every 6 hours, for as long as
  it takes the receiver to come back; `attempts`, `last_status_code` and `last_error` in the
  delivery log show that it is behind.

The `now` argument is the billing clock (the test clock in test mode): it decides what is
due and when to retry. Webhook signatures are stamped with the wall clock (`signed_at`),
because receivers check the timestamp against their own clock.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from canone.billing.codec import config_to_json
from canone.integrations.email_templates import INVOICE_KINDS, render_email
from canone.integrations.email_words import EmailContext
from canone.integrations.mail import MailDeliveryError
from canone.integrations.webhooks import DeliveryAttempt, next_attempt_delay
from canone.services.invoices import document_of, invoice_pdf_filename
from canone.services.ports import Attachment, Clock, InvoiceDocument, InvoiceRenderer, Mailer
from canone.services.records import WebhookDelivery, WebhookEndpoint
from canone.services.store import Database, OutboxItem, Store

log = logging.getLogger(__name__)

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"  # CANONE_PUBLIC_URL: where email links point
LEASE = timedelta(minutes=10)  # longer than one pass can take (see WEBHOOK_CONCURRENCY)
MAX_EMAIL_ATTEMPTS = 22  # waits of 30 s · 2^k, at most 6 h: the 22nd failure is ~3.1 days in
WEBHOOK_CONCURRENCY = 8  # deliveries in flight at once, so one slow receiver stalls few

PENDING, SENT, DELIVERED, FAILED = "pending", "sent", "delivered", "failed"


class WebhookSender(Protocol):
    """What `webhooks.HttpWebhookSender` does: one signed POST, never raising."""

    def send(self, url: str, secret: str, msg_id: str, payload: bytes, now: datetime
             ) -> DeliveryAttempt: ...


@dataclass
class PassReport:
    """What one pass did: sent or delivered, to be retried, given up."""

    done: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def claimed(self) -> int:
        return self.done + self.retried + self.failed


# -- emails ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claimed:
    item: OutboxItem
    document: InvoiceDocument | None  # the invoice to attach, for invoice kinds
    problem: str | None  # why it cannot be sent at all
    context: EmailContext  # the account and plan every email names


def _context(store: Store, item: OutboxItem, billing_url: str) -> EmailContext:
    """The account as it is now, and its plan: the one the email is about (a sign-up or a
    purchase names the plan it bought) or else the one in effect."""
    account_id = item.payload.get("account_id")
    account = store.accounts.get(account_id) if account_id else None
    if account is None:
        return EmailContext(billing_url=billing_url)
    plan = (item.payload.get("data") or {}).get("plan")
    if plan is None:
        sub = store.subscriptions.of_account(account.id)
        plan = config_to_json(sub.config) if sub else None
    return EmailContext(account.name, plan, billing_url)


def _prepare(store: Store, item: OutboxItem, billing_url: str) -> _Claimed:
    payload = item.payload
    context = _context(store, item, billing_url)
    if payload.get("kind") not in INVOICE_KINDS:
        return _Claimed(item, None, None, context)
    invoice_id = (payload.get("data") or {}).get("invoice_id")
    invoice = store.invoices.get(invoice_id) if invoice_id else None
    account = store.accounts.get(invoice.account_id) if invoice else None
    if invoice is None or account is None:
        return _Claimed(item, None, f"invoice {invoice_id} not found", context)
    return _Claimed(item, document_of(store, invoice, account), None, context)


def deliver_notifications(database: Database, mailer: Mailer, renderer: InvoiceRenderer,
                          now: datetime, limit: int = 50, *,
                          public_url: str = DEFAULT_PUBLIC_URL) -> PassReport:
    """Send the due emails in the order they were written, each in its recipient's
    language, naming the account and plan and linking to the billing page at `public_url`;
    confirmations and renewal receipts carry the invoice PDF ("invoice-2026-000001.pdf",
    "fattura-2026-000001.pdf")."""
    billing_url = public_url.rstrip("/") + "/billing"
    with database.transaction() as store:
        claimed = []
        for item in store.outbox.due_notifications(now, limit):
            leased = replace(item, attempts=item.attempts + 1, next_attempt_at=now + LEASE)
            store.outbox.save_item(leased)
            claimed.append(_prepare(store, leased, billing_url))
    if not claimed:
        return PassReport()
    outcomes = [(c.item, _send_email(c, mailer, renderer)) for c in claimed]
    report = PassReport()
    with database.transaction() as store:
        for item, (error, permanent) in outcomes:
            store.outbox.save_item(_after_email(item, error, permanent, now, report))
    return report


def _send_email(claimed: _Claimed, mailer: Mailer, renderer: InvoiceRenderer
                ) -> tuple[str | None, bool]:
    """(error, permanent) of one email; (None, False) when it was sent."""
    item, payload = claimed.item, claimed.item.payload
    if claimed.problem:
        return claimed.problem, True
    attachments: tuple[Attachment, ...] = ()
    if claimed.document is not None:
        try:
            pdf = renderer.render(claimed.document)
        except Exception as error:  # e.g. a font missing on this machine: may be fixed
            log.exception("outbox: cannot render the invoice PDF of %s", item.id)
            return f"cannot render the invoice PDF: {type(error).__name__}: {error}", False
        attachments = (Attachment(invoice_pdf_filename(claimed.document.number,
                                                       claimed.document.locale),
                                  "application/pdf", pdf),)
    try:
        email = render_email(payload["kind"], payload.get("locale", "en"), payload["to"],
                             payload.get("data") or {}, message_id=item.id,
                             attachments=attachments, context=claimed.context)
    except Exception as error:  # an unknown kind or data it lacks: no retry will help
        log.exception("outbox: cannot render email %s", item.id)
        return f"cannot render: {type(error).__name__}: {error}", True
    try:
        mailer.send(email)
    except MailDeliveryError as error:
        return str(error), error.permanent
    except Exception as error:  # an unexpected mailer error: retry, it may be passing
        log.exception("outbox: mailer failed on %s", item.id)
        return f"{type(error).__name__}: {error}", False
    return None, False


def _after_email(item: OutboxItem, error: str | None, permanent: bool, now: datetime,
                 report: PassReport) -> OutboxItem:
    if error is None:
        report.done += 1
        log.info("email sent: %s to %s (%s)", item.payload.get("kind"), item.payload.get("to"),
                 item.id)
        return replace(item, status=SENT, next_attempt_at=now, last_error=None)
    report.errors.append(f"email {item.id} to {item.payload.get('to')}: {error}")
    if permanent or item.attempts >= MAX_EMAIL_ATTEMPTS:
        report.failed += 1
        why = error if permanent else f"gave up after {item.attempts} attempts: {error}"
        log.warning("outbox: email %s failed for good: %s", item.id, why)
        return replace(item, status=FAILED, next_attempt_at=now, last_error=why)
    report.retried += 1
    return replace(item, status=PENDING, last_error=error,
                   next_attempt_at=now + next_attempt_delay(item.attempts))


# -- webhooks -------------------------------------------------------------------------------


def payload_bytes(payload: dict[str, Any]) -> bytes:
    """The body that is signed and posted: compact JSON, UTF-8."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def _wall_clock() -> datetime:
    return datetime.now(UTC)


def deliver_webhooks(database: Database, sender: WebhookSender, now: datetime,
                     limit: int = 100, *, signed_at: Callable[[], datetime] = _wall_clock,
                     concurrency: int = WEBHOOK_CONCURRENCY) -> PassReport:
    """Post the due deliveries: the event `{id, type, account_id, created_at, data}`,
    signed with the endpoint's secret, `webhook-id` = the event id (receivers deduplicate
    by it). 2xx → delivered; anything else → retried with backoff, never dropped."""
    with database.transaction() as store:
        due = store.outbox.due_deliveries(now, limit)
        if not due:
            return PassReport()
        endpoints = {e.id: e for e in store.outbox.endpoints(None)}
        claimed = []
        for delivery in due:
            leased = replace(delivery, attempts=delivery.attempts + 1,
                             next_attempt_at=now + LEASE)
            store.outbox.save_delivery(leased)
            claimed.append((leased, endpoints.get(delivery.endpoint_id)))

    def attempt(job: tuple[WebhookDelivery, WebhookEndpoint | None]) -> DeliveryAttempt:
        delivery, endpoint = job
        if endpoint is None:
            return DeliveryAttempt(None, f"endpoint {delivery.endpoint_id} not found", False)
        return sender.send(endpoint.url, endpoint.secret, delivery.event_id,
                           payload_bytes(delivery.payload), signed_at())

    workers = max(1, min(concurrency, len(claimed)))
    with ThreadPoolExecutor(workers, thread_name_prefix="webhook") as pool:
        attempts = list(pool.map(attempt, claimed))
    report = PassReport()
    with database.transaction() as store:
        for (delivery, _), result in zip(claimed, attempts, strict=True):
            store.outbox.save_delivery(_after_delivery(delivery, result, now, report))
    return report


def _after_delivery(delivery: WebhookDelivery, result: DeliveryAttempt, now: datetime,
                    report: PassReport) -> WebhookDelivery:
    if result.ok:
        report.done += 1
        log.info("webhook delivered: %s %s to endpoint %s (HTTP %s)", delivery.event_type,
                 delivery.event_id, delivery.endpoint_id, result.status_code)
        return replace(delivery, status=DELIVERED, next_attempt_at=now,
                       last_status_code=result.status_code, last_error=None)
    report.retried += 1
    report.errors.append(f"webhook {delivery.id} ({delivery.event_type}): {result.error}")
    return replace(delivery, status=PENDING, last_status_code=result.status_code,
                   last_error=result.error,
                   next_attempt_at=now + next_attempt_delay(delivery.attempts))


# -- the worker loop ------------------------------------------------------------------------


@dataclass
class Worker:
    """`canone worker`: drain both outboxes every `interval` seconds (renewals are the
    billing run's job, not this one's). Any number of workers may run side by side."""

    database: Database
    clock: Clock
    mailer: Mailer
    renderer: InvoiceRenderer
    sender: WebhookSender
    limit: int = 100
    public_url: str = DEFAULT_PUBLIC_URL

    def run_once(self) -> tuple[PassReport, PassReport]:
        """One pass over each outbox, repeated while full batches keep coming."""
        emails, hooks = PassReport(), PassReport()
        while True:
            now = self.clock.now()
            e = deliver_notifications(self.database, self.mailer, self.renderer, now,
                                      self.limit, public_url=self.public_url)
            w = deliver_webhooks(self.database, self.sender, now, self.limit)
            for total, part in ((emails, e), (hooks, w)):
                total.done += part.done
                total.retried += part.retried
                total.failed += part.failed
                total.errors += part.errors
            if e.claimed < self.limit and w.claimed < self.limit:
                return emails, hooks

    def run(self, interval: float, stop: threading.Event,
            on_pass: Callable[[PassReport, PassReport], None] | None = None) -> None:
        """Loop until `stop` is set; a failing pass (database down) is logged and retried."""
        while not stop.is_set():
            try:
                emails, hooks = self.run_once()
            except Exception:
                log.exception("worker: the pass failed; trying again in %ss", interval)
            else:
                if on_pass is not None:
                    on_pass(emails, hooks)
            stop.wait(interval)
