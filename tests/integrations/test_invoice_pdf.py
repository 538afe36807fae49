"""Invoice PDFs: rendered for real, read back with pypdf, and looked at as a PNG."""

from __future__ import annotations

import dataclasses
import io
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from canone.integrations.invoice_pdf import PdfInvoiceRenderer
from canone.services.ports import DocumentLine, InvoiceDocument

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "pdf"

ITALIAN = InvoiceDocument(
    locale="it",
    currency="EUR",
    number="2026-000123",
    issued_on=date(2026, 11, 26),
    period_start=date(2026, 11, 26),
    period_end=date(2026, 12, 26),
    seller_name="Canone Città S.r.l.",
    seller_address=("Via Garibaldi 12", "20121 Milano MI", "P.IVA IT01234567890"),
    buyer_name="Società Agricola Perù",
    buyer_email="anna.rossi@example.it",
    lines=(
        DocumentLine("Tempo non usato di Marketing Plus (15 di 30 giorni)", Decimal("-24.50")),
        DocumentLine("Marketing Enterprise, 10.000 contatti, mensile", Decimal("1234.50")),
        DocumentLine("Componente aggiuntivo SMS, mensile", Decimal("15.00")),
    ),
    total=Decimal("1225.00"),
    credit_applied=Decimal("10.00"),
    amount_paid=Decimal("1215.00"),
    amount_due=Decimal("0.00"),
    status="paid",
    notes=("Grazie per aver scelto canone: è un piacere.",),
)

ENGLISH = dataclasses.replace(
    ITALIAN,
    locale="en",
    currency="USD",
    seller_name="Canone Inc.",
    seller_address=("1 Market Street", "San Francisco, CA 94105"),
    buyer_name="Acme Corp",
    buyer_email="anna@acme.example",
    lines=(
        DocumentLine("Unused time on Marketing Plus (15 of 30 days)", Decimal("-24.50")),
        DocumentLine("Marketing Enterprise, 10,000 contacts, monthly", Decimal("1234.50")),
        DocumentLine("SMS add-on, monthly", Decimal("15.00")),
    ),
    amount_paid=Decimal("1000.00"),
    amount_due=Decimal("215.00"),
    status="open",
    notes=("Thank you for your business.", "Questions? billing@canone.example"),
)


def pdf_lines(pdf: bytes) -> list[str]:
    """The text of every page, line by line, with no-break spaces read as spaces."""
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return [line.replace("\xa0", " ") for line in text.splitlines()]


@pytest.fixture(scope="module")
def renderer() -> PdfInvoiceRenderer:
    return PdfInvoiceRenderer()


def test_an_italian_invoice_has_italian_labels_and_formats(renderer: PdfInvoiceRenderer):
    pdf = renderer.render(ITALIAN)

    assert pdf.startswith(b"%PDF-")
    assert pdf_lines(pdf) == [
        "Fattura",
        "Numero 2026-000123",
        "Data di emissione 26/11/2026",
        "Periodo 26/11/2026 – 26/12/2026",
        "Canone Città S.r.l.",
        "Via Garibaldi 12",
        "20121 Milano MI",
        "P.IVA IT01234567890",
        "INTESTATA A",
        "Società Agricola Perù",
        "anna.rossi@example.it",
        "Descrizione Importo",
        "Tempo non usato di Marketing Plus (15 di 30 giorni) -24,50 €",
        "Marketing Enterprise, 10.000 contatti, mensile 1.234,50 €",
        "Componente aggiuntivo SMS, mensile 15,00 €",
        "Totale 1.225,00 €",
        "Credito applicato 10,00 €",
        "Importo pagato 1.215,00 €",
        "Importo da pagare 0,00 €",
        "Stato Pagata",
        "Note",
        "Grazie per aver scelto canone: è un piacere.",
        "Canone Città S.r.l. · 2026-000123  ·  Pagina 1 di 1",
    ]


def test_an_english_invoice_in_dollars(renderer: PdfInvoiceRenderer):
    lines = pdf_lines(renderer.render(ENGLISH))

    assert lines == [
        "Invoice",
        "Number 2026-000123",
        "Issue date Nov 26, 2026",
        "Period Nov 26, 2026 – Dec 26, 2026",
        "Canone Inc.",
        "1 Market Street",
        "San Francisco, CA 94105",
        "BILL TO",
        "Acme Corp",
        "anna@acme.example",
        "Description Amount",
        "Unused time on Marketing Plus (15 of 30 days) -$24.50",
        "Marketing Enterprise, 10,000 contacts, monthly $1,234.50",
        "SMS add-on, monthly $15.00",
        "Total $1,225.00",
        "Credit applied $10.00",
        "Amount paid $1,000.00",
        "Amount due $215.00",
        "Status Open",
        "Notes",
        "Thank you for your business.",
        "Questions? billing@canone.example",
        "Canone Inc. · 2026-000123  ·  Page 1 of 1",
    ]


def test_an_english_invoice_in_euro_puts_the_sign_first(renderer: PdfInvoiceRenderer):
    lines = pdf_lines(renderer.render(dataclasses.replace(ENGLISH, currency="EUR")))

    assert "Marketing Enterprise, 10,000 contacts, monthly €1,234.50" in lines
    assert "Unused time on Marketing Plus (15 of 30 days) -€24.50" in lines
    assert "Total €1,225.00" in lines


def test_an_invoice_without_period_or_notes_leaves_them_out(renderer: PdfInvoiceRenderer):
    document = dataclasses.replace(ITALIAN, period_start=None, period_end=None, notes=())

    lines = pdf_lines(renderer.render(document))

    assert not [line for line in lines if line.startswith(("Periodo", "Note"))]
    assert lines[:3] == ["Fattura", "Numero 2026-000123", "Data di emissione 26/11/2026"]


@pytest.mark.parametrize(
    ("locale", "status", "printed"),
    [
        ("it", "open", "Stato Da pagare"),
        ("it", "void", "Stato Annullata"),
        ("it", "past_due", "Stato Scaduta"),
        ("en", "uncollectible", "Status Uncollectible"),
        ("en", "draft", "Status Draft"),
        ("en", "refunded", "Status refunded"),
    ],
)
def test_statuses_are_translated(
    renderer: PdfInvoiceRenderer, locale: str, status: str, printed: str
):
    document = dataclasses.replace(ITALIAN, locale=locale, status=status)

    assert printed in pdf_lines(renderer.render(document))


def test_a_long_description_wraps_and_keeps_its_amount(renderer: PdfInvoiceRenderer):
    description = (
        "Marketing Enterprise, 100.000 contatti, 25 utenti aggiuntivi, componenti aggiuntivi"
        " SMS, Reportistica personalizzata e IP dedicato, dal 26/11/2026 al 26/12/2026"
    )
    document = dataclasses.replace(ITALIAN, lines=(DocumentLine(description, Decimal("9876.54")),))

    text = " ".join(pdf_lines(renderer.render(document)))

    assert f"{description} 9.876,54 €" in text


def test_many_lines_continue_on_further_pages_with_page_numbers(renderer: PdfInvoiceRenderer):
    lines = tuple(DocumentLine(f"Riga {i}", Decimal(i)) for i in range(1, 81))
    pdf = renderer.render(dataclasses.replace(ITALIAN, lines=lines))

    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) == 4
    text = pdf_lines(pdf)
    assert [line for line in text if line.startswith("Riga ")] == [
        f"Riga {i} {i},00 €" for i in range(1, 81)
    ]
    assert [line for line in text if "Pagina" in line] == [
        f"Canone Città S.r.l. · 2026-000123  ·  Pagina {n} di 4" for n in (1, 2, 3, 4)
    ]
    assert text.count("Descrizione Importo") == 4  # the headings repeat on every page
    assert "Totale 1.225,00 €" in pages[3].extract_text().replace("\xa0", " ")


def test_the_same_invoice_renders_to_the_same_bytes(renderer: PdfInvoiceRenderer):
    assert renderer.render(ITALIAN) == renderer.render(ITALIAN)
    assert renderer.render(ITALIAN) != renderer.render(ENGLISH)


def test_the_pdf_embeds_dejavu_and_carries_title_and_language(renderer: PdfInvoiceRenderer):
    reader = PdfReader(io.BytesIO(renderer.render(ITALIAN)))

    fonts = reader.pages[0]["/Resources"]["/Font"]
    assert sorted(
        str(font.get_object()["/BaseFont"]).split("+")[-1] for font in fonts.values()
    ) == [
        "DejaVuSansBold",
        "DejaVuSansBook",
    ]
    assert reader.metadata is not None
    assert reader.metadata.title == "Fattura 2026-000123"
    assert reader.metadata.author == "Canone Città S.r.l."
    assert reader.trailer["/Root"]["/Lang"] == "it"


@pytest.mark.parametrize("document", [ITALIAN, ENGLISH], ids=["it", "en"])
def test_the_first_page_converts_to_a_png_for_a_look(
    renderer: PdfInvoiceRenderer, document: InvoiceDocument
):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf_path = ARTIFACTS / f"invoice-{document.locale}.pdf"
    pdf_path.write_bytes(renderer.render(document))

    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "60",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            pdf_path,
            ARTIFACTS / f"invoice-{document.locale}",
        ],
        check=True,
    )

    png = (ARTIFACTS / f"invoice-{document.locale}.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (497, 702)  # A4 at 60 dpi
