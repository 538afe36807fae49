"""The VIES port (SPEC §8): asks the EU's VAT Information Exchange System whether a VAT id
is registered for trade between member states.

Only a confirmed id makes an EU business's documents reverse charge; while VIES cannot be
reached the id counts as unconfirmed (`valid` is None), which is never an error to the
person saving their details: their documents take the rule that applies without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ViesCheck:
    """VIES's answer for one VAT id at one instant, kept as evidence of the check."""

    valid: bool | None  # None: VIES could not be reached (unconfirmed)
    checked_at: datetime
    name: str | None = None  # as registered; some states do not disclose it
    address: str | None = None
    consultation_id: str | None = None  # VIES's request identifier, proof of the check

    @property
    def confirmed(self) -> bool:
        return self.valid is True


class Vies(Protocol):
    def check(self, vat_id: str, at: datetime) -> ViesCheck:
        """The answer for `vat_id` (with its prefix, EL for Greece). Never raises for an
        unreachable or failing service: that is an answer with `valid` None."""
        ...
