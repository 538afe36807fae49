"""The requests queue: oldest first, open and in-progress requests by default, filtered by
status on request."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from canone.services import requests
from canone.services.context import Services

from .conftest import SUPPORT, Customer, ask, customer, plan


def listed(page_html: str) -> list[str]:
    """The request ids the queue lists, in order."""
    return re.findall(r'href="/console/requests/(req_[0-9a-f]+)"', page_html)


def three_requests(svc: Services) -> tuple[Customer, list[str]]:
    ada = customer(svc, name="Ada's Shop")
    opened = ask(svc, ada, plan(tier="plus"))
    taken = ask(svc, ada, plan(tier="starter"))
    requests.transition(svc, SUPPORT, taken.id, requests.IN_PROGRESS)
    declined = ask(svc, ada, None, "Can we pay by bank transfer?")
    requests.transition(svc, SUPPORT, declined.id, requests.DECLINED,
                        message="Cards only, sorry.")
    return ada, [opened.id, taken.id, declined.id]


def test_the_default_queue_lists_open_and_in_progress_requests_oldest_first(
        staff: TestClient, svc: Services) -> None:
    ada, (opened, taken, _declined) = three_requests(svc)
    page = staff.get("/console")
    assert page.status_code == 200
    assert listed(page.text) == [opened, taken]
    assert "Ada&#39;s Shop" in page.text and ada.email in page.text
    assert "Marketing Plus" in page.text and "Marketing Starter" in page.text
    assert 'aria-current="page">Open and in progress<' in page.text


def test_each_status_filter_lists_only_its_requests(staff: TestClient, svc: Services) -> None:
    _, (opened, taken, declined) = three_requests(svc)
    assert listed(staff.get("/console?status=open").text) == [opened]
    assert listed(staff.get("/console?status=in_progress").text) == [taken]
    assert listed(staff.get("/console?status=declined").text) == [declined]
    assert listed(staff.get("/console?status=completed").text) == []
    assert "No requests here." in staff.get("/console?status=withdrawn").text
    assert listed(staff.get("/console?status=all").text) == [opened, taken, declined]


def test_an_unknown_filter_shows_the_default_queue(staff: TestClient, svc: Services) -> None:
    _, (opened, taken, _declined) = three_requests(svc)
    assert listed(staff.get("/console?status=bogus").text) == [opened, taken]


def test_a_long_queue_is_paged(staff: TestClient, svc: Services) -> None:
    ada = customer(svc)
    made = [ask(svc, ada, plan(tier="plus"), f"request {n}").id for n in range(52)]
    first = staff.get("/console?status=open")
    assert listed(first.text) == made[:50]
    following = re.search(r'href="(/console\?status=open&amp;after=[^"]+)"', first.text)
    assert following is not None
    second = staff.get(following.group(1).replace("&amp;", "&"))
    assert listed(second.text) == made[50:]
