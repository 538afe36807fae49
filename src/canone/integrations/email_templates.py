"""The emails canone sends, in English and Italian: plain text plus a simple HTML version.

One builder per notification kind turns the notification's data (written by the services in
the transaction of the change, see `canone.services.context.notify`) into a subject and
paragraphs; `render_email` makes the `Email`, closing it with the account, its plan and the
link to the Billing & Upgrade page (`email_words.EmailContext`). Amounts arrive in minor
units and are formatted with Babel for the recipient's language ("$49.00", "49,00 €").

    signup_confirmation    invoice_id, number, total, amount_paid, currency, status, plan
    purchase_confirmation  the same (plan: the configuration bought)
    renewal_receipt        the same without plan; restriction_lifted when it was lifted
    request_received       request_id, status, reason, desired (CONFIG or None), message
    request_status         the same
    usage_threshold        threshold (percent), contacts, limit
    payment_failed         amount, currency, reason, message, invoice_id, number, attempt,
                           attempts, next_attempt_on, last_attempt_on (local ISO dates or
                           None), restricted ("no", "now" or "still")
    change_declined        amount, currency, reason, message, target (CONFIG)
    payment_authentication as payment_failed, reason authentication_required; reminder
                           true on a retry day (nothing charged, SPEC §9)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

from canone.integrations.email_words import (
    LANGUAGES,
    SIGNATURE,
    EmailContext,
    Format,
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


@dataclass(frozen=True)
class Message:
    subject: str
    paragraphs: tuple[str, ...]


# -- invoices -------------------------------------------------------------------------------


def _payment_sentence(f: Format, d: Mapping[str, Any]) -> str:
    paid, total, currency = int(d["amount_paid"]), int(d["total"]), d["currency"]
    if paid > 0:
        return f.pick(f"We charged {f.money(paid, currency)} to your card on file.",
                      f"Abbiamo addebitato {f.money(paid, currency)} sulla tua carta.")
    if d.get("status") == "open" and total > 0:
        return f.pick("The payment is still outstanding: we will try your card again.",
                      "Il pagamento è ancora in sospeso: riproveremo ad addebitarlo sulla tua "
                      "carta.")
    return f.pick("Your account credit covers it: nothing was charged.",
                  "Il credito del tuo account copre l'importo: non abbiamo addebitato nulla.")


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


# -- payments -------------------------------------------------------------------------------

_DECLINES = {
    "en": {"declined": "the card was declined", "insufficient_funds": "insufficient funds",
           "no_card": "there is no card on file"},
    "it": {"declined": "la carta è stata rifiutata", "insufficient_funds": "fondi insufficienti",
           "no_card": "non c'è una carta registrata"},
}


def _why(f: Format, d: Mapping[str, Any]) -> str:
    reason = _DECLINES[f.language].get(str(d.get("reason")), str(d.get("message") or ""))
    return f": {reason.strip()}." if reason.strip() else "."


def _payment_failed(f: Format, d: Mapping[str, Any]) -> Message:
    """A renewal (or other open) invoice that could not be collected: what happens next
    depends on the attempt (SPEC §5: retries on days 3, 5 and 7, then restricted)."""
    if not d.get("number"):  # queued by an older version, which named no invoice
        return _change_declined(f, d) if d.get("invoice_id") is None else _unnamed_invoice(f, d)
    amount, number = f.money(int(d["amount"]), d["currency"]), d["number"]
    attempt, attempts = int(d["attempt"]), int(d["attempts"])
    restricted = d.get("restricted", "no")
    failed = f.pick(f"we could not charge {amount} for invoice {number} to your card",
                    f"non siamo riusciti ad addebitare sulla tua carta {amount} della fattura "
                    f"{number}") + _why(f, d)
    if attempt <= attempts:
        failed += " " + (f.pick(f"This was attempt {attempt} of {attempts}.",
                                f"Era il tentativo {attempt} di {attempts}.")
                         if d.get("next_attempt_on") else
                         f.pick(f"This was the last of {attempts} attempts: we will not try "
                                "again automatically.",
                                f"Era l'ultimo dei {attempts} tentativi: non riproveremo "
                                "automaticamente."))
    pay = f.pick("Update your card on the Billing & Upgrade page and we charge it at once"
                 + (", which lifts the restriction: " if restricted != "no" else ": ")
                 + f.billing_url,
                 "Aggiorna la carta nella pagina Fatturazione e upgrade: la addebitiamo subito"
                 + (" e la limitazione si toglie: " if restricted != "no" else ": ")
                 + f.billing_url)
    return Message(_payment_subject(f, restricted, number, amount),
                   (f.pick("Hello,", "Buongiorno,"), failed, _standing(f, d), pay))


def _payment_authentication(f: Format, d: Mapping[str, Any]) -> Message:
    """An invoice whose bank asks the customer to authenticate the payment (SPEC §9): it
    cannot be charged while they are away, so they are asked to pay it on the billing page;
    its later retry days send this again as a reminder instead of charging."""
    amount, number = f.money(int(d["amount"]), d["currency"]), d["number"]
    # Short enough for one header line (mail programs show a folded subject oddly).
    subject = f.pick(f"Authenticate the payment of invoice {number} ({amount})",
                     f"Autorizza il pagamento della fattura {number} ({amount})")
    if d.get("reminder"):
        subject = f.pick(f"Reminder: pay invoice {number} ({amount})",
                         f"Promemoria: paga la fattura {number} ({amount})")
    asked = f.pick(f"your bank asks you to authenticate the payment of {amount} for invoice"
                   f" {number} (3-D Secure), which we cannot do for you: nothing was charged"
                   " and we will not charge the card again without you.",
                   f"la tua banca chiede che tu autorizzi il pagamento di {amount} della "
                   f"fattura {number} (3-D Secure), cosa che non possiamo fare al posto tuo: "
                   "non abbiamo addebitato nulla e non addebiteremo di nuovo la carta senza "
                   "di te.")
    pay = f.pick("Open the Billing & Upgrade page and pay the invoice there; your bank will ask"
                 " you to confirm: " + f.billing_url,
                 "Apri la pagina Fatturazione e upgrade e paga lì la fattura; la tua banca ti "
                 "chiederà di confermare: " + f.billing_url)
    return Message(subject, (f.pick("Hello,", "Buongiorno,"), asked, _reminders(f, d), pay))


def _reminders(f: Format, d: Mapping[str, Any]) -> str:
    """The retry days to come remind instead of charging: when, and when it restricts."""
    if d.get("restricted", "no") != "no":
        return _standing(f, d)
    after, last = f.day(str(d["next_attempt_on"])), f.day(str(d["last_attempt_on"]))
    return f.pick(f"We will remind you on {after}. Your account stays active meanwhile; if "
                  f"the invoice is still unpaid on {last}, the account will be restricted "
                  "(read-only except billing) until it is paid.",
                  f"Te lo ricorderemo il {after}. Nel frattempo il tuo account resta attivo; "
                  f"se la fattura non sarà ancora pagata il {last}, l'account sarà limitato "
                  "(in sola lettura, tranne la fatturazione) finché non sarà pagata.")


def _unnamed_invoice(f: Format, d: Mapping[str, Any]) -> Message:
    amount = f.money(int(d["amount"]), d["currency"])
    return Message(f.pick(f"Payment failed: {amount}", f"Pagamento non riuscito: {amount}"), (
        f.pick("Hello,", "Buongiorno,"),
        f.pick(f"we could not charge {amount} to your card",
               f"non siamo riusciti ad addebitare {amount} sulla tua carta") + _why(f, d),
        f.pick("Update your card on the Billing & Upgrade page and we charge it at once: ",
               "Aggiorna la carta nella pagina Fatturazione e upgrade: la addebitiamo subito: ")
        + f.billing_url))


def _payment_subject(f: Format, restricted: str, number: str, amount: str) -> str:
    if restricted == "now":
        return f.pick(f"Account restricted: invoice {number} ({amount}) is unpaid",
                      f"Account limitato: la fattura {number} ({amount}) non è pagata")
    if restricted == "still":
        return f.pick(f"Payment failed: invoice {number} ({amount}) is still unpaid",
                      f"Pagamento non riuscito: la fattura {number} ({amount}) resta da pagare")
    return f.pick(f"Payment failed: invoice {number} ({amount})",
                  f"Pagamento non riuscito: fattura {number} ({amount})")


def _standing(f: Format, d: Mapping[str, Any]) -> str:
    """Whether the account is restricted now, or from when it will be."""
    restricted = d.get("restricted", "no")
    if restricted == "now":
        return f.pick("Your account is restricted from now on: read-only except billing, until "
                      "the invoice is paid.",
                      "Da ora il tuo account è limitato: in sola lettura, tranne la "
                      "fatturazione, finché la fattura non sarà pagata.")
    if restricted == "still":
        return f.pick("Your account stays restricted (read-only except billing) until the "
                      "invoice is paid.",
                      "Il tuo account resta limitato (in sola lettura, tranne la fatturazione) "
                      "finché la fattura non sarà pagata.")
    after = f.day(str(d["next_attempt_on"]))
    last = f.day(str(d["last_attempt_on"]))
    if after == last:
        return f.pick(f"We will try your card one last time on {last}. Your account stays "
                      f"active meanwhile; if that try fails too, the account will be restricted "
                      f"(read-only except billing) until the invoice is paid.",
                      f"Riproveremo ad addebitare la carta un'ultima volta il {last}. Nel "
                      f"frattempo il tuo account resta attivo; se anche quel tentativo non andrà "
                      f"a buon fine, l'account sarà limitato (in sola lettura, tranne la "
                      f"fatturazione) finché la fattura non sarà pagata.")
    return f.pick(f"We will try your card again on {after}. Your account stays active "
                  f"meanwhile; if the invoice is still unpaid after the last try, on {last}, "
                  f"the account will be restricted (read-only except billing) until it is "
                  f"paid.",
                  f"Riproveremo ad addebitare la carta il {after}. Nel frattempo il tuo "
                  f"account resta attivo; se la fattura non sarà pagata neanche all'ultimo "
                  f"tentativo, il {last}, l'account sarà limitato (in sola lettura, tranne la "
                  f"fatturazione) finché non sarà pagata.")


def _change_declined(f: Format, d: Mapping[str, Any]) -> Message:
    """A plan change whose payment was declined: nothing happened, nothing will be retried."""
    amount = f.money(int(d["amount"]), d["currency"])
    target = d.get("target")
    to = f.pick(f" for the change to {describe_config(f, target)}",
                f" per il passaggio a {describe_config(f, target)}") if target else ""
    if f.it():
        return Message("La modifica del piano non è stata applicata: pagamento rifiutato", (
            "Buongiorno,",
            f"non siamo riusciti ad addebitare {amount} sulla tua carta{to}{_why(f, d)}",
            "Non abbiamo addebitato nulla e il tuo piano non è cambiato: non c'è nessuna "
            "fattura da pagare e non riproveremo.",
            "Aggiorna la carta nella pagina Fatturazione e upgrade, poi ripeti la modifica: "
            + f.billing_url))
    return Message("Your plan change was not applied: payment declined", (
        "Hello,",
        f"we could not charge {amount} to your card{to}{_why(f, d)}",
        "Nothing was charged and your plan did not change: there is no invoice to pay and we "
        "will not try again.",
        "Update your card on the Billing & Upgrade page, then make the change again: "
        + f.billing_url))


BUILDERS: dict[str, Callable[[Format, Mapping[str, Any]], Message]] = {
    "signup_confirmation": _signup_confirmation,
    "purchase_confirmation": _purchase_confirmation,
    "renewal_receipt": _renewal_receipt,
    "request_received": _request_received,
    "request_status": _request_status,
    "usage_threshold": _usage_threshold,
    "payment_failed": _payment_failed,
    "payment_authentication": _payment_authentication,
    "change_declined": _change_declined,
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
