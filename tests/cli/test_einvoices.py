"""`canone einvoices send` and `export` (SPEC §8), and `canone serve`'s warning about the
demo seller, run as a user would."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from canone.billing.configuration import Configuration
from canone.billing.parties import Address, BillingDetails
from canone.bootstrap import build_services
from canone.cli_service import DEMO_RATES_WARNING, DEMO_SELLER_WARNING
from canone.services import signups
from canone.services.ports import Card
from canone.settings import Settings
from fatturapa_schema import checked

OFFICINA = BillingDetails("business", "Officina Verde S.r.l.",
                          Address("Via Tortona 27", "20144", "Milano", "MI", "IT"),
                          vat_id="IT05182730159", sdi_code="KRX5Q7A")


def canone(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "canone", *args], capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=120)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {"CANONE_DATABASE_URL": f"sqlite:///{tmp_path / 'canone.db'}",
           "CANONE_SANDBOX_PATH": str(tmp_path / "sandbox.db"),
           "CANONE_SDI_FOLDER": str(tmp_path / "sdi"), "CANONE_VIES": "fake",
           "CANONE_TEST_MODE": "1", "CANONE_SECRET_KEY": "cli-test"}
    assert canone(env, "db", "upgrade").returncode == 0
    return env


def sign_up(env: dict[str, str]) -> signups.SignedUp:
    """An account of the demo seller, which files e-invoices: its invoice's file is made."""
    services = build_services(Settings.from_env(env))
    return signups.sign_up(services, signups.SignUp(
        name="Officina Verde", timezone="Europe/Rome", locale="it", currency="EUR",
        admin_email="owner@officinaverde.example", admin_name="Ada",
        admin_password="correct horse", card=Card("4242424242424242", 12, 2035, "123"),
        config=Configuration("marketing", "plus", "month", "EUR", 1000, 1, ()),
        billing_details=OFFICINA))


def test_send_hands_files_over_and_reads_receipts_export_copies_both(env, tmp_path) -> None:
    signed = sign_up(env)
    sent = canone(env, "einvoices", "send")
    assert (sent.returncode, sent.stdout) == (0, "handed over 1 files; SDI answered about 0\n")
    sdi = tmp_path / "sdi"
    [name] = [p.name for p in sdi.iterdir()]
    assert name == "IT12345670017_00001.xml"
    (sdi / name).unlink()  # collected by the intermediary; SDI's receipt comes back
    (sdi / "IT12345670017_00001_RC_001.xml").write_text(
        '<?xml version="1.0"?><ns3:RicevutaConsegna xmlns:ns3="http://ivaservizi.'
        'agenziaentrate.gov.it/docs/xsd/fatture/messaggi/v1.0" versione="1.0">'
        "<IdentificativoSdI>4711</IdentificativoSdI><NomeFile>IT12345670017_00001.xml"
        "</NomeFile><DataOraRicezione>2026-04-01T11:15:00.000+02:00</DataOraRicezione>"
        "</ns3:RicevutaConsegna>")
    again = canone(env, "einvoices", "send")
    assert again.stdout == "handed over 0 files; SDI answered about 1\n"

    out = tmp_path / "conservation"
    exported = canone(env, "einvoices", "export", "--since", "2000-01-01", str(out))

    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == f"exported 1 files and 1 SDI receipts to {out}\n"
    assert sorted(p.name for p in out.iterdir()) == [
        "IT12345670017_00001.xml", "IT12345670017_00001_RC_001.xml"]
    root = checked((out / name).read_bytes())
    assert root.findtext("FatturaElettronicaBody/DatiGenerali/DatiGeneraliDocumento/"
                         "Numero") == signed.invoice.number


def test_export_of_a_later_date_writes_nothing_and_a_bad_date_is_a_usage_error(
        env, tmp_path) -> None:
    sign_up(env)
    later = canone(env, "einvoices", "export", "--since", "2999-01-01", str(tmp_path / "x"))
    assert later.stdout == f"exported 0 files and 0 SDI receipts to {tmp_path / 'x'}\n"
    bad = canone(env, "einvoices", "export", "--since", "yesterday", str(tmp_path / "x"))
    assert bad.returncode == 2
    assert bad.stderr == "error: --since: 'yesterday' is not a date (YYYY-MM-DD)\n"


def _serve_on_a_taken_port(env: dict[str, str]) -> str:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        return canone(env, "serve", "--port", str(taken.getsockname()[1])).stderr


def test_serve_warns_outside_test_mode_while_the_demo_seller_issues_invoices(
        env, tmp_path) -> None:
    production = {**env, "CANONE_TEST_MODE": "0", "CANONE_VIES": "eu",
                  "CANONE_SECRET_KEY": "a-real-secret-of-32-characters-ok"}
    warned = _serve_on_a_taken_port(production)
    assert warned.startswith(DEMO_SELLER_WARNING + "\n"), warned
    assert "error: port" in warned  # it went on to start: a warning, not a refusal

    demo = Path(__file__).parents[2] / "src" / "canone" / "data" / "seller-demo.toml"
    own = tmp_path / "seller.toml"
    own.write_text(demo.read_text().replace("demo = true", "demo = false"))
    real = _serve_on_a_taken_port({**production, "CANONE_SELLER": str(own)})
    assert DEMO_SELLER_WARNING not in real
    # A real seller filing e-invoices is told that USD files need the ECB's rates.
    assert real.startswith(DEMO_RATES_WARNING + "\n"), real
    rates = tmp_path / "eurofxref.csv"
    rates.write_text("date,currency,rate\n2026-04-01,USD,1.0812\n")
    assert DEMO_RATES_WARNING not in _serve_on_a_taken_port(
        {**production, "CANONE_SELLER": str(own), "CANONE_EXCHANGE_RATES": str(rates)})
    assert DEMO_SELLER_WARNING not in _serve_on_a_taken_port(env)  # test mode


def test_a_worker_pass_hands_the_new_files_to_the_intermediary(env, tmp_path) -> None:
    signed = sign_up(env)
    run = canone(env, "worker", "--once")
    assert run.returncode == 0, run.stderr
    folder = tmp_path / "sdi"
    assert [p.name for p in folder.iterdir()] == ["IT12345670017_00001.xml"]
    assert checked((folder / "IT12345670017_00001.xml").read_bytes()).findtext(
        "FatturaElettronicaBody/DatiGenerali/DatiGeneraliDocumento/Numero") \
        == signed.invoice.number
