"""The payment emails of an account paying by SEPA Direct Debit (SPEC §9), in English and
Italian: a debit of an invoice that failed (`payment_failed` with `bank_last4`) and a debit
the bank returned later, or a disputed one (`debit_returned`), and a plan change whose
debit was refused at once (`change_declined` with `bank_last4`). They speak of the bank
account the money is taken from, never of a card, and promise what the retry schedule does
(SPEC §5): each retry day starts a new debit, which takes days to succeed or fail; a retry
day already past when a failure is learnt is collected by the next billing run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from canone.integrations.email_payments import payment_subject, standing
from canone.integrations.email_words import Format, Message, describe_config

_REASONS = {"en": {"insufficient_funds": "insufficient funds"},
            "it": {"insufficient_funds": "fondi insufficienti"}}


def _why(f: Format, d: Mapping[str, Any]) -> str:
    """Stripe's reason for the failure when it gives one (its message is in English). A
    message that speaks of a card is a generic decline (localstripe's "Your card was
    declined."), untrue of a bank account: left out."""
    message = str(d.get("message") or "").strip().rstrip(".")
    reason = _REASONS[f.language].get(str(d.get("reason")),
                                      "" if "card" in message.lower() else message)
    return f": {reason}." if reason else "."


def _change(f: Format) -> str:
    """What the customer can do meanwhile: a new payment method is collected from at once
    (accounts.update_card collects the open invoices)."""
    return f.pick("You can change the bank account, or pay by card instead, on the Billing & "
                  "Upgrade page; we then collect the invoice from the new payment method at "
                  "once: " + f.billing_url,
                  "Puoi cambiare il conto bancario, o pagare con una carta, nella pagina "
                  "Fatturazione e upgrade; addebiteremo subito la fattura sul nuovo metodo di "
                  "pagamento: " + f.billing_url)


def debit_failed(f: Format, d: Mapping[str, Any]) -> Message:
    """An invoice's SEPA debit that failed: the attempt, the next debit, and when the
    account would be restricted."""
    amount, number, last4 = f.money(int(d["amount"]), d["currency"]), d["number"], d["bank_last4"]
    attempt, attempts = int(d["attempt"]), int(d["attempts"])
    failed = f.pick(f"the SEPA Direct Debit of {amount} for invoice {number} from your account "
                    f"ending {last4} failed",
                    f"l'addebito diretto SEPA di {amount} della fattura {number} sul tuo conto "
                    f"che termina con {last4} non è andato a buon fine") + _why(f, d)
    if d.get("next_attempt_on"):
        failed += " " + f.pick(f"This was attempt {attempt} of {attempts}.",
                               f"Era il tentativo {attempt} di {attempts}.")
    elif attempt <= attempts:
        failed += " " + f.pick(f"This was the last of {attempts} attempts: we will not debit "
                               "your account again automatically.",
                               f"Era l'ultimo dei {attempts} tentativi: non riproveremo "
                               "l'addebito automaticamente.")
    return Message(payment_subject(f, d.get("restricted", "no"), number, amount),
                   (f.pick("Hello,", "Buongiorno,"), failed, _next_debit(f, d), _change(f)))


def _next_debit(f: Format, d: Mapping[str, Any]) -> str:
    if d.get("restricted", "no") != "no":
        return standing(f, d)
    after, last = f.day(str(d["next_attempt_on"])), f.day(str(d["last_attempt_on"]))
    when = (f.pick("with our next collection, as its day has passed",
                   "con la prossima riscossione, perché il giorno previsto è passato")
            if d.get("overdue") else f.pick(f"on {after}", f"il {after}"))
    if after == last:
        return f.pick(f"We will debit your account one last time {when}. Your account stays "
                      "active meanwhile; if that debit fails too, the account will be "
                      "restricted (read-only except billing) until the invoice is paid.",
                      f"Riproveremo l'addebito sul tuo conto un'ultima volta {when}. Nel "
                      "frattempo il tuo account resta attivo; se anche quell'addebito non "
                      "andrà a buon fine, l'account sarà limitato (in sola lettura, tranne la "
                      "fatturazione) finché la fattura non sarà pagata.")
    return f.pick(f"We will debit your account again {when}. Your account stays active "
                  f"meanwhile; if the last debit, on {last}, fails too, the account will be "
                  "restricted (read-only except billing) until the invoice is paid.",
                  f"Riproveremo l'addebito sul tuo conto {when}. Nel frattempo il tuo account "
                  f"resta attivo; se anche l'ultimo addebito, il {last}, non andrà a buon "
                  "fine, l'account sarà limitato (in sola lettura, tranne la fatturazione) "
                  "finché la fattura non sarà pagata.")


def debit_returned(f: Format, d: Mapping[str, Any]) -> Message:
    """A SEPA debit that had succeeded and that the bank returned (or the payer disputed):
    the invoice is unpaid again and debited again on its retry day."""
    amount, number, last4 = f.money(int(d["amount"]), d["currency"]), d["number"], d["bank_last4"]
    after = f.day(str(d["next_attempt_on"]))
    # Restricted already (another invoice unpaid): it stays so, whatever this one does.
    meanwhile = (f.pick(" Your account stays restricted (read-only except billing) until your "
                        "invoices are paid.",
                        " Il tuo account resta limitato (in sola lettura, tranne la "
                        "fatturazione) finché le fatture non saranno pagate.")
                 if d.get("restricted") == "still" else
                 f.pick(" Your account stays active meanwhile.",
                        " Nel frattempo il tuo account resta attivo."))
    return Message(f.pick(f"SEPA Direct Debit returned: invoice {number} ({amount}) is unpaid",
                          f"Addebito SEPA stornato: la fattura {number} ({amount}) non è pagata"), (
        f.pick("Hello,", "Buongiorno,"),
        f.pick(f"your bank returned the SEPA Direct Debit of {amount} for invoice {number} "
               f"from your account ending {last4}, so the invoice is unpaid again. We will "
               f"debit your account again on {after}." + meanwhile,
               f"la tua banca ha stornato l'addebito diretto SEPA di {amount} della fattura "
               f"{number} sul tuo conto che termina con {last4}: la fattura risulta di nuovo "
               f"da pagare. Riproveremo l'addebito sul tuo conto il {after}." + meanwhile),
        _change(f)))


def debit_change_declined(f: Format, d: Mapping[str, Any]) -> Message:
    """A plan change whose SEPA debit was refused when it was made (not one applied on the
    mandate and failing later, which is a failed invoice): nothing changed, no retry."""
    amount, last4 = f.money(int(d["amount"]), d["currency"]), d["bank_last4"]
    target = d.get("target")
    to = f.pick(f" for the change to {describe_config(f, target)}",
                f" per il passaggio a {describe_config(f, target)}") if target else ""
    return Message(f.pick("Your plan change was not applied: SEPA Direct Debit refused",
                          "La modifica del piano non è stata applicata: addebito SEPA "
                          "rifiutato"), (
        f.pick("Hello,", "Buongiorno,"),
        f.pick(f"the SEPA Direct Debit of {amount}{to} from your account ending {last4} was "
               "refused",
               f"l'addebito diretto SEPA di {amount}{to} sul tuo conto che termina con {last4} "
               "è stato rifiutato") + _why(f, d),
        f.pick("Nothing was debited and your plan did not change: there is no invoice to pay "
               "and we will not try again.",
               "Non abbiamo addebitato nulla e il tuo piano non è cambiato: non c'è nessuna "
               "fattura da pagare e non riproveremo."),
        f.pick("You can change the bank account, or pay by card instead, on the Billing & "
               "Upgrade page, then make the change again: " + f.billing_url,
               "Puoi cambiare il conto bancario, o pagare con una carta, nella pagina "
               "Fatturazione e upgrade, poi ripetere la modifica: " + f.billing_url)))
