"""The emails canone sends, in English and Italian: plain text plus a simple HTML version.

One builder per notification kind turns the notification's data (written by the services in
the transaction of the change, see `canone.services.context.notify`) into a subject and
paragraphs; `render_email` makes the `Email`. Amounts arrive in minor units and are
formatted with Babel for the recipient's language ("$49.00", "49,00 €").

    purchase_confirmation  invoice_id, number, total, amount_paid, currency, status
    renewal_receipt        the same
    request_received       request_id, status, reason, desired (CONFIG or None), message
    request_status         the same
    usage_threshold        threshold (percent), contacts, limit
    payment_failed         amount, currency, reason, message, invoice_id
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from html import escape
from typing import Any

from babel.numbers import format_currency, format_decimal

from canone.services.ports import Attachment, Email

LANGUAGES = ("en", "it")
BABEL_LOCALES = {"en": "en_US", "it": "it_IT"}
INVOICE_KINDS = frozenset({"purchase_confirmation", "renewal_receipt"})


class UnknownNotification(ValueError):
    """A kind without templates: retrying cannot help."""


@dataclass(frozen=True)
class Message:
    subject: str
    paragraphs: tuple[str, ...]


class _Format:
    def __init__(self, language: str) -> None:
        self.language = language
        self.babel = BABEL_LOCALES[language]

    def money(self, minor: int, currency: str) -> str:
        return format_currency(Decimal(minor) / 100, currency, locale=self.babel)

    def number(self, value: int) -> str:
        return format_decimal(value, locale=self.babel)

    def it(self) -> bool:
        return self.language == "it"


# -- invoices -------------------------------------------------------------------------------


def _payment_sentence(f: _Format, d: Mapping[str, Any]) -> str:
    paid, total, currency = int(d["amount_paid"]), int(d["total"]), d["currency"]
    if paid > 0:
        return (f"Abbiamo addebitato {f.money(paid, currency)} sulla tua carta." if f.it()
                else f"We charged {f.money(paid, currency)} to your card on file.")
    if d.get("status") == "open" and total > 0:
        return ("Il pagamento è ancora in sospeso: riproveremo ad addebitarlo sulla tua carta."
                if f.it() else
                "The payment is still outstanding: we will try your card again.")
    return ("Il credito del tuo account copre l'importo: non abbiamo addebitato nulla."
            if f.it() else "Your account credit covers it: nothing was charged.")


def _purchase_confirmation(f: _Format, d: Mapping[str, Any]) -> Message:
    number, total = d["number"], f.money(int(d["total"]), d["currency"])
    if f.it():
        return Message(f"Il tuo acquisto: fattura {number}", (
            "Buongiorno,",
            f"grazie per il tuo acquisto. Il tuo piano è aggiornato; in allegato trovi la "
            f"fattura {number} di {total}.",
            _payment_sentence(f, d)))
    return Message(f"Your purchase: invoice {number}", (
        "Hello,",
        f"thank you for your purchase. Your plan is updated; invoice {number} for {total} "
        f"is attached.",
        _payment_sentence(f, d)))


def _renewal_receipt(f: _Format, d: Mapping[str, Any]) -> Message:
    number, total = d["number"], f.money(int(d["total"]), d["currency"])
    if f.it():
        return Message(f"Ricevuta: abbonamento rinnovato (fattura {number})", (
            "Buongiorno,",
            f"il tuo abbonamento è stato rinnovato; in allegato trovi la fattura {number} di "
            f"{total}.",
            _payment_sentence(f, d)))
    return Message(f"Receipt: your subscription renewed (invoice {number})", (
        "Hello,",
        f"your subscription renewed; invoice {number} for {total} is attached.",
        _payment_sentence(f, d)))


# -- change requests ------------------------------------------------------------------------

_STATUS_EN = {"open": "is open", "in_progress": "is in progress", "completed": "is completed",
              "declined": "was declined", "withdrawn": "was withdrawn"}
_STATUS_IT = {"open": "è aperta", "in_progress": "è in lavorazione",
              "completed": "è stata completata", "declined": "è stata rifiutata",
              "withdrawn": "è stata ritirata"}
_INTERVAL = {"en": {"month": "monthly", "year": "yearly"},
             "it": {"month": "mensile", "year": "annuale"}}


def describe_config(f: _Format, config: Mapping[str, Any]) -> str:
    """"Marketing Pro, 5,000 contacts, 3 seats, yearly, add-ons: sms"."""
    words = ["{} {}".format(str(config["product"]).replace("_", " ").capitalize(),
                            str(config["tier"]).capitalize())]
    if config.get("contacts") is not None:
        count = f.number(int(config["contacts"]))
        words.append(f"{count} contatti" if f.it() else f"{count} contacts")
    seats = int(config.get("seats", 1))
    if f.it():
        words.append("1 utente" if seats == 1 else f"{seats} utenti")
    else:
        words.append("1 seat" if seats == 1 else f"{seats} seats")
    interval = str(config.get("interval", ""))
    words.append(_INTERVAL[f.language].get(interval, interval))
    addons = config.get("addons") or []
    if addons:
        label = "componenti aggiuntivi" if f.it() else "add-ons"
        words.append(f"{label}: {', '.join(map(str, addons))}")
    return ", ".join(words)


def _request_details(f: _Format, d: Mapping[str, Any], note_label: str) -> list[str]:
    lines = []
    if d.get("reason"):
        lines.append(("Motivo: " if f.it() else "Reason: ") + str(d["reason"]))
    if d.get("desired"):
        lines.append(("Piano richiesto: " if f.it() else "Requested plan: ")
                     + describe_config(f, d["desired"]))
    if d.get("message"):
        lines.append(f"{note_label}\n{d['message']}")
    lines.append(("Riferimento: " if f.it() else "Reference: ") + str(d["request_id"]))
    return lines


def _request_received(f: _Format, d: Mapping[str, Any]) -> Message:
    if f.it():
        return Message("Abbiamo ricevuto la tua richiesta", (
            "Buongiorno,",
            "abbiamo ricevuto la tua richiesta di modifica dell'account: il nostro team di "
            "assistenza ti risponderà al più presto.",
            *_request_details(f, d, "Il tuo messaggio:")))
    return Message("We received your request", (
        "Hello,",
        "we received your account change request: our support team will get back to you "
        "soon.",
        *_request_details(f, d, "Your message:")))


def _request_status(f: _Format, d: Mapping[str, Any]) -> Message:
    status = str(d["status"])
    if f.it():
        phrase = _STATUS_IT.get(status, status)
        return Message(f"La tua richiesta {phrase}", (
            "Buongiorno,",
            f"la tua richiesta di modifica dell'account {phrase}.",
            *_request_details(f, d, "Nota:")))
    phrase = _STATUS_EN.get(status, status)
    return Message(f"Your request {phrase}", (
        "Hello,",
        f"your account change request {phrase}.",
        *_request_details(f, d, "Note:")))


# -- usage and payments ---------------------------------------------------------------------


def _usage_threshold(f: _Format, d: Mapping[str, Any]) -> Message:
    threshold = int(d["threshold"])
    contacts, limit = f.number(int(d["contacts"])), f.number(int(d["limit"]))
    if f.it():
        subject = ("Hai raggiunto il limite di contatti" if threshold >= 100
                   else f"Hai usato il {threshold}% del tuo limite di contatti")
        return Message(subject, (
            "Buongiorno,",
            f"il tuo account ha {contacts} contatti sui {limit} inclusi nel tuo piano.",
            "Per continuare ad aggiungere contatti, aumenta il limite nella pagina "
            "Fatturazione e upgrade."))
    subject = ("You have reached your contact limit" if threshold >= 100
               else f"You have used {threshold}% of your contact limit")
    return Message(subject, (
        "Hello,",
        f"your account has {contacts} contacts of the {limit} included in your plan.",
        "To keep adding contacts, raise your contact limit on the Billing & Upgrade page."))


_REASONS = {
    "en": {"declined": "the card was declined", "insufficient_funds": "insufficient funds"},
    "it": {"declined": "la carta è stata rifiutata", "insufficient_funds": "fondi insufficienti"},
}


def _payment_failed(f: _Format, d: Mapping[str, Any]) -> Message:
    amount = f.money(int(d["amount"]), d["currency"])
    reason = _REASONS[f.language].get(str(d.get("reason")), str(d.get("message") or "")).strip()
    if f.it():
        return Message(f"Pagamento non riuscito: {amount}", (
            "Buongiorno,",
            f"non siamo riusciti ad addebitare {amount} sulla tua carta"
            + (f": {reason}." if reason else "."),
            "Aggiorna la carta nella pagina Fatturazione e upgrade: riproveremo "
            "automaticamente. Finché il pagamento non va a buon fine l'account è limitato."))
    return Message(f"Payment failed: {amount}", (
        "Hello,",
        f"we could not charge {amount} to your card" + (f": {reason}." if reason else "."),
        "Please update your card on the Billing & Upgrade page: we will try again "
        "automatically. Until the payment succeeds the account is restricted."))


BUILDERS: dict[str, Callable[[_Format, Mapping[str, Any]], Message]] = {
    "purchase_confirmation": _purchase_confirmation,
    "renewal_receipt": _renewal_receipt,
    "request_received": _request_received,
    "request_status": _request_status,
    "usage_threshold": _usage_threshold,
    "payment_failed": _payment_failed,
}

_SIGNATURE = {"en": "— canone billing", "it": "— Fatturazione canone"}


def message_for(kind: str, locale: str, data: Mapping[str, Any]) -> Message:
    """Subject and paragraphs; UnknownNotification for a kind without templates."""
    builder = BUILDERS.get(kind)
    if builder is None:
        raise UnknownNotification(f"no email template for notification kind {kind!r}")
    language = locale if locale in LANGUAGES else "en"
    return builder(_Format(language), data)


def render_email(kind: str, locale: str, to: str, data: Mapping[str, Any], *,
                 message_id: str | None = None,
                 attachments: tuple[Attachment, ...] = ()) -> Email:
    message = message_for(kind, locale, data)
    language = locale if locale in LANGUAGES else "en"
    paragraphs = (*message.paragraphs, _SIGNATURE[language])
    text = "\n\n".join(paragraphs) + "\n"
    body = "\n".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    html = (f'<!doctype html>\n<html lang="{language}"><head><meta charset="utf-8">'
            f"<title>{escape(message.subject)}</title></head>\n"
            f'<body style="font-family: sans-serif; line-height: 1.5; color: #212529">\n'
            f"{body}\n</body></html>\n")
    return Email(to=to, subject=message.subject, text=text, html=html,
                 attachments=attachments, message_id=message_id)
