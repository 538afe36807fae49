"""Billing details of each tax case of SPEC §8 (made-up ids with real checksums)."""

from __future__ import annotations

from canone.billing.parties import Address, BillingDetails

ITALIAN_BUSINESS = BillingDetails(
    "business", "Officina Verde S.r.l.", Address("Via Tortona 27", "20144", "Milano", "MI", "IT"),
    vat_id="IT05182730159", sdi_code="KRX5Q7A")
ITALIAN_CONSUMER = BillingDetails(
    "consumer", "Lucia Bellavista", Address("Via dei Neri 12", "50122", "Firenze", "FI", "IT"),
    tax_code="BLLLCU82C54D612L")
GERMAN_BUSINESS = BillingDetails(
    "business", "Lumen Analytics GmbH", Address("Torstraße 109", "10119", "Berlin", None, "DE"),
    vat_id="DE814937267")
FRENCH_CONSUMER = BillingDetails(
    "consumer", "Camille Laurent", Address("12 rue des Capucins", "69001", "Lyon", None, "FR"))
US_BUSINESS = BillingDetails(
    "business", "Northwind Outfitters Inc.",
    Address("350 Fifth Avenue", "10118", "New York", "NY", "US"), vat_id="94-3172856")
US_CONSUMER = BillingDetails(
    "consumer", "John Appleseed", Address("1 Infinite Loop", "95014", "Cupertino", "CA", "US"))
