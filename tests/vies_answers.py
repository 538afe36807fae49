"""VIES (SPEC §8) as tests need it: the test mode's fake that remembers what it was asked,
and one that cannot be reached."""

from __future__ import annotations

from datetime import datetime

from canone.integrations.vies import FakeVies
from canone.services.vies import ViesCheck


class CountingVies:
    """VIES as the test mode's fake answers it, remembering what it was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def check(self, vat_id: str, at: datetime) -> ViesCheck:
        self.asked.append(vat_id)
        return FakeVies().check(vat_id, at)


class UnreachableVies:
    def check(self, vat_id: str, at: datetime) -> ViesCheck:
        return ViesCheck(None, at)
