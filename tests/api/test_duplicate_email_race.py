"""Two sign-ups with one e-mail address at once: the one that loses the race is refused as
any sign-up for a taken address is (a 422 problem naming the field), before its card is
charged; never a 500, never a charge for an account that cannot be made."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from fastapi.testclient import TestClient

from canone.billing.configuration import Configuration
from canone.integrations.payments import SandboxGateway
from canone.services import signups
from canone.services.context import Services
from canone.services.ports import Card, StoredCard
from canone.settings import Settings
from canone.web.app import create_app

from .conftest import API, bearer, config, signup_body


class RacedGateway(SandboxGateway):
    """The sandbox card network; while it stores the first card, another sign-up with the
    same e-mail address completes (the window between the sign-up's check of the address
    and its insert of the user)."""

    racer: Services | None = None

    def store_card(self, card: Card) -> StoredCard:
        racer, self.racer = self.racer, None
        if racer is not None:
            signups.sign_up(racer, signups.SignUp(
                name="Other shop", timezone="UTC", locale="en", currency="USD",
                admin_email="ADA@example.com", admin_name="Ada", admin_password="another horse",
                config=Configuration(**{**config(), "addons": ()}), card=card))
        return super().store_card(card)


def test_a_sign_up_that_loses_the_email_race_is_refused_uncharged(
        services: Services, settings: Settings, operator_key: str, tmp_path: Path) -> None:
    gateway = RacedGateway(tmp_path / "sandbox.db", services.clock)
    raced = replace(services, gateway=gateway)
    gateway.racer = raced
    with TestClient(create_app(settings, raced), raise_server_exceptions=False) as client:
        response = client.post(f"{API}/accounts", json=signup_body(email="ada@example.com"),
                               headers=bearer(operator_key))

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["type"], problem["field"], problem["detail"]) == (
        "urn:canone:problem:invalid_field", "primary_admin.email",
        "is already used by another account")
    assert gateway.total_charged() == 4900  # the racer's sign-up alone
    with raced.database.read() as store:
        winner = store.people.user_by_email("ada@example.com")
    assert winner is not None and winner.name == "Ada"  # the racer's
