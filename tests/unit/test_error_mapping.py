"""The services' errors map to HTTP statuses in one table (web/problems.py), and the
portal's messages read each error's own code."""

from __future__ import annotations

import pytest

from canone.billing.errors import InvalidField
from canone.services.errors import (
    AccountRestricted,
    Busy,
    ChangeRefused,
    Conflict,
    Forbidden,
    InvalidBillingDetails,
    InvalidTransition,
    NoFreeSeat,
    NotFound,
    PaymentFailed,
    PaymentPending,
    ServiceError,
    StaleQuote,
    existing,
)
from canone.web.portal.messages import error_code
from canone.web.problems import status_of


@pytest.mark.parametrize(("error", "status"), [
    (InvalidField("seats", "must be at least 1"), 422),
    (InvalidBillingDetails({"address.city": "is required"}), 422),
    (NotFound("no such invoice"), 404),
    (Forbidden("not yours"), 403),
    (ChangeRefused("needs a request", ("product_change",)), 409),
    (StaleQuote(), 409),
    (Busy("another payment runs"), 409),
    (InvalidTransition("cannot become open"), 409),
    (AccountRestricted("past due"), 409),
    (NoFreeSeat("every seat is taken"), 409),
    (Conflict("a user with email ada@example.com already exists"), 409),
    (PaymentFailed("declined"), 402),
    (PaymentPending("no answer"), 402),
    (ServiceError("another refusal"), 400),
    (RuntimeError("a bug"), 500),
])
def test_every_error_has_one_status(error: Exception, status: int) -> None:
    assert status_of(error) == status


@pytest.mark.parametrize(("error", "code"), [
    (StaleQuote(), "stale_quote"),
    (PaymentFailed("no money", "insufficient_funds"), "insufficient_funds"),
    (PaymentFailed("odd", "processing_error"), "declined"),
    (PaymentPending("no answer"), "payment_pending"),
    (Busy("another payment runs"), "busy"),
    (ChangeRefused("needs a request"), "change_refused"),
    (InvalidField("quote_token", "not valid"), "invalid_quote"),
    (InvalidField("seats", "too many"), "not_possible"),
    (Forbidden("not yours"), "forbidden"),
    (AccountRestricted("past due"), "account_restricted"),
    (NoFreeSeat("every seat is taken"), "no_free_seat"),
    (InvalidTransition("cannot become open"), "not_possible"),
    (NotFound("no such request"), "not_possible"),
    (Conflict("taken"), "not_possible"),
])
def test_the_page_shows_the_errors_own_message(error: Exception, code: str) -> None:
    assert error_code(error) == code


def test_a_record_that_should_exist_and_does_not_is_not_found() -> None:
    assert existing("acc_1", "account") == "acc_1"
    with pytest.raises(NotFound, match=r"^account acc_2 not found$"):
        existing(None, "account acc_2")
