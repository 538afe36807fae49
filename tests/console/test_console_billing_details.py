"""The account view shows the billing details (SPEC §8), VIES's answer, and flags a card
whose country is not the billing country; in English and Italian."""

from __future__ import annotations

import re
import socket
from dataclasses import replace
from datetime import datetime

from fastapi.testclient import TestClient

from canone.billing.parties import Address, BillingDetails
from canone.integrations.vies import EuVies
from canone.services import billing_details
from canone.services.context import Services
from canone.services.vies import ViesCheck

from .conftest import SUPPORT, customer

NORDWIND = BillingDetails("business", "Nordwind Handel GmbH",
                          Address("Unter den Linden 5", "10117", "Berlin", None, "DE"),
                          vat_id="DE136695976")


class AnsweringVies:
    """VIES answering as it does for a registered German company (name and address
    disclosed, a consultation number because the seller asked as requester)."""

    def check(self, vat_id: str, at: datetime) -> ViesCheck:
        return ViesCheck(True, at, "NORDWIND HANDEL GMBH", "UNTER DEN LINDEN 5\n10117 BERLIN",
                         "WAPIAAAAZ0Y9KZ3S")


def text_of(html: str) -> str:
    section = html.split('id="billing-details-title">', 1)[1].split("</section>", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", section).split())


def test_an_account_without_billing_details_says_so(staff: TestClient, svc: Services) -> None:
    ada = customer(svc)
    page = staff.get(f"/console/accounts/{ada.account_id}")
    assert text_of(page.text) == "Billing details No billing details yet."


def test_a_confirmed_german_business_with_a_french_card_is_flagged(
        staff: TestClient, svc: Services) -> None:
    ada = customer(svc)
    billing_details.save(replace(svc, vies=AnsweringVies()), SUPPORT, ada.account_id, NORDWIND)
    billing_details.note_card_country(svc, ada.account_id, "FR")

    english = text_of(staff.get(f"/console/accounts/{ada.account_id}").text)
    assert english == (
        "Billing details Customer Nordwind Handel GmbH Business "
        "Address Unter den Linden 5 10117 Berlin Germany (DE) "
        "VAT id DE136695976 "
        "VIES VAT id confirmed Checked Apr 16, 2026, 10:00 AM "
        "NORDWIND HANDEL GMBH, UNTER DEN LINDEN 5, 10117 BERLIN "
        "Consultation number WAPIAAAAZ0Y9KZ3S "
        "Card's country France (FR) "
        "Differs from the billing country: check where the customer is "
        "Last changed Apr 16, 2026, 10:00 AM")

    italian = text_of(staff.get(f"/console/accounts/{ada.account_id}?lang=it").text)
    assert italian.startswith("Dati di fatturazione Cliente Nordwind Handel GmbH Azienda "
                              "Indirizzo Unter den Linden 5 10117 Berlin Germania (DE) ")
    assert "VIES Partita IVA confermata Verificata 16 apr 2026, 10:00" in italian
    assert ("Paese della carta Francia (FR) Diverso dal paese di fatturazione: verificare "
            "dove si trova il cliente") in italian


def test_an_unreachable_vies_shows_the_id_unconfirmed(staff: TestClient, svc: Services) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    unreachable = EuVies(base_url=f"http://127.0.0.1:{closed}/rest-api", timeout=2.0)
    ada = customer(svc)
    billing_details.save(replace(svc, vies=unreachable), SUPPORT, ada.account_id, NORDWIND)
    billing_details.note_card_country(svc, ada.account_id, "DE")

    shown = text_of(staff.get(f"/console/accounts/{ada.account_id}").text)
    assert "VIES VIES unreachable: not confirmed Checked Apr 16, 2026, 10:00 AM" in shown
    assert "Card's country Germany (DE) Last changed" in shown  # the same country: no flag
