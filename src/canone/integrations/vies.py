"""VIES adapters (SPEC §8): the EU's service over HTTP, and a fake for test mode.

`EuVies` asks the VIES REST API (`POST …/check-vat-number`) with a short timeout. When the
seller's VAT number is given as the requester, VIES answers with a consultation number,
which proves to a tax office that the id was checked on that day. Anything but a clear
answer (no connection, a timeout, a member state's service down, a reply that is not what
VIES sends) is `valid` None: the id stays unconfirmed and nothing fails for the customer.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import httpx
from stdnum.eu import vat as eu_vat

from canone.services.vies import ViesCheck

log = logging.getLogger("canone.vies")

VIES_URL = "https://ec.europa.eu/taxation_customs/vies/rest-api"
TIMEOUT_SECONDS = 5.0
_UNDISCLOSED = {"", "---"}  # what VIES sends when a state does not disclose the name


def _text(value: Any) -> str | None:
    if not isinstance(value, str) or value.strip() in _UNDISCLOSED:
        return None
    return value.strip()


class EuVies:
    """The EU's VIES service. `requester` is the seller's VAT id (e.g. "IT01234567897")."""

    def __init__(self, requester: str | None = None, base_url: str = VIES_URL,
                 timeout: float = TIMEOUT_SECONDS) -> None:
        self.requester = requester
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def check(self, vat_id: str, at: datetime) -> ViesCheck:
        body = {"countryCode": vat_id[:2], "vatNumber": vat_id[2:]}
        if self.requester:
            body |= {"requesterMemberStateCode": self.requester[:2],
                     "requesterNumber": self.requester[2:]}
        try:
            response = httpx.post(f"{self.base_url}/check-vat-number", json=body,
                                  timeout=self.timeout)
            response.raise_for_status()
            answer = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("VIES could not be asked about %s: %s", vat_id, exc)
            return ViesCheck(None, at)
        valid = answer.get("valid") if isinstance(answer, dict) else None
        if not isinstance(valid, bool):  # e.g. {"actionSucceed": false, ...MS_UNAVAILABLE}
            log.warning("VIES gave no answer about %s: %.200s", vat_id, answer)
            return ViesCheck(None, at)
        return ViesCheck(valid, at, _text(answer.get("name")), _text(answer.get("address")),
                         _text(answer.get("requestIdentifier")))


class FakeVies:
    """Test mode only (`CANONE_VIES=fake`): confirms every VAT id whose checksum is valid."""

    def check(self, vat_id: str, at: datetime) -> ViesCheck:
        return ViesCheck(bool(eu_vat.is_valid(vat_id)), at)
