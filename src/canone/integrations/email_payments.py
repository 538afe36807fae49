"""The payment emails, in English and Italian: an invoice that could not be collected
(`payment_failed`), one whose bank asks the customer to authenticate the payment
(`payment_authentication`), a plan change whose payment was declined (`change_declined`),
and one paid for after its price changed, refunded (`change_refunded`). Their data: see
`canone.integrations.email_templates`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from canone.integrations.email_words import Format, Message, describe_config

_DECLINES = {
    "en": {"declined": "the card was declined", "insufficient_funds": "insufficient funds",
           "no_card": "there is no card on file",
           "authentication_failed": "your bank could not authenticate the payment",
           "stale_quote": "the price changed before the payment finished, so we cancelled it",
           "failed": "the payment never reached the card network",
           "canceled": "the payment was cancelled before it was taken"},
    "it": {"declined": "la carta è stata rifiutata", "insufficient_funds": "fondi insufficienti",
           "no_card": "non c'è una carta registrata",
           "authentication_failed": "la tua banca non ha potuto autenticare il pagamento",
           "stale_quote": "il prezzo è cambiato prima che il pagamento fosse completato, "
                          "quindi l'abbiamo annullato",
           "failed": "il pagamento non ha mai raggiunto il circuito della carta",
           "canceled": "il pagamento è stato annullato prima dell'addebito"},
}


def _why(f: Format, d: Mapping[str, Any]) -> str:
    reason = _DECLINES[f.language].get(str(d.get("reason")), str(d.get("message") or ""))
    return f": {reason.strip()}." if reason.strip() else "."


def payment_failed(f: Format, d: Mapping[str, Any]) -> Message:
    """A renewal (or other open) invoice that could not be collected: what happens next
    depends on the attempt (SPEC §5: retries on days 3, 5 and 7, then restricted)."""
    if not d.get("number"):  # queued by an older version, which named no invoice
        return change_declined(f, d) if d.get("invoice_id") is None else _unnamed_invoice(f, d)
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
    return Message(payment_subject(f, restricted, number, amount),
                   (f.pick("Hello,", "Buongiorno,"), failed, standing(f, d), pay))


def payment_authentication(f: Format, d: Mapping[str, Any]) -> Message:
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
        return standing(f, d)
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


def payment_subject(f: Format, restricted: str, number: str, amount: str) -> str:
    if restricted == "now":
        return f.pick(f"Account restricted: invoice {number} ({amount}) is unpaid",
                      f"Account limitato: la fattura {number} ({amount}) non è pagata")
    if restricted == "still":
        return f.pick(f"Payment failed: invoice {number} ({amount}) is still unpaid",
                      f"Pagamento non riuscito: la fattura {number} ({amount}) resta da pagare")
    return f.pick(f"Payment failed: invoice {number} ({amount})",
                  f"Pagamento non riuscito: fattura {number} ({amount})")


def standing(f: Format, d: Mapping[str, Any]) -> str:
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
    after, last = f.day(str(d["next_attempt_on"])), f.day(str(d["last_attempt_on"]))
    when = retry_when(f, d)
    if after == last:
        return f.pick(f"We will try your card one last time {when}. Your account stays "
                      f"active meanwhile; if that try fails too, the account will be restricted "
                      f"(read-only except billing) until the invoice is paid.",
                      f"Riproveremo ad addebitare la carta un'ultima volta {when}. Nel "
                      f"frattempo il tuo account resta attivo; se anche quel tentativo non andrà "
                      f"a buon fine, l'account sarà limitato (in sola lettura, tranne la "
                      f"fatturazione) finché la fattura non sarà pagata.")
    return f.pick(f"We will try your card again {when}. Your account stays active "
                  f"meanwhile; if the invoice is still unpaid after the last try, on {last}, "
                  f"the account will be restricted (read-only except billing) until it is "
                  f"paid.",
                  f"Riproveremo ad addebitare la carta {when}. Nel frattempo il tuo "
                  f"account resta attivo; se la fattura non sarà pagata neanche all'ultimo "
                  f"tentativo, il {last}, l'account sarà limitato (in sola lettura, tranne la "
                  f"fatturazione) finché non sarà pagata.")


def retry_when(f: Format, d: Mapping[str, Any]) -> str:
    """When the next attempt is made, for "we will try again …": on its day, or, when that
    day had passed before the failure was known (a failure learnt late, SPEC §9), with the
    next collection, which the billing run makes at once: never a day that is gone."""
    if d.get("overdue"):
        return f.pick("with our next collection, as its day has passed",
                      "con la prossima riscossione, perché il giorno previsto è passato")
    after = f.day(str(d["next_attempt_on"]))
    return f.pick(f"on {after}", f"il {after}")


def change_declined(f: Format, d: Mapping[str, Any]) -> Message:
    """A plan change whose payment was declined: nothing happened, nothing will be retried."""
    amount = f.money(int(d["amount"]), d["currency"])
    target = d.get("target")
    to = f.pick(f" for the change to {describe_config(f, target)}",
                f" per il passaggio a {describe_config(f, target)}") if target else ""
    # Why, when the card was not refused: the customer failed their bank's challenge
    # (3-D Secure), or canone cancelled the payment because its quote went stale.
    reason = str(d.get("reason"))
    subject, what_now = _NOT_REFUSED.get(reason, _NOT_REFUSED["declined"])[f.language]
    return Message(f.pick("Your plan change was not applied: payment ",
                          "La modifica del piano non è stata applicata: pagamento ") + subject, (
        f.pick("Hello,", "Buongiorno,"),
        f.pick(f"we could not charge {amount} to your card{to}{_why(f, d)}",
               f"non siamo riusciti ad addebitare {amount} sulla tua carta{to}{_why(f, d)}"),
        f.pick("Nothing was charged and your plan did not change: there is no invoice to pay "
               "and we will not try again.",
               "Non abbiamo addebitato nulla e il tuo piano non è cambiato: non c'è nessuna "
               "fattura da pagare e non riproveremo."),
        what_now + f.billing_url))


# A declined change's subject word and what the customer can do, by reason and language.
_NOT_REFUSED = {
    "declined": {
        "en": ("declined",
               "Update your card on the Billing & Upgrade page, then make the change again: "),
        "it": ("rifiutato",
               "Aggiorna la carta nella pagina Fatturazione e upgrade, poi ripeti la modifica: ")},
    "authentication_failed": {
        "en": ("not authenticated",
               "Make the change again on the Billing & Upgrade page, with this card or "
               "another: "),
        "it": ("non autenticato",
               "Ripeti la modifica nella pagina Fatturazione e upgrade, con questa carta o con "
               "un'altra: ")},
    "stale_quote": {
        "en": ("cancelled", "Review the change again on the Billing & Upgrade page: "),
        "it": ("annullato", "Controlla di nuovo la modifica nella pagina Fatturazione e "
                            "upgrade: ")},
    # Never sent to the card network (found so by reconciliation), or cancelled there: the
    # card was not refused, so it need not be replaced.
    "failed": {
        "en": ("not made", "Make the change again on the Billing & Upgrade page: "),
        "it": ("non eseguito", "Ripeti la modifica nella pagina Fatturazione e upgrade: ")},
    "canceled": {
        "en": ("cancelled", "Make the change again on the Billing & Upgrade page: "),
        "it": ("annullato", "Ripeti la modifica nella pagina Fatturazione e upgrade: ")},
}


def change_refunded(f: Format, d: Mapping[str, Any]) -> Message:
    """A plan change paid for after its price changed (its quote went stale before the
    payment finished, SPEC §9): not applied, and the payment refunded to the card."""
    amount, last4 = f.money(int(d["amount"]), d["currency"]), str(d.get("last4") or "")
    card = f.pick(f"your card ending {last4}" if last4 else "your card",
                  f"tua carta che termina con {last4}" if last4 else "tua carta")
    note = d.get("credit_note_number")
    if f.it():
        return Message("La modifica del piano non è stata applicata: pagamento rimborsato", (
            "Buongiorno,",
            "la modifica del tuo piano non è stata applicata perché il prezzo è cambiato prima "
            f"che il pagamento fosse completato; ti abbiamo rimborsato {amount} sulla {card}; "
            "possono volerci 5–10 giorni perché compaia.",
            *([f"Il rimborso è documentato dalla nota di credito {note}."] if note else []),
            "Se vuoi ancora cambiare piano, rivedi la modifica nella pagina Fatturazione e "
            "upgrade: " + f.billing_url))
    return Message("Your plan change was not applied: payment refunded", (
        "Hello,",
        "your plan change was not applied because the price changed before the payment "
        f"finished; we refunded {amount} to {card}; it can take 5–10 days to show.",
        *([f"Credit note {note} documents the refund."] if note else []),
        "If you still want the change, review it again on the Billing & Upgrade page: "
        + f.billing_url))
