"""Any document the tax engine can make becomes a FatturaPA file that the official schema
accepts and whose totals add up as SDI recomputes them (hypothesis)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from canone.integrations.einvoice.checks import check_totals
from canone.integrations.einvoice.fatturapa import build_fatturapa
from fatturapa_schema import fatturapa_schema

from .test_fatturapa import (
    DE_BUSINESS,
    ECB,
    FR_CONSUMER,
    GR_BUSINESS,
    IT_BUSINESS,
    IT_BUSINESS_PEC,
    IT_CONSUMER,
    SELLER,
    US_BUSINESS,
    US_CONSUMER,
    document,
)

SCHEMA = fatturapa_schema()
CUSTOMERS = [IT_BUSINESS, IT_BUSINESS_PEC, IT_CONSUMER, DE_BUSINESS, GR_BUSINESS, FR_CONSUMER,
             US_BUSINESS, US_CONSUMER]
amounts = st.integers(min_value=-50_000, max_value=500_000).map(lambda c: Decimal(c) / 100)
lines = st.lists(st.tuples(st.text(min_size=1, max_size=40), amounts), min_size=1, max_size=6)


@settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(CUSTOMERS), lines, st.booleans(), st.booleans(),
       st.sampled_from(["EUR", "USD"]), st.sampled_from(["invoice", "credit_note"]),
       st.integers(min_value=1, max_value=36**5 - 1))
def test_every_document_becomes_a_valid_file_whose_totals_add_up(
        customer, net, confirmed, oss, currency, kind, progressive) -> None:
    if kind == "credit_note":  # a credit note's lines are positive
        net = [(text, abs(amount) or Decimal("0.01")) for text, amount in net]
    elif sum(amount for _, amount in net) < 0:  # an invoice never totals below zero
        net = [(text, -amount) for text, amount in net]
    doc = document(customer, net, confirmed=confirmed, oss=oss, currency=currency, kind=kind)
    file = build_fatturapa(SELLER, doc, progressive, ECB)
    SCHEMA.validate(etree.fromstring(file.content))
    assert check_totals(file.content) == []
    stated = etree.fromstring(file.content).findtext(
        "FatturaElettronicaBody/DatiGenerali/DatiGeneraliDocumento/ImportoTotaleDocumento")
    if currency == "EUR":
        assert Decimal(stated) == doc.total
