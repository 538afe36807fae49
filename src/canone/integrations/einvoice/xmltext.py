"""Pretty-printed XML written as text, byte for byte as lxml's `tostring(pretty_print=True)`
writes the same tree: two spaces a level, an element with children opened and closed on
lines of their own, one with text on one line (`<a/>` when it has none).

A billing run makes a FatturaPA file a renewal, and building an lxml tree for each only to
serialise it cost most of the file's time; its parts that never change (the seller's) are
written once and reused as text.
"""

from __future__ import annotations

from collections.abc import Mapping

from lxml import etree


def escaped(text: str) -> str:
    """`text` as element text: printable ASCII (nearly all of a file) escaped here, the
    rest by lxml itself, which also refuses what XML cannot hold (control characters)."""
    if text.isascii() and text.isprintable():
        if "&" in text or "<" in text or ">" in text:
            return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return text
    element = etree.Element("t")
    element.text = text
    written: str = etree.tostring(element, encoding="unicode")
    return written[3:-4]  # inside <t>…</t>


class XmlText:
    """An XML document's lines, written from the depth it starts at."""

    __slots__ = ("pad", "parts")

    def __init__(self, depth: int = 0) -> None:
        self.parts: list[str] = []
        self.pad = "  " * depth

    def open(self, tag: str) -> None:
        self.parts.append(f"{self.pad}<{tag}>\n")
        self.pad += "  "

    def close(self, tag: str) -> None:
        self.pad = self.pad[:-2]
        self.parts.append(f"{self.pad}</{tag}>\n")

    def leaf(self, tag: str, text: str | None) -> None:
        if text is None:
            self.parts.append(f"{self.pad}<{tag}/>\n")
        else:
            self.parts.append(f"{self.pad}<{tag}>{escaped(text)}</{tag}>\n")

    def leaves(self, fields: Mapping[str, str]) -> None:
        """An element a field, in the mapping's order."""
        for tag, text in fields.items():
            self.leaf(tag, text)

    def raw(self, text: str) -> None:
        """Lines already written (at this depth)."""
        self.parts.append(text)

    def text(self) -> str:
        return "".join(self.parts)
