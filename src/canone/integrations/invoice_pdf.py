"""Invoice PDFs with fpdf2: pure Python, no system libraries beyond a TrueType font.

The DejaVu fonts (Debian fonts-dejavu-core) are embedded, so "€", "à" and "è" print in any
viewer; the core PDF fonts know only Latin-1. The document's descriptive texts arrive already
translated; this module translates only its own labels and formats amounts and dates with
Babel for the document's locale. The output depends only on the document (the creation date
is the issue date), so rendering an invoice twice gives the same bytes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from babel.dates import format_date
from babel.numbers import format_currency
from fpdf import FPDF
from fpdf.enums import TableBordersLayout, XPos, YPos
from fpdf.fonts import FontFace

from canone.services.ports import InvoiceDocument

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path(__file__).parent.parent / "data/fonts")
FONT = "DejaVu"
BABEL_LOCALES = {"en": "en_US", "it": "it_IT"}
DATE_FORMATS = {"en": "medium", "it": "dd/MM/yyyy"}  # Nov 26, 2026 · 26/11/2026

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Invoice",
        "title.credit_note": "Credit note",
        "corrects": "Corrects invoice",
        "status.to_balance": "Credited to the account balance",
        "status.to_card": "Refunded to the card",
        "number": "Number",
        "issued_on": "Issue date",
        "period": "Period",
        "bill_to": "Bill to",
        "description": "Description",
        "amount": "Amount",
        "subtotal": "Subtotal (net)",
        "total": "Total",
        "credit_applied": "Credit applied",
        "amount_paid": "Amount paid",
        "amount_due": "Amount due",
        "status": "Status",
        "notes": "Notes",
        "page": "Page {page} of {pages}",
        "status.draft": "Draft",
        "status.open": "Open",
        "status.paid": "Paid",
        "status.past_due": "Past due",
        "status.void": "Void",
        "status.uncollectible": "Uncollectible",
    },
    "it": {
        "title": "Fattura",
        "title.credit_note": "Nota di credito",
        "corrects": "Rettifica la fattura",
        "status.to_balance": "Accreditata sul saldo del conto",
        "status.to_card": "Rimborsata sulla carta",
        "number": "Numero",
        "issued_on": "Data di emissione",
        "period": "Periodo",
        "bill_to": "Intestata a",
        "description": "Descrizione",
        "amount": "Importo",
        "subtotal": "Imponibile",
        "total": "Totale",
        "credit_applied": "Credito applicato",
        "amount_paid": "Importo pagato",
        "amount_due": "Importo da pagare",
        "status": "Stato",
        "notes": "Note",
        "page": "Pagina {page} di {pages}",
        "status.draft": "Bozza",
        "status.open": "Da pagare",
        "status.paid": "Pagata",
        "status.past_due": "Scaduta",
        "status.void": "Annullata",
        "status.uncollectible": "Non riscuotibile",
    },
}

INK = (33, 37, 41)
MUTED = (108, 117, 125)
RULE = (206, 212, 218)
HEADING_FILL = (241, 243, 245)


def font_file(name: str) -> Path:
    for folder in FONT_DIRS:
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(
        f"{name} not found in {', '.join(map(str, FONT_DIRS))}; install fonts-dejavu-core"
    )


class InvoiceFormat:
    """Labels, amounts and dates in one language."""

    def __init__(self, locale: str, currency: str) -> None:
        self.language = locale if locale in LABELS else "en"
        self.babel_locale = BABEL_LOCALES.get(locale, locale.replace("-", "_"))
        self.currency = currency
        self.labels = LABELS[self.language]

    def money(self, amount: Decimal) -> str:
        return format_currency(amount, self.currency, locale=self.babel_locale)

    def date(self, day: date) -> str:
        return format_date(day, DATE_FORMATS[self.language], locale=self.babel_locale)

    def title(self, kind: str) -> str:
        return self.labels.get(f"title.{kind}", self.labels["title"])

    def status(self, status: str) -> str:
        return self.labels.get(f"status.{status}", status)


class _InvoicePdf(FPDF):
    def __init__(self, footer_text: str, page_label: str) -> None:
        super().__init__(format="A4", unit="mm")
        self.footer_text = footer_text
        self.page_label = page_label

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(FONT, "", 8)
        self.set_text_color(*MUTED)
        page = self.page_label.format(page=self.page_no(), pages="{nb}")
        self.cell(0, 5, f"{self.footer_text}  ·  {page}", align="C")


class PdfInvoiceRenderer:
    """An InvoiceRenderer: one A4 PDF per invoice document."""

    def render(self, document: InvoiceDocument) -> bytes:
        fmt = InvoiceFormat(document.locale, document.currency)
        labels = fmt.labels
        pdf = _InvoicePdf(f"{document.seller_name} · {document.number}", labels["page"])
        pdf.add_font(FONT, "", font_file("DejaVuSans.ttf"))
        pdf.add_font(FONT, "B", font_file("DejaVuSans-Bold.ttf"))
        pdf.set_margins(18, 18, 18)
        pdf.set_auto_page_break(True, margin=22)
        # Same document, same bytes: no clock in the output.
        pdf.set_creation_date(datetime.combine(document.issued_on, datetime.min.time(), UTC))
        pdf.set_title(f"{fmt.title(document.kind)} {document.number}")
        pdf.set_author(document.seller_name)
        pdf.set_lang(fmt.language)
        pdf.add_page()
        pdf.set_text_color(*INK)

        self._header(pdf, document, fmt)
        self._parties(pdf, document, fmt)
        self._lines(pdf, document, fmt)
        self._totals(pdf, document, fmt)
        self._notes(pdf, document, fmt)
        return bytes(pdf.output())

    def _header(self, pdf: FPDF, doc: InvoiceDocument, fmt: InvoiceFormat) -> None:
        top = pdf.get_y()
        pdf.set_font(FONT, "B", 22)
        pdf.cell(0, 10, fmt.title(doc.kind), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)
        facts = [
            (fmt.labels["number"], doc.number),
            (fmt.labels["issued_on"], fmt.date(doc.issued_on)),
        ]
        if doc.period_start is not None and doc.period_end is not None:
            period = f"{fmt.date(doc.period_start)} – {fmt.date(doc.period_end)}"
            facts.append((fmt.labels["period"], period))
        if doc.corrects is not None:
            number, day = doc.corrects
            facts.append((fmt.labels["corrects"], f"{number} ({fmt.date(day)})"))
        for label, value in facts:
            pdf.set_font(FONT, "", 9)
            pdf.set_text_color(*MUTED)
            pdf.cell(38, 5.5, label)
            pdf.set_text_color(*INK)
            pdf.set_font(FONT, "B" if label == fmt.labels["number"] else "", 9)
            pdf.cell(0, 5.5, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        below_facts = pdf.get_y()

        # The seller, top right, as on a letterhead.
        pdf.set_xy(pdf.w / 2, top + 1)
        pdf.set_font(FONT, "B", 12)
        pdf.multi_cell(0, 6, doc.seller_name, align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_font(FONT, "", 9)
        pdf.set_text_color(*MUTED)
        for line in doc.seller_address:
            pdf.multi_cell(0, 4.8, line, align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_text_color(*INK)
        pdf.set_xy(pdf.l_margin, max(below_facts, pdf.get_y()) + 8)

    def _parties(self, pdf: FPDF, doc: InvoiceDocument, fmt: InvoiceFormat) -> None:
        pdf.set_font(FONT, "", 8)
        pdf.set_text_color(*MUTED)
        pdf.cell(0, 5, fmt.labels["bill_to"].upper(), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(*INK)
        pdf.set_font(FONT, "B", 10)
        pdf.multi_cell(0, 5.5, doc.buyer_name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(FONT, "", 9)
        for line in doc.buyer_lines:  # address and ids, as issued
            pdf.multi_cell(0, 4.8, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.cell(0, 5, doc.buyer_email, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(8)

    def _lines(self, pdf: FPDF, doc: InvoiceDocument, fmt: InvoiceFormat) -> None:
        pdf.set_font(FONT, "", 9.5)
        pdf.set_draw_color(*RULE)
        amount_width = 40
        with pdf.table(
            col_widths=(pdf.epw - amount_width, amount_width),
            width=pdf.epw,
            text_align=("LEFT", "RIGHT"),
            borders_layout=TableBordersLayout.HORIZONTAL_LINES,
            headings_style=FontFace(emphasis="BOLD", fill_color=HEADING_FILL),
            line_height=4.8,
            padding=(2, 2),
        ) as table:
            table.row((fmt.labels["description"], fmt.labels["amount"]))
            for line in doc.lines:
                table.row((line.description, fmt.money(line.amount)))
        pdf.ln(4)

    def _totals(self, pdf: FPDF, doc: InvoiceDocument, fmt: InvoiceFormat) -> None:
        taxes: list[tuple[str, Decimal]] = []
        if doc.subtotal is not None:  # net, then each rate's tax, then the gross total
            taxes = [(fmt.labels["subtotal"], doc.subtotal)]
            taxes += [(f"{t.label} ({fmt.money(t.taxable)})", t.amount) for t in doc.tax_lines]
        settled = () if doc.kind == "credit_note" else (  # a credit note is paid back whole
            ("credit_applied", doc.credit_applied),
            ("amount_paid", doc.amount_paid),
            ("amount_due", doc.amount_due))
        rows = [*taxes] + [(fmt.labels[key], amount)
                           for key, amount in (("total", doc.total), *settled)]
        strong = {fmt.labels["total"], fmt.labels["amount_due"]}
        label_x = pdf.w - pdf.r_margin - 120
        if pdf.will_page_break(6.5 * (len(rows) + 1)):
            pdf.add_page()  # keep the totals together, with the status
        for label, amount in rows:
            bold = label in strong
            pdf.set_font(FONT, "B" if bold else "", 10 if bold else 9.5)
            pdf.set_x(label_x)
            pdf.cell(80, 6.5, label, align="R")
            pdf.cell(40, 6.5, fmt.money(amount), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_x(label_x)
        status = fmt.status(doc.status)
        pdf.set_font(FONT, "B", 9.5)
        # A credit note's status says where the money went: a phrase wider than an amount.
        width = max(40, pdf.get_string_width(status) + 6)
        pdf.set_font(FONT, "", 9.5)
        pdf.cell(120 - width, 6.5, fmt.labels["status"], align="R")
        pdf.set_font(FONT, "B", 9.5)
        pdf.cell(width, 6.5, status, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(6)

    def _notes(self, pdf: FPDF, doc: InvoiceDocument, fmt: InvoiceFormat) -> None:
        if not doc.notes:
            return
        pdf.set_font(FONT, "B", 9)
        pdf.cell(0, 6, fmt.labels["notes"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(FONT, "", 9)
        pdf.set_text_color(*MUTED)
        for note in doc.notes:
            pdf.multi_cell(0, 4.8, note, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(1)
        pdf.set_text_color(*INK)
