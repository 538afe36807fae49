"""The FatturaPA writer's text is the bytes lxml writes for the same tree (pretty-printed)."""

from __future__ import annotations

import pytest
from lxml import etree

from canone.integrations.einvoice.xmltext import XmlText, escaped

TEXTS = ["plain", "Rossi & Figli <S.r.l.>", "Ελληνική Α.Ε.", "tab\there\rand\nline", "", "'\""]


def test_the_text_is_what_lxml_writes_for_the_same_tree() -> None:
    root = etree.Element("Root")
    x = XmlText(1)
    for n, value in enumerate(TEXTS):
        group = etree.SubElement(root, f"Group{n}")
        etree.SubElement(group, "Text").text = value
        etree.SubElement(group, "Empty")
        x.open(f"Group{n}")
        x.leaves({"Text": value})
        x.leaf("Empty", None)
        x.close(f"Group{n}")

    written = etree.tostring(root, encoding="UTF-8", pretty_print=True)
    assert ("<Root>\n" + x.text() + "</Root>\n").encode("utf-8") == written
    assert b"<Text>Rossi &amp; Figli &lt;S.r.l.&gt;</Text>" in written
    assert b"<Text>tab\there&#13;and\nline</Text>" in written


def test_what_xml_cannot_hold_is_refused_as_lxml_refuses_it() -> None:
    with pytest.raises(ValueError, match="XML compatible"):
        escaped("bell\x07")
