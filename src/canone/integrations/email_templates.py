"""The emails canone sends, in English and Italian: plain text plus a simple HTML version.

One builder per notification kind turns the notification's data (written by the services in
the transaction of the change, see `canone.services.context.notify`) into a subject and
paragraphs; `render_email` makes the `Email`, closing it with the account, its plan and the
link to the Billing & Upgrade page (`email_words.EmailContext`). Amounts arrive in minor
units and are formatted with Babel for the recipient's language ("$49.00", "49,00 €").
The payment emails' builders are in `email_payments`.

    signup_confirmation    invoice_id, number, total, amount_paid, currency, status, plan
    purchase_confirmation  the same (plan: the configuration bought); debit {amount, last4,
                           retry_on (local ISO dates)} when a SEPA debit is processing
    renewal_receipt        the same without plan; restriction_lifted when it was lifted
                           (these three: bank_last4 when paid by a SEPA debit)
    request_received       request_id, status, reason, desired (CONFIG or None), message
    request_status         the same
    usage_threshold        threshold (percent), contacts, limit
    payment_failed         amount, currency, reason, message, invoice_id, number, attempt,
                           attempts, next_attempt_on, last_attempt_on (local ISO dates or
                           None), restricted ("no", "now" or "still"), overdue (the next
                           attempt's day has passed); bank_last4 when it was a SEPA debit
                           (then the words of `email_debits`)
    debit_returned         number, amount, currency, bank_last4, next_attempt_on: a SEPA
                           debit the bank returned or the payer disputed (SPEC §9)
    change_declined        amount, currency, reason, message, target (CONFIG); bank_last4
                           when it was a SEPA debit (the words of `email_debits`)
    change_refunded        amount (refunded, gross), currency, last4 ("" when the card
                           charged is no longer on file), invoice_number, credit_note_number
    payment_authentication as payment_failed, reason authentication_required; reminder
                           true on a retry day (nothing charged, SPEC §9)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from html import escape
from typing import Any

from canone.integrations.email_debits import (
    debit_change_declined,
    debit_failed,
    debit_returned,
)
from canone.integrations.email_payments import (
    change_declined,
    change_refunded,
    payment_authentication,
    payment_failed,
)
from canone.integrations.email_words import (
    LANGUAGES,
    SIGNATURE,
    EmailContext,
    Format,
    Message,
    closing,
    describe_config,
    plan_name,
    reason_text,
    share,
)
from canone.services.ports import Attachment, Email

INVOICE_KINDS = frozenset({"signup_confirmation", "purchase_confirmation", "renewal_receipt"})


class UnknownNotification(ValueError):
    """A kind without templates: retrying cannot help."""


# -- invoices -------------------------------------------------------------------------------


def _payment_sentence(f: Format, d: Mapping[str, Any]) -> str:
    paid, total, currency = int(d["amount_paid"]), int(d["total"]), d["currency"]
    if d.get("debit"):
        return _debit_sentence(f, d["debit"], currency)
    if paid > 0 and d.get("bank_last4"):
        return f.pick(f"We collected {f.money(paid, currency)} by SEPA Direct Debit from your "
                      f"account ending {d['bank_last4']}.",
                      f"Abbiamo riscosso {f.money(paid, currency)} con addebito diretto SEPA "
                      f"sul tuo conto che termina con {d['bank_last4']}.")
    if paid > 0:
        return f.pick(f"We charged {f.money(paid, currency)} to your card on file.",
                      f"Abbiamo addebitato {f.money(paid, currency)} sulla tua carta.")
    if d.get("status") == "open" and total > 0:
        return f.pick("The payment is still outstanding: we will try your card again.",
                      "Il pagamento è ancora in sospeso: riproveremo ad addebitarlo sulla tua "
                      "carta.")
    return f.pick("Your account credit covers it: nothing was charged.",
                  "Il credito del tuo account copre l'importo: non abbiamo addebitato nulla.")


def _debit_sentence(f: Format, debit: Mapping[str, Any], currency: str) -> str:
    """A change paid by a SEPA debit still processing (SPEC §9): active now, the debit on
    its way for days, and what happens if it fails (the retry days of SPEC §5)."""
    amount, last4 = f.money(int(debit["amount"]), currency), debit["last4"]
    days = [f.day(str(day)) for day in debit["retry_on"]]
    when = f.pick(", ".join(days[:-1]) + " and " + days[-1],
                  ", ".join(days[:-1]) + " e " + days[-1])
    return f.pick(
        f"Your change is active. The SEPA Direct Debit of {amount} from your account ending "
        f"{last4} is being processed; it takes up to 14 business days. If it fails, we will "
        f"let you know by email and debit your account again on {when}; a day that has "
        "already passed when we learn of the failure is replaced by our next collection.",
        f"La modifica è attiva. L'addebito diretto SEPA di {amount} sul tuo conto che termina "
        f"con {last4} è in corso; richiede fino a 14 giorni lavorativi. Se non andrà a buon "
        f"fine te lo comunicheremo via email e riproveremo l'addebito il {when}; un giorno già "
        "passato quando veniamo a sapere del mancato addebito è sostituito dalla riscossione "
        "successiva.")


def _signup_confirmation(f: Format, d: Mapping[str, Any]) -> Message:
    number, total = d["number"], f.money(int(d["total"]), d["currency"])
    plan = d.get("plan") or {}
    name = f" {plan_name(f, plan)}" if plan else ""
    if f.it():
        return Message(f"Il tuo piano{name} è attivo: fattura {number}", (
            "Buongiorno,",
            "ti diamo il benvenuto e ti ringraziamo per l'iscrizione. Il tuo account è attivo"
            + (f" con il piano {describe_config(f, plan)}." if plan else "."),
            f"In allegato trovi la fattura {number} di {total} per il primo periodo.",
            _payment_sentence(f, d)))
    return Message(f"Welcome: your{name} plan is active, invoice {number}", (
        "Hello,",
        "welcome, and thank you for signing up. Your account is active"
        + (f" on the plan {describe_config(f, plan)}." if plan else "."),
        f"Invoice {number} for {total}, for the first period, is attached.",
        _payment_sentence(f, d)))


def _purchase_confirmation(f: Format, d: Mapping[str, Any]) -> Message:
    number, total = d["number"], f.money(int(d["total"]), d["currency"])
    plan = d.get("plan")
    if f.it():
        now = f"Il tuo piano ora è {describe_config(f, plan)}" if plan else \
            "Il tuo piano è aggiornato"
        return Message(f"Il tuo acquisto: fattura {number}", (
            "Buongiorno,",
            f"grazie per il tuo acquisto. {now}; in allegato trovi la fattura {number} di "
            f"{total}.",
            _payment_sentence(f, d)))
    now = f"Your plan is now {describe_config(f, plan)}" if plan else "Your plan is updated"
    return Message(f"Your purchase: invoice {number}", (
        "Hello,",
        f"thank you for your purchase. {now}; invoice {number} for {total} is attached.",
        _payment_sentence(f, d)))


def _renewal_receipt(f: Format, d: Mapping[str, Any]) -> Message:
    number, total = d["number"], f.money(int(d["total"]), d["currency"])
    lifted = (f.pick("The invoice is paid: your account is no longer restricted.",
                     "La fattura è pagata: il tuo account non è più limitato."),
              ) if d.get("restriction_lifted") else ()
    if f.it():
        return Message(f"Ricevuta: abbonamento rinnovato (fattura {number})", (
            "Buongiorno,",
            f"il tuo abbonamento è stato rinnovato; in allegato trovi la fattura {number} di "
            f"{total}.",
            _payment_sentence(f, d), *lifted))
    return Message(f"Receipt: your subscription renewed (invoice {number})", (
        "Hello,",
        f"your subscription renewed; invoice {number} for {total} is attached.",
        _payment_sentence(f, d), *lifted))


# -- change requests ------------------------------------------------------------------------

_STATUS_EN = {"open": "is open", "in_progress": "is in progress", "completed": "is completed",
              "declined": "was declined", "withdrawn": "was withdrawn"}
_STATUS_IT = {"open": "è aperta", "in_progress": "è in lavorazione",
              "completed": "è stata completata", "declined": "è stata rifiutata",
              "withdrawn": "è stata ritirata"}


def _request_details(f: Format, d: Mapping[str, Any], note_label: str) -> list[str]:
    lines = []
    if d.get("reason"):
        lines.append(f.pick("Reason: ", "Motivo: ") + reason_text(f, str(d["reason"])))
    if d.get("desired"):
        lines.append(f.pick("Requested plan: ", "Piano richiesto: ")
                     + describe_config(f, d["desired"]))
    if d.get("message"):
        lines.append(f"{note_label}\n{d['message']}")
    lines.append(f.pick("Reference: ", "Riferimento: ") + str(d["request_id"]))
    return lines


def _request_received(f: Format, d: Mapping[str, Any]) -> Message:
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


def _request_status(f: Format, d: Mapping[str, Any]) -> Message:
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


# -- usage ----------------------------------------------------------------------------------


def _usage_threshold(f: Format, d: Mapping[str, Any]) -> Message:
    used, limit = int(d["contacts"]), int(d["limit"])
    contacts, included, percent = f.number(used), f.number(limit), share(used, limit)
    if f.it():
        subject = ("Hai superato il limite di contatti" if used > limit else
                   "Hai raggiunto il limite di contatti" if used == limit else
                   f"Hai usato il {percent}% del tuo limite di contatti")
        return Message(subject, (
            "Buongiorno,",
            f"il tuo account ha {contacts} contatti: il {percent}% dei {included} inclusi nel "
            f"tuo piano.",
            "Per continuare ad aggiungere contatti, aumenta il limite nella pagina "
            f"Fatturazione e upgrade: {f.billing_url}"))
    subject = ("You are over your contact limit" if used > limit else
               "You have reached your contact limit" if used == limit else
               f"You have used {percent}% of your contact limit")
    return Message(subject, (
        "Hello,",
        f"your account has {contacts} contacts: {percent}% of the {included} included in your "
        f"plan.",
        f"To keep adding contacts, raise your contact limit on the Billing & Upgrade page: "
        f"{f.billing_url}"))


def _payment_failed(f: Format, d: Mapping[str, Any]) -> Message:
    """An invoice not collected: from a bank account (SEPA) or a card, in their own words."""
    return (debit_failed if d.get("bank_last4") else payment_failed)(f, d)


def _change_declined(f: Format, d: Mapping[str, Any]) -> Message:
    """A bank's refusal of a SEPA debit in its own words; any other reason (a stale quote, a
    failed 3-D Secure challenge: never a debit's) as ever."""
    refused = d.get("bank_last4") and d.get("reason") in ("declined", "insufficient_funds")
    return (debit_change_declined if refused else change_declined)(f, d)


BUILDERS: dict[str, Callable[[Format, Mapping[str, Any]], Message]] = {
    "signup_confirmation": _signup_confirmation,
    "purchase_confirmation": _purchase_confirmation,
    "renewal_receipt": _renewal_receipt,
    "request_received": _request_received,
    "request_status": _request_status,
    "usage_threshold": _usage_threshold,
    "payment_failed": _payment_failed,
    "debit_returned": debit_returned,
    "payment_authentication": payment_authentication,
    "change_declined": _change_declined,
    "change_refunded": change_refunded,
}


def message_for(kind: str, locale: str, data: Mapping[str, Any],
                context: EmailContext | None = None) -> Message:
    """Subject and paragraphs; UnknownNotification for a kind without templates."""
    builder = BUILDERS.get(kind)
    if builder is None:
        raise UnknownNotification(f"no email template for notification kind {kind!r}")
    context = context or EmailContext()
    return builder(Format(locale, context.billing_url), data)


def render_email(kind: str, locale: str, to: str, data: Mapping[str, Any], *,
                 message_id: str | None = None, attachments: tuple[Attachment, ...] = (),
                 context: EmailContext | None = None) -> Email:
    context = context or EmailContext()
    message = message_for(kind, locale, data, context)
    language = locale if locale in LANGUAGES else "en"
    f = Format(language, context.billing_url)
    paragraphs = (*message.paragraphs, SIGNATURE[language], closing(f, context))
    text = "\n\n".join(paragraphs) + "\n"
    link = escape(context.billing_url)
    body = "\n".join(
        "<p>" + escape(p).replace(chr(10), "<br>").replace(link, f'<a href="{link}">{link}</a>')
        + "</p>" for p in paragraphs)
    html = (f'<!doctype html>\n<html lang="{language}"><head><meta charset="utf-8">'
            f"<title>{escape(message.subject)}</title></head>\n"
            f'<body style="font-family: sans-serif; line-height: 1.5; color: #212529">\n'
            f"{body}\n</body></html>\n")
    return Email(to=to, subject=message.subject, text=text, html=html,
                 attachments=attachments, message_id=message_id)
