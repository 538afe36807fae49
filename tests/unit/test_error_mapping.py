"""The services' errors map to HTTP statuses in one table (web/problems.py), and the
portal's messages read each error's own code."""

from __future__ import annotations

import pytest

from canone.billing.errors import InvalidField
from canone.services import errors
from canone.web.portal.messages import error_code
from canone.web.problems import status_of


@pytest.mark.parametrize(("error", "status"), [
    (InvalidField("seats", "must be at least 1"), 422),
    (errors.InvalidBillingDetails({"address.city": "is required"}), 422),
    (errors.NotFound("no such invoice"), 404),
    (errors.Forbidden("not yours"), 403),
    (errors.ChangeRefused("needs a request", ("product_change",)), 409),
    (errors.StaleQuote(), 409),
    (errors.StaleQuoteRefunded("not applied, refunded"), 409),
    (errors.Busy("another payment runs"), 409),
    (errors.InvalidTransition("cannot become open"), 409),
    (errors.AccountRestricted("past due"), 409),
    (errors.NoFreeSeat("every seat is taken"), 409),
    (errors.Conflict("a user with email ada@example.com already exists"), 409),
    (errors.PaymentFailed("declined"), 402),
    (errors.PaymentPending("no answer"), 402),
    (errors.StaleDebitPending("not applied; a completed debit is refunded"), 402),
    (errors.ServiceError("another refusal"), 400),
    (RuntimeError("a bug"), 500),
])
def test_every_error_has_one_status(error: Exception, status: int) -> None:
    assert status_of(error) == status


@pytest.mark.parametrize(("error", "code"), [
    (errors.StaleQuote(), "stale_quote"),
    (errors.StaleQuoteRefunded("not applied, refunded"), "stale_quote_refunded"),
    (errors.PaymentFailed("cancelled", "stale_quote"), "stale_quote"),
    (errors.PaymentFailed("no money", "insufficient_funds"), "insufficient_funds"),
    (errors.PaymentFailed("odd", "processing_error"), "declined"),
    (errors.PaymentPending("no answer"), "payment_pending"),
    (errors.StaleDebitPending("not applied; a completed debit is refunded"),
     "stale_quote_debit"),
    (errors.Busy("another payment runs"), "busy"),
    (errors.ChangeRefused("needs a request"), "change_refused"),
    (InvalidField("quote_token", "not valid"), "invalid_quote"),
    (InvalidField("seats", "too many"), "not_possible"),
    (errors.Forbidden("not yours"), "forbidden"),
    (errors.AccountRestricted("past due"), "account_restricted"),
    (errors.NoFreeSeat("every seat is taken"), "no_free_seat"),
    (errors.InvalidTransition("cannot become open"), "not_possible"),
    (errors.NotFound("no such request"), "not_possible"),
    (errors.Conflict("taken"), "not_possible"),
])
def test_the_page_shows_the_errors_own_message(error: Exception, code: str) -> None:
    assert error_code(error) == code


def test_a_record_that_should_exist_and_does_not_is_not_found() -> None:
    assert errors.existing("acc_1", "account") == "acc_1"
    with pytest.raises(errors.NotFound, match=r"^account acc_2 not found$"):
        errors.existing(None, "account acc_2")
