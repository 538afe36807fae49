"""The VIES adapters: the EU service's HTTP answers read right (from a real local server that
answers as VIES does), an unreachable VIES leaves the id unconfirmed, and the fake is
refused outside test mode."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from canone.bootstrap import SettingsError, vies_of
from canone.integrations.vies import EuVies, FakeVies
from canone.services.vies import ViesCheck
from canone.settings import Settings
from local_http import QuietHandler, serving

AT = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


@dataclass
class FakeViesServer:
    """A real HTTP server on localhost answering `check-vat-number` with a set reply."""

    reply: tuple[int, Any] = (200, {})
    asked: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def vies_server() -> Iterator[FakeViesServer]:
    server = FakeViesServer()

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            server.asked.append({"path": self.path, **json.loads(self.body())})
            status, payload = server.reply
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.answer(status, data, "application/json")

    with serving(Handler) as base:
        server.url = f"{base}/rest-api"
        yield server


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends


def test_a_confirmed_id_keeps_name_address_and_consultation_number(
        vies_server: FakeViesServer) -> None:
    vies_server.reply = (200, {
        "countryCode": "DE", "vatNumber": "136695976", "requestDate": "2026-12-04+01:00",
        "valid": True, "requestIdentifier": "WAPIAAAAZ0Y9KZ3S",
        "name": "Nordwind Handel GmbH", "address": "Unter den Linden 5\n10117 Berlin"})
    vies = EuVies(requester="IT01234567897", base_url=vies_server.url)

    assert vies.check("DE136695976", AT) == ViesCheck(
        True, AT, "Nordwind Handel GmbH", "Unter den Linden 5\n10117 Berlin",
        "WAPIAAAAZ0Y9KZ3S")
    assert vies_server.asked == [{
        "path": "/rest-api/check-vat-number", "countryCode": "DE", "vatNumber": "136695976",
        "requesterMemberStateCode": "IT", "requesterNumber": "01234567897"}]


def test_an_id_vies_does_not_know_is_invalid_and_an_undisclosed_name_is_none(
        vies_server: FakeViesServer) -> None:
    vies_server.reply = (200, {"countryCode": "EL", "vatNumber": "094259216", "valid": False,
                               "name": "---", "address": "---"})
    assert EuVies(base_url=vies_server.url).check("EL094259216", AT) == ViesCheck(False, AT)
    assert "requesterNumber" not in vies_server.asked[0]


@pytest.mark.parametrize("reply", [
    (200, {"actionSucceed": False, "errorWrappers": [{"error": "MS_UNAVAILABLE"}]}),
    (500, {"actionSucceed": False, "errorWrappers": [{"error": "SERVICE_UNAVAILABLE"}]}),
    (200, b"<html>maintenance</html>"),
    (200, ["not", "an", "answer"]),
])
def test_a_member_state_down_or_a_strange_reply_leaves_the_id_unconfirmed(
        vies_server: FakeViesServer, reply: tuple[int, Any]) -> None:
    vies_server.reply = reply
    assert EuVies(base_url=vies_server.url).check("FR40303265045", AT) == ViesCheck(None, AT)


def test_an_unreachable_vies_answers_unconfirmed_at_once() -> None:
    vies = EuVies(base_url=f"http://127.0.0.1:{closed_port()}/rest-api", timeout=2.0)
    started = time.monotonic()
    answer = vies.check("DE136695976", AT)
    assert answer == ViesCheck(None, AT)
    assert not answer.confirmed
    assert time.monotonic() - started < 2.0


def test_the_fake_confirms_checksum_valid_ids_only() -> None:
    fake = FakeVies()
    assert fake.check("DE136695976", AT) == ViesCheck(True, AT)
    assert fake.check("EL094259216", AT) == ViesCheck(True, AT)
    assert fake.check("DE136695977", AT) == ViesCheck(False, AT)


def test_the_fake_is_refused_outside_test_mode() -> None:
    with pytest.raises(SettingsError, match=r"CANONE_VIES=fake .* test mode only"):
        vies_of(Settings(vies="fake"))
    assert isinstance(vies_of(Settings(vies="fake", test_mode=True)), FakeVies)
    with pytest.raises(SettingsError, match=r"CANONE_VIES='vies': allowed: eu \(default\), fake"):
        vies_of(Settings(vies="vies", test_mode=True))


def test_the_default_asks_the_eu_without_a_demo_sellers_made_up_number() -> None:
    vies = vies_of(Settings())
    assert isinstance(vies, EuVies)
    assert vies.base_url == "https://ec.europa.eu/taxation_customs/vies/rest-api"
    assert vies.requester is None  # the demo seller


def test_settings_read_canone_vies() -> None:
    assert Settings.from_env({"CANONE_VIES": "fake"}).vies == "fake"
    assert Settings.from_env({}).vies == "eu"
