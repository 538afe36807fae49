"""Credit notes and e-invoices in the support console, in a real browser (SPEC §8): an agent
applies a cheaper plan now, the account view shows the credit note and each document's
FatturaPA file with its SDI state; after SDI's receipts come back, delivered and rejected
(with SDI's code); the file downloads; the same view in Italian.

The server's clock stands on 16 April 2026 and accounts are anchored on 1 April: Pro (79) →
Plus (49) applied now gives back 15.00 net, 18.30 with Italian VAT.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from canone.billing.configuration import Configuration
from canone.billing.parties import Address, BillingDetails
from canone.integrations.einvoice.folder import FolderOutbox
from canone.services import einvoice_files

from .conftest import BASE, Server, add_staff, seed, shot, sign_in
from .test_console_flow import ask

OFFICINA = BillingDetails("business", "Officina Verde S.r.l.",
                          Address("Via Tortona 27", "20144", "Milano", "MI", "IT"),
                          vat_id="IT05182730159", sdi_code="KRX5Q7A")
RECEIPT = ('<?xml version="1.0"?><ns3:{kind} xmlns:ns3="http://ivaservizi.agenziaentrate.gov.it'
           '/docs/xsd/fatture/messaggi/v1.0" versione="1.0"><IdentificativoSdI>{sdi}'
           "</IdentificativoSdI><NomeFile>{name}</NomeFile>{more}</ns3:{kind}>")


@pytest.fixture
def agent_page(browser: Browser, filing_server: Server) -> Iterator[Page]:
    filing_server.clock.instant = BASE
    context = browser.new_context(base_url=filing_server.url, locale="en-US",
                                  viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def sdi_folder(server: Server) -> Path:
    setup = server.services.einvoicing
    assert setup is not None and isinstance(setup.outbox, FolderOutbox)
    return setup.outbox.folder


def test_the_console_shows_the_credit_note_and_sdi_s_answers(agent_page: Page,
                                                             filing_server: Server) -> None:
    page, server = agent_page, filing_server
    name = f"Officina {secrets.token_hex(3)}"
    account = seed(server, tier="pro", currency="EUR", name=name, details=OFFICINA)
    ask(server, account, Configuration("marketing", "plus", "month", "EUR", 1000, 1),
        "Plus is enough for us.")
    sign_in(page, add_staff(server))
    page.get_by_role("row").filter(has_text=name).get_by_role("link", name="Marketing Plus").click()

    page.get_by_role("button", name="Apply now with credit").click()
    expect(page.get_by_role("status")).to_contain_text(
        "€18.30 was credited to the account balance.")
    page.get_by_role("link", name=name).first.click()

    notes = page.locator("section[aria-labelledby=credit-notes-title]")
    expect(notes.get_by_role("row").nth(1)).to_contain_text("Unused time")
    expect(notes).to_contain_text("€18.30")
    expect(notes).to_contain_text("Credited to the balance")
    expect(notes).to_contain_text("Made, not yet sent")
    shot(page, "console-credit-note-en")

    einvoice_files.hand_over(server.services)  # the worker's pass
    folder = sdi_folder(server)
    invoice_file, note_file = sorted(p.name for p in folder.glob("IT*.xml"))[-2:]
    for file_name in (invoice_file, note_file):
        (folder / file_name).unlink()  # the intermediary collected them
    (folder / invoice_file.replace(".xml", "_RC_001.xml")).write_text(RECEIPT.format(
        kind="RicevutaConsegna", sdi="4711", name=invoice_file, more=""))
    (folder / note_file.replace(".xml", "_NS_001.xml")).write_text(RECEIPT.format(
        kind="NotificaScarto", sdi="4712", name=note_file,
        more="<ListaErrori><Errore><Codice>00404</Codice><Descrizione>Fattura duplicata"
             "</Descrizione></Errore></ListaErrori>"))
    einvoice_files.read_receipts(server.services)
    page.reload()

    invoices = page.locator("section[aria-labelledby=invoices-title]")
    expect(invoices).to_contain_text("Delivered")
    expect(notes).to_contain_text("Rejected by SDI")
    expect(notes).to_contain_text("00404 Fattura duplicata")
    shot(page, "console-einvoice-states-en")

    with page.expect_download() as download:
        notes.get_by_role("link", name="FatturaPA").click()
    assert download.value.suggested_filename == note_file

    page.goto(page.url + "?lang=it")
    expect(page.locator("#credit-notes-title")).to_have_text("Note di credito")
    expect(notes).to_contain_text("Scartata dallo SDI")
    expect(invoices).to_contain_text("Consegnata")
    shot(page, "console-einvoice-states-it")
