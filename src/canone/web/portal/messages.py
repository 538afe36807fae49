"""What the page says after an action or an error, in the visitor's language.

Actions redirect back to the page (post/redirect/get) with a short code in the query
string, `?done=…` or `?error=…`; only the codes below are shown, so a crafted link cannot
put arbitrary text on the page.
"""

from __future__ import annotations

from canone.billing.errors import InvalidField
from canone.services.errors import PaymentFailed, ServiceError
from canone.web.i18n import N_, Translator

DONE = {
    "scheduled": N_("Your change is scheduled for the next period. Nothing was charged today."),
    "changed": N_("Your plan is updated. Nothing was due today."),
    "pending_cancelled": N_("The scheduled change was cancelled. Your plan stays as it is."),
    "request_sent": N_("Your request was sent. We will contact you by email to help you "
                       "change your plan."),
    "request_withdrawn": N_("Your request was withdrawn."),
    "card_updated": N_("Your card was updated."),
    "bank_account_saved": N_("Your bank account is saved: from now on, payments are made "
                             "from it by SEPA Direct Debit."),
    "invoice_paid": N_("Thank you, the invoice is paid."),
    "auto_upgrade_on": N_("Auto-upgrade is on: your contact limit is raised when you go "
                          "over it."),
    "auto_upgrade_off": N_("Auto-upgrade is off."),
    "cancelled": N_("Your account will be cancelled at the end of the current period."),
    "resumed": N_("The cancellation was undone. Your subscription continues."),
    "details_saved": N_("Your billing details are saved. They apply to the documents "
                        "issued from now on."),
}

ERRORS = {
    "stale_quote": N_("The price changed, please review again. Nothing was charged."),
    "stale_quote_refunded": N_("The price changed before the payment finished, so your plan "
                               "did not change. We refunded the payment to your card; it can "
                               "take 5–10 days to show. Please review the change again."),
    "declined": N_("Your card was declined. Nothing was charged and your plan did not "
                   "change. Update your card and try again."),
    "insufficient_funds": N_("Your card has insufficient funds. Nothing was charged and "
                             "your plan did not change."),
    "authentication_failed": N_("The bank could not authenticate this payment; nothing was "
                                "charged. Try again or use another card."),
    "no_card": N_("There is no card on file. Add a card first."),
    "payment_pending": N_("We are still waiting for the card network. Your plan changes "
                          "as soon as the payment is confirmed; do not pay again."),
    "stale_quote_debit": N_("Your plan changed while this payment was being set up, so this "
                            "change was not applied. If your bank completes the debit, we "
                            "refund it in full; you will receive an email."),
    "requires_action": N_("Your bank asks you to confirm this payment, and this page could "
                          "not show its window. Nothing was charged and your plan did not "
                          "change: reload the page and try again."),
    "busy": N_("Another payment for this account is being processed. Try again in a "
               "moment."),
    "change_refused": N_("This change needs a request to our team."),
    "invalid_quote": N_("This price is no longer valid. Please review the change again."),
    "not_reviewed": N_("This price was not reviewed, so nothing was charged. Open the change "
                       "again, check the price and confirm it with the button under it."),
    "not_possible": N_("That is not possible in the current state of your account."),
    "forbidden": N_("Only the account's primary admin can do this."),
    "card_saved_unpaid": N_("Your card was saved, but the unpaid invoice could not be "
                            "charged to it. Try another card."),
    "card_invalid": N_("The card details are not valid. Check them and try again."),
    "card_declined": N_("Your card was declined, so it was not saved. Your card on file is "
                        "unchanged. Try another card."),
    "provider_unavailable": N_("The payment provider did not answer. Nothing was saved or "
                               "charged; try again in a moment."),
    "account_restricted": N_("Your account is restricted until the unpaid invoice is paid: "
                             "pay it first, then buy the change."),
    "no_free_seat": N_("Every user seat is taken: add a seat first."),
    "request_invalid": N_("Say what you would like to change, in the message or by "
                          "choosing a plan."),
}


def done_text(tr: Translator, code: str | None) -> str | None:
    return tr.gettext(DONE[code]) if code in DONE else None


def error_text(tr: Translator, code: str | None) -> str | None:
    return tr.gettext(ERRORS[code]) if code in ERRORS else None


def error_code(exc: Exception) -> str:
    """The page's code for an error of the services: the error's own code (as in the
    API's problems) where the page has words for it."""
    if isinstance(exc, PaymentFailed):
        return exc.decline_code if exc.decline_code in ERRORS else "declined"
    if isinstance(exc, InvalidField):
        return "invalid_quote" if exc.field == "quote_token" else "not_possible"
    code = exc.code if isinstance(exc, ServiceError) else None
    return code if code in ERRORS else "not_possible"  # InvalidTransition, NotFound, …


def field_text(tr: Translator, exc: InvalidField, active_users: int | None = None,
               max_seats: int | None = None) -> str:
    """Why a configuration chosen in a dialog is not possible."""
    if exc.field.endswith("seats") and "deactivate" in exc.message and active_users:
        return tr.ngettext(
            "Your account has %(n)s active user. Deactivate users first to go below %(n)s "
            "seat.",
            "Your account has %(n)s active users. Deactivate users first to go below %(n)s "
            "seats.", active_users) % {"n": active_users}
    if exc.field.endswith("seats") and max_seats:
        return tr.gettext("This tier allows at most %(n)s user seats. Upgrade the tier for "
                          "more.") % {"n": max_seats}
    if exc.field.endswith("addons"):
        return tr.gettext("This add-on is not available on the chosen tier.")
    return tr.gettext("This choice is not available.")
