"""The official FatturaPA 1.2.2 schema (../shared/fatturapa/), loaded offline, and the two
checks every file the tests make must pass: the schema, and SDI's arithmetic recomputed from
the file's own lines (00421, 00422, 00423, the document's total)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import xmlschema
from lxml import etree

from canone.integrations.einvoice.checks import check_totals

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "shared" / "fatturapa"


@cache
def fatturapa_schema() -> xmlschema.XMLSchema:
    # The xsd imports xmldsig from w3.org: map it to the local copy and allow nothing but
    # local files ("local"), so validation never reaches the network.
    return xmlschema.XMLSchema(
        str(SCHEMA_DIR / "Schema_del_file_xml_FatturaPA_v1.2.2.xsd"),
        locations={"http://www.w3.org/2000/09/xmldsig#": str(SCHEMA_DIR /
                                                              "xmldsig-core-schema.xsd")},
        allow="local")


def checked(content: bytes) -> etree._Element:
    """The file's root, once it validates and its totals add up (else the test fails)."""
    root = etree.fromstring(content)
    fatturapa_schema().validate(root)
    assert check_totals(content) == []
    return root
