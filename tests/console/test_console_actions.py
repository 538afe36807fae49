"""The agent's actions on a request, pressed on its page: take it, apply it at period end
(a scheduled change), apply it now (the unused part credited, exactly), decline it with a
message. Amounts follow SPEC §4: on 16 April 15 of April's 30 days remain."""

from __future__ import annotations

from fastapi.testclient import TestClient
from httpx import Response

import stored
from canone.services import requests
from canone.services.access import EMAIL, Actor
from canone.services.context import Services

from .conftest import SUPPORT, act, ask, csrf_of, customer, plan, stored_request


def test_the_request_page_prices_the_change_both_ways(staff: TestClient,
                                                      svc: Services) -> None:
    ada = customer(svc, plan(tier="pro"))  # 79.00 a month
    request = ask(svc, ada, plan(tier="plus"), "Pro is too much for us.")
    page = staff.get(f"/console/requests/{request.id}")
    assert page.status_code == 200
    text = page.text
    assert "Pro is too much for us." in text
    assert "Marketing Pro" in text and "Marketing Plus" in text
    assert "$79.00" in text and "$49.00" in text  # the two prices per period
    assert "Move to a lower tier" in text  # why self-serve refused it
    for lost in ("Attribution reporting", "Conditional content", "Predictive sending",
                 "Split automations"):
        assert lost in text
    assert "From May 1, 2026 the plan becomes the desired one" in text
    assert "15 of the period's 30 days remain" in text
    assert "-$39.50" in text and "$24.50" in text  # unused Pro, remaining Plus
    assert "Credited to the account balance" in text and "$15.00" in text


def test_take_moves_the_request_in_progress(staff: TestClient, svc: Services) -> None:
    ada = customer(svc)
    request = ask(svc, ada, plan(tier="plus"))
    answer = act(staff, request.id, "take")
    assert isinstance(answer, Response) and answer.status_code == 303
    assert answer.headers["location"] == f"/console/requests/{request.id}?done=take"
    taken = stored_request(svc, request.id)
    assert taken.status == "in_progress"
    assert taken.history[-1].actor == "staff:sam@canone.test"
    page = staff.get(answer.headers["location"])
    assert "You took this request." in page.text
    assert 'value="take"' not in page.text  # no second "Take it"


def test_apply_at_period_end_schedules_the_desired_plan(staff: TestClient,
                                                        svc: Services) -> None:
    ada = customer(svc, plan(tier="pro"))
    desired = plan(tier="plus")
    request = ask(svc, ada, desired)
    answer = act(staff, request.id, "apply_period_end", "From May, as agreed.", follow=True)
    assert isinstance(answer, Response) and answer.status_code == 200
    assert "Applied at period end: the new plan starts on May 1, 2026." in answer.text
    sub = stored.subscription(svc, ada.account_id)
    assert sub.config == plan(tier="pro")  # nothing changes before May
    assert sub.pending == desired
    assert stored.ledger(svc, ada.account_id) == []  # nothing charged or credited
    done = stored_request(svc, request.id)
    assert (done.status, done.effective) == ("completed", "period_end")
    assert done.history[-1].message == "From May, as agreed."


def test_apply_now_credits_the_unused_part_to_the_ledger(staff: TestClient,
                                                         svc: Services) -> None:
    ada = customer(svc, plan(tier="pro"))
    request = ask(svc, ada, plan(tier="plus"))
    answer = act(staff, request.id, "apply_now", follow=True)
    assert isinstance(answer, Response) and answer.status_code == 200
    # −39.50 for the unused half of Pro, +24.50 for the rest of April on Plus.
    assert "$15.00 was credited to the account balance." in answer.text
    entries = stored.ledger(svc, ada.account_id)
    assert [(e.amount, e.currency) for e in entries] == [(1500, "USD")]
    with svc.database.read() as store:
        [note] = store.documents.credit_notes_of(ada.account_id, 10, None)
    assert (entries[0].credit_note_id, note.source_id) == (note.id, request.id)
    sub = stored.subscription(svc, ada.account_id)
    assert sub.config == plan(tier="plus") and sub.pending is None
    done = stored_request(svc, request.id)
    assert (done.status, done.effective) == ("completed", "now")
    account = staff.get(f"/console/accounts/{ada.account_id}")
    assert "$15.00" in account.text and "request_applied" in account.text


def test_apply_now_of_a_dearer_plan_invoices_the_difference(staff: TestClient,
                                                            svc: Services) -> None:
    ada = customer(svc, plan(tier="plus"))  # 49.00
    request = ask(svc, ada, plan(tier="pro"))  # 79.00
    page = staff.get(f"/console/requests/{request.id}")
    assert "Due now (invoiced, collected from the card on file)" in page.text
    act(staff, request.id, "apply_now")
    with svc.database.transaction() as store:
        invoices = store.invoices.of_account(ada.account_id, 10, None)
    request_invoice = next(i for i in invoices if i.kind == "request")
    assert request_invoice.total == 1500  # −24.50 + 39.50
    assert stored.ledger(svc, ada.account_id) == []


def test_decline_records_the_message_for_the_customer(staff: TestClient,
                                                      svc: Services) -> None:
    ada = customer(svc, plan(tier="pro"))
    request = ask(svc, ada, plan(tier="starter"))
    message = "Starter has no room for your 3 automations; Plus would keep them."
    answer = act(staff, request.id, "decline", message, follow=True)
    assert isinstance(answer, Response) and answer.status_code == 200
    assert "Declined. The customer was emailed your message." in answer.text
    assert message in answer.text  # in the history
    declined = stored_request(svc, request.id)
    assert declined.status == "declined"
    assert (declined.history[-1].to_status, declined.history[-1].message) == ("declined",
                                                                              message)
    assert stored.subscription(svc, ada.account_id).pending is None


def test_decline_without_a_message_is_refused_and_changes_nothing(staff: TestClient,
                                                                  svc: Services) -> None:
    ada = customer(svc)
    request = ask(svc, ada, plan(tier="starter"))
    answer = act(staff, request.id, "decline", "   ")
    assert isinstance(answer, Response) and answer.status_code == 409
    assert "Write the message the customer will receive" in answer.text
    assert stored_request(svc, request.id).status == "open"


def test_a_request_handled_meanwhile_is_not_applied_twice(staff: TestClient,
                                                          svc: Services) -> None:
    ada = customer(svc, plan(tier="pro"))
    request = ask(svc, ada, plan(tier="plus"))
    page = staff.get(f"/console/requests/{request.id}")
    requests.transition(svc, SUPPORT, request.id, requests.COMPLETED, requests.NOW)
    answer = staff.post(f"/console/requests/{request.id}",
                        data={"csrf": csrf_of(page.text), "action": "apply_now"})
    assert answer.status_code == 409
    assert "The request was handled meanwhile" in answer.text
    assert [e.amount for e in stored.ledger(svc, ada.account_id)] == [1500]  # credited once


def test_an_email_request_must_be_taken_before_it_is_applied(staff: TestClient,
                                                             svc: Services) -> None:
    ada = customer(svc, plan(tier="pro"))
    sender = Actor(EMAIL, f"email:{ada.email}", ada.account_id)
    request = requests.create(svc, sender, ada.account_id, plan(tier="plus"), "",
                              "Please downgrade us", source="email")
    page = staff.get(f"/console/requests/{request.id}")
    assert "sender not confirmed" in page.text
    assert 'value="apply_now"' not in page.text
    act(staff, request.id, "take")
    assert 'value="apply_now"' in staff.get(f"/console/requests/{request.id}").text
