"""The sandbox card network: a PaymentGateway that behaves like a real one, without money.

Its state (stored cards, charges by idempotency key) lives in its own SQLite file, so the
web workers, the renewal workers and the tests in other processes all see the same network,
as they would see Stripe. Test card numbers (SPEC §7 "Operations"):

    4242424242424242  succeeds
    4000000000000002  declined
    4000000000009995  insufficient funds
    4000000000000119  the charge is taken, then the answer is lost (GatewayTimeout);
                      `lookup` with the same idempotency key tells what happened
    any other valid number succeeds

The network keeps no card numbers either: a stored card remembers only how it behaves.

Its file, connections and transactions: `sandbox_file`; the test cards: `sandbox_cards`.
"""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

from canone.integrations.payments.sandbox_cards import (
    behaviour_of,
    card_brand,
    check_card,
)
from canone.integrations.payments.sandbox_file import SandboxFile
from canone.services.clock import SystemClock
from canone.services.ports import (
    CANCELED,
    DECLINED,
    INSUFFICIENT_FUNDS,
    REFUND_SUCCEEDED,
    REQUIRES_CONFIRMATION,
    SUCCEEDED,
    BelowMinimumCharge,
    Card,
    ChargeRequest,
    ChargeResult,
    Clock,
    GatewayTimeout,
    RefundRefused,
    RefundResult,
    StoredCard,
)

_MESSAGES = {
    DECLINED: "Your card was declined.",
    INSUFFICIENT_FUNDS: "Your card has insufficient funds.",
}


@dataclass(frozen=True, slots=True)
class ChargeRecord:
    """One charge as the network recorded it (for tests and reconciliation reports)."""

    idempotency_key: str
    card_token: str
    amount_minor: int
    currency: str
    status: str
    charge_id: str | None
    message: str

    @property
    def result(self) -> ChargeResult:
        return ChargeResult(self.status, self.charge_id, self.message)


class SandboxGateway(SandboxFile):
    """A PaymentGateway over an SQLite file shared by every process that opens `path`."""

    def __init__(self, path: str | Path, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or SystemClock()
        super().__init__(path)

    # -- cards ----------------------------------------------------------------------------

    def store_card(self, card: Card) -> StoredCard:
        number = card.number.replace(" ", "").replace("-", "")  # as people type it
        check_card(number, card, self.clock)
        stored = StoredCard(
            token=f"card_{secrets.token_hex(12)}",
            brand=card_brand(number),
            last4=number[-4:],
            exp_month=card.exp_month,
            exp_year=card.exp_year,
        )
        behaviour = behaviour_of(number)
        with self._transaction() as db:
            db.execute(
                "INSERT INTO cards VALUES (?, ?, ?, ?, ?, ?)",
                (
                    stored.token,
                    stored.brand,
                    stored.last4,
                    stored.exp_month,
                    stored.exp_year,
                    behaviour,
                ),
            )
        return stored

    # -- charges --------------------------------------------------------------------------

    def charge(
        self, card_token: str, amount_minor: int, currency: str, idempotency_key: str
    ) -> ChargeResult:
        if amount_minor <= 0:
            raise ValueError(f"amount_minor must be positive, not {amount_minor}")
        if not idempotency_key:
            raise ValueError("an idempotency key is required")
        with self._transaction() as db:
            result, answer_lost = self._charge_in(db, card_token, amount_minor, currency,
                                                  idempotency_key)
        return _answered(result, answer_lost, idempotency_key)

    def _charge_in(self, db: sqlite3.Connection, card_token: str, amount_minor: int,
                   currency: str, idempotency_key: str) -> tuple[ChargeResult, bool]:
        """The charge taken in the caller's transaction, and whether its answer goes missing
        (a card that times out)."""
        currency = currency.upper()
        earlier = _record(db, idempotency_key)
        if earlier is not None:
            # A retry: the first outcome, never a second charge. A retry whose answer is
            # lost no more: the caller learns what happened the first time.
            asked = (card_token, amount_minor, currency)
            if asked != (earlier.card_token, earlier.amount_minor, earlier.currency):
                raise ValueError(
                    f"idempotency key {idempotency_key!r} was used for a different charge"
                    f" ({earlier.amount_minor} {earlier.currency} on {earlier.card_token})"
                )
            return earlier.result, False
        behaviour, result = self._decide(db, card_token)
        db.execute(
            "INSERT INTO charges VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                idempotency_key,
                card_token,
                amount_minor,
                currency,
                result.status,
                result.charge_id,
                result.message,
                self.clock.now().isoformat(),
            ),
        )
        return result, behaviour == "timeout"

    def _decide(self, db: sqlite3.Connection, card_token: str) -> tuple[str, ChargeResult]:
        row = db.execute(
            "SELECT behaviour, exp_month, exp_year FROM cards WHERE token = ?", (card_token,)
        ).fetchone()
        if row is None:
            return DECLINED, ChargeResult(DECLINED, None, f"Unknown card {card_token}.")
        behaviour, exp_month, exp_year = row
        now = self.clock.now().astimezone(UTC)
        if (exp_year, exp_month) < (now.year, now.month):
            # Valid when stored, expired by the time of a later renewal.
            return DECLINED, ChargeResult(DECLINED, None, "Your card has expired.")
        if behaviour in (DECLINED, INSUFFICIENT_FUNDS):
            return behaviour, ChargeResult(behaviour, None, _MESSAGES[behaviour])
        return behaviour, ChargeResult(SUCCEEDED, f"ch_{secrets.token_hex(12)}")

    def lookup(self, idempotency_key: str) -> ChargeResult | None:
        with self._transaction() as db:
            record = _record(db, idempotency_key)
        return None if record is None else record.result

    # -- charges in two steps (an intent opened, then confirmed) --------------------------

    def minimum_charge(self, currency: str) -> int:
        return 1  # the sandbox network has no minimum beyond a cent

    def open_charge(self, request: ChargeRequest) -> str:
        if request.amount_minor < self.minimum_charge(request.currency):
            raise BelowMinimumCharge(request.amount_minor, 1, request.currency.upper())
        asked = (request.card_token, request.amount_minor, request.currency.upper())
        with self._transaction() as db:
            row = db.execute(
                "SELECT id, card_token, amount_minor, currency FROM intents"
                " WHERE idempotency_key = ?", (request.key,)).fetchone()
            if row is None:
                intent_id = f"pi_{secrets.token_hex(12)}"
                db.execute("INSERT INTO intents VALUES (?, ?, ?, ?, ?, 0)",
                           (intent_id, request.key, *asked))
                return intent_id
        if tuple(row[1:]) != asked:
            raise ValueError(f"intent key {request.key!r} was opened for a different charge")
        return str(row[0])

    def confirm_charge(self, provider_id: str, request: ChargeRequest) -> ChargeResult:
        # One transaction: an intent canceled meanwhile is never charged, and a charge costs
        # the network one commit, not two.
        with self._transaction() as db:
            key, card_token, amount, currency, canceled = _intent_in(db, provider_id)
            if canceled:
                return ChargeResult(CANCELED, None, "The payment was canceled.", provider_id,
                                    key=key)
            # The intent's key is the charge's: confirming again answers the first outcome.
            outcome, answer_lost = self._charge_in(db, card_token, amount, currency, key)
        return _of_intent(_answered(outcome, answer_lost, key), provider_id, key)

    def charge_outcome(self, provider_id: str) -> ChargeResult:
        key, *_, canceled = self._intent(provider_id)
        outcome = self.lookup(key)
        if outcome is None:
            status = CANCELED if canceled else REQUIRES_CONFIRMATION
            return ChargeResult(status, None, "", provider_id, key=key)
        return _of_intent(outcome, provider_id, key)

    def cancel_charge(self, provider_id: str) -> ChargeResult:
        key = self._intent(provider_id)[0]
        with self._transaction() as db:
            if _record(db, key) is None:  # a charge taken cannot be canceled, only refunded
                db.execute("UPDATE intents SET canceled = 1 WHERE id = ?", (provider_id,))
        return self.charge_outcome(provider_id)

    def _intent(self, provider_id: str) -> tuple[str, str, int, str, int]:
        with self._transaction() as db:
            return _intent_in(db, provider_id)

    def refund(self, provider_id: str, amount_minor: int, key: str) -> RefundResult:
        intent_key = self._intent(provider_id)[0]
        with self._transaction() as db:
            earlier = db.execute("SELECT id, amount_minor FROM refunds WHERE idempotency_key = ?",
                                 (key,)).fetchone()
            if earlier is not None:
                return RefundResult(earlier[0], REFUND_SUCCEEDED, earlier[1], "", provider_id)
            charged = _record(db, intent_key)
            if charged is None or charged.status != SUCCEEDED:
                raise RefundRefused("Only a payment that succeeded can be refunded.")
            (refunded,) = db.execute("SELECT COALESCE(SUM(amount_minor), 0) FROM refunds"
                                     " WHERE intent_id = ?", (provider_id,)).fetchone()
            left = charged.amount_minor - int(refunded)
            if not 0 < amount_minor <= left:
                raise RefundRefused(f"The refund must be between 1 and {left} (minor units of"
                                    f" {charged.currency}) left to refund, not {amount_minor}.")
            refund_id = f"re_{secrets.token_hex(12)}"
            db.execute("INSERT INTO refunds VALUES (?, ?, ?, ?)",
                       (refund_id, key, provider_id, amount_minor))
        return RefundResult(refund_id, REFUND_SUCCEEDED, amount_minor, "", provider_id)

    def refund_outcome(self, refund_id: str) -> RefundResult:
        with self._transaction() as db:
            row = db.execute("SELECT amount_minor, intent_id FROM refunds WHERE id = ?",
                             (refund_id,)).fetchone()
        if row is None:
            raise LookupError(f"no refund {refund_id} on the sandbox network")
        # Instant, and never fails.
        return RefundResult(refund_id, REFUND_SUCCEEDED, int(row[0]), "", str(row[1]))

    # -- inspection (tests, reconciliation reports) ---------------------------------------

    def charges_for(self, card_token: str) -> list[ChargeRecord]:
        """Every charge attempted on a card, declined ones included, oldest first."""
        with self._transaction() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM charges WHERE card_token = ? ORDER BY rowid",
                (card_token,),
            ).fetchall()
        return [ChargeRecord(*row) for row in rows]

    def total_charged(self, card_token: str | None = None) -> int:
        """Minor units actually taken (succeeded charges), on one card or on all."""
        query = "SELECT COALESCE(SUM(amount_minor), 0) FROM charges WHERE status = ?"
        params: tuple[str, ...] = (SUCCEEDED,)
        if card_token is not None:
            query += " AND card_token = ?"
            params += (card_token,)
        with self._transaction() as db:
            (total,) = db.execute(query, params).fetchone()
        return int(total)


_COLUMNS = "idempotency_key, card_token, amount_minor, currency, status, charge_id, message"


def _intent_in(db: sqlite3.Connection, provider_id: str) -> tuple[str, str, int, str, int]:
    row = db.execute(
        "SELECT idempotency_key, card_token, amount_minor, currency, canceled"
        " FROM intents WHERE id = ?", (provider_id,)).fetchone()
    if row is None:
        raise LookupError(f"no payment intent {provider_id} on the sandbox network")
    return row[0], row[1], row[2], row[3], row[4]


def _answered(result: ChargeResult, answer_lost: bool, idempotency_key: str) -> ChargeResult:
    if answer_lost:
        # The money was taken and committed; only the answer goes missing.
        raise GatewayTimeout(f"no answer for charge {idempotency_key!r}")
    return result


def _of_intent(outcome: ChargeResult, provider_id: str, key: str) -> ChargeResult:
    return ChargeResult(outcome.status, outcome.charge_id, outcome.message, provider_id, key=key)


def _record(db: sqlite3.Connection, idempotency_key: str) -> ChargeRecord | None:
    row = db.execute(
        f"SELECT {_COLUMNS} FROM charges WHERE idempotency_key = ?", (idempotency_key,)
    ).fetchone()
    return None if row is None else ChargeRecord(*row)
