"""The arithmetic SDI checks on a FatturaPA file, recomputed from the file alone.

    00423  a line's PrezzoTotale = PrezzoUnitario × Quantita
    00422  a summary's ImponibileImporto = Σ PrezzoTotale of its (AliquotaIVA, Natura)
    00421  a summary's Imposta = ImponibileImporto × AliquotaIVA, within 0.01
    total  ImportoTotaleDocumento = Σ (ImponibileImporto + Imposta) + the OSS VAT of the
           lines' AltriDatiGestionali (IVAOSS): what the customer pays
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from lxml import etree

from canone.billing.frozen import quick_init

CENT = Decimal("0.01")
Key = tuple[Decimal, str | None]


def _parse(content: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.fromstring(content, parser)


def _texts(element: etree._Element) -> dict[Any, str]:
    """Each child's text by its tag, the first child of a tag as `findtext` reads it ("" for
    an empty one): one pass over the children, where a `findtext` a field walks them again."""
    texts: dict[Any, str] = {}
    for child in element:
        texts.setdefault(child.tag, child.text or "")
    return texts


def _children(element: etree._Element, tag: str) -> list[etree._Element]:
    return [child for child in element if child.tag == tag]


def _decimal(texts: Mapping[Any, str], tag: str) -> Decimal:
    return Decimal(texts.get(tag) or "0")


def _key(texts: Mapping[Any, str]) -> Key:
    return _decimal(texts, "AliquotaIVA"), texts.get("Natura")


def _summary(key: Key) -> str:
    return f"summary {key[0]} {key[1] or ''}".rstrip()


Fields = Mapping[Any, str]  # an element's children's texts by tag (`_texts`)


@quick_init
@dataclass(frozen=True)
class Line:
    """A `DettaglioLinee`'s fields, and those of each of its `AltriDatiGestionali`."""

    fields: Fields
    others: Sequence[Fields] = ()


def check_totals(content: bytes) -> list[str]:
    """Every way the file's amounts fail to add up; [] when they all do."""
    problems: list[str] = []
    for body in _parse(content).iter("FatturaElettronicaBody"):
        goods = _children(body, "DatiBeniServizi")
        lines = [Line(_texts(line), [_texts(o) for o in _children(line, "AltriDatiGestionali")])
                 for group in goods for line in _children(group, "DettaglioLinee")]
        summaries = [_texts(s) for group in goods for s in _children(group, "DatiRiepilogo")]
        stated = body.findtext("DatiGenerali/DatiGeneraliDocumento/ImportoTotaleDocumento")
        problems.extend(check_amounts(lines, summaries, stated))
    return problems


def check_amounts(lines: Sequence[Line], summaries: Sequence[Fields], stated: str | None
                  ) -> list[str]:
    """`check_totals` of one body, from the texts of its lines, its summaries and its
    `ImportoTotaleDocumento`: what the writer checks before it returns a file, from the
    very texts it writes, without reading the file back."""
    problems: list[str] = []
    per_key: dict[Key, Decimal] = {}
    oss_vat = Decimal(0)
    for line in lines:
        fields = line.fields
        total = _decimal(fields, "PrezzoTotale")
        expected = (_decimal(fields, "PrezzoUnitario") * _decimal(fields, "Quantita")
                    ).quantize(CENT, rounding=ROUND_HALF_UP)
        if total != expected:
            problems.append(f"00423 line {fields.get('NumeroLinea')}: PrezzoTotale "
                            f"{total} is not {expected}")
        key = _key(fields)
        per_key[key] = per_key.get(key, Decimal(0)) + total
        for other in line.others:
            if other.get("TipoDato") == "IVAOSS":
                oss_vat += _decimal(other, "RiferimentoNumero")
    document_total = Decimal(0)
    for summary in summaries:
        key = _key(summary)
        taxable, tax = _decimal(summary, "ImponibileImporto"), _decimal(summary, "Imposta")
        if taxable != per_key.pop(key, None):
            problems.append(f"00422 {_summary(key)}: ImponibileImporto {taxable} is not "
                            "the sum of its lines")
        if abs(tax - taxable * key[0] / 100) > CENT:
            problems.append(f"00421 {_summary(key)}: Imposta {tax} is not {key[0]} % of "
                            f"{taxable}")
        document_total += taxable + tax
    problems.extend(f"00422 lines of {key[0]} {key[1] or ''} have no summary".rstrip()
                    for key in per_key)
    if stated is None or Decimal(stated) != document_total + oss_vat:
        problems.append(f"ImportoTotaleDocumento {stated} is not {document_total + oss_vat}")
    return problems
