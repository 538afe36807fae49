"""The seller in effect: the file named by `CANONE_SELLER`, or the demo seller, checked with
real checksums."""

from __future__ import annotations

from pathlib import Path

from canone.billing.seller import (
    DEMO_FILE,
    Seller,
    demo_seller_text,
    load_seller,
    parse_seller_text,
)
from canone.services.tax_ids import StdnumChecks


def load_seller_file(path: str | Path) -> Seller:
    """Raises DataFileError listing every problem of the file with its place."""
    return load_seller(path, StdnumChecks())


def seller_in_effect(path: str | None) -> Seller:
    if path:
        return load_seller_file(path)
    return parse_seller_text(demo_seller_text(), DEMO_FILE, StdnumChecks())
