"""The arithmetic SDI checks on a FatturaPA file, recomputed from the file alone.

    00423  a line's PrezzoTotale = PrezzoUnitario × Quantita
    00422  a summary's ImponibileImporto = Σ PrezzoTotale of its (AliquotaIVA, Natura)
    00421  a summary's Imposta = ImponibileImporto × AliquotaIVA, within 0.01
    total  ImportoTotaleDocumento = Σ (ImponibileImporto + Imposta) + the OSS VAT of the
           lines' AltriDatiGestionali (IVAOSS): what the customer pays
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from lxml import etree

CENT = Decimal("0.01")
Key = tuple[Decimal, str | None]


def _parse(content: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.fromstring(content, parser)


def _decimal(element: etree._Element, path: str) -> Decimal:
    return Decimal(element.findtext(path) or "0")


def _key(element: etree._Element) -> Key:
    return _decimal(element, "AliquotaIVA"), element.findtext("Natura")


def check_totals(content: bytes) -> list[str]:
    """Every way the file's amounts fail to add up; [] when they all do."""
    problems: list[str] = []
    for body in _parse(content).iter("FatturaElettronicaBody"):
        lines = body.findall("DatiBeniServizi/DettaglioLinee")
        summaries = body.findall("DatiBeniServizi/DatiRiepilogo")
        per_key: dict[Key, Decimal] = {}
        oss_vat = Decimal(0)
        for line in lines:
            where = f"line {line.findtext('NumeroLinea')}"
            total = _decimal(line, "PrezzoTotale")
            expected = (_decimal(line, "PrezzoUnitario") * _decimal(line, "Quantita")).quantize(
                CENT, rounding=ROUND_HALF_UP)
            if total != expected:
                problems.append(f"00423 {where}: PrezzoTotale {total} is not {expected}")
            per_key[_key(line)] = per_key.get(_key(line), Decimal(0)) + total
            for other in line.findall("AltriDatiGestionali"):
                if other.findtext("TipoDato") == "IVAOSS":
                    oss_vat += _decimal(other, "RiferimentoNumero")
        document_total = Decimal(0)
        for summary in summaries:
            key = _key(summary)
            where = f"summary {key[0]} {key[1] or ''}".rstrip()
            taxable, tax = _decimal(summary, "ImponibileImporto"), _decimal(summary, "Imposta")
            if taxable != per_key.pop(key, None):
                problems.append(f"00422 {where}: ImponibileImporto {taxable} is not the sum "
                                "of its lines")
            if abs(tax - taxable * key[0] / 100) > CENT:
                problems.append(f"00421 {where}: Imposta {tax} is not {key[0]} % of {taxable}")
            document_total += taxable + tax
        problems.extend(f"00422 lines of {key[0]} {key[1] or ''} have no summary".rstrip()
                        for key in per_key)
        stated = body.findtext("DatiGenerali/DatiGeneraliDocumento/ImportoTotaleDocumento")
        if stated is None or Decimal(stated) != document_total + oss_vat:
            problems.append(f"ImportoTotaleDocumento {stated} is not "
                            f"{document_total + oss_vat}")
    return problems
