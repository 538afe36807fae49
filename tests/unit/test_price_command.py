"""`canone price` (SPEC §7): JSON Lines in, one answer per line out, errors for a line only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from importlib import resources
from pathlib import Path
from typing import IO, Any

PLUS: dict[str, Any] = {"product": "marketing", "tier": "plus", "interval": "month",
                        "currency": "USD", "contacts": 1000, "seats": 1, "addons": []}
ENTERPRISE = dict(PLUS, tier="enterprise")
SPEC_EXAMPLE = {"current": PLUS, "target": ENTERPRISE, "anchor": "2026-04-01",
                "at": "2026-04-16"}


def run_price(
    *lines: str | bytes, args: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[bytes]:
    stdin = b"".join((line if isinstance(line, bytes) else line.encode()) + b"\n"
                     for line in lines)
    return subprocess.run([sys.executable, "-m", "canone", "price", *args], input=stdin,
                          capture_output=True)


def answers(*lines: str | bytes) -> list[dict[str, Any]]:
    run = run_price(*lines)
    assert run.returncode == 0, run.stderr
    return [json.loads(line) for line in run.stdout.decode("ascii").splitlines()]


def with_target(**changes: Any) -> str:
    target = {k: v for k, v in dict(PLUS, **changes).items() if v is not ...}
    return json.dumps({"current": None, "target": target})


def error_of(answer: dict[str, Any]) -> str:
    assert answer["change"] is None
    return str(answer["error"]["field"])


def test_the_spec_example_prices_the_change_with_amounts_as_strings() -> None:
    [answer] = answers(json.dumps(SPEC_EXAMPLE))
    assert answer["error"] is None
    assert answer["target"]["status"] == "ok"
    assert answer["target"]["total"] == "145.00"
    change = answer["change"]
    assert change["kind"] == "upgrade"
    assert change["period"] == {"start": "2026-04-01", "end": "2026-05-01", "days": 30}
    assert change["remaining_days"] == 15
    assert [line["amount"] for line in change["lines"]] == ["-24.50", "72.50"]
    assert (change["due_now"], change["credit"]) == ("48.00", "0.00")
    assert change["immediate"] == ENTERPRISE
    assert change["scheduled"] is None


def test_a_target_alone_is_priced_without_a_change() -> None:
    [answer] = answers(with_target(seats=3, addons=["sms"]))
    assert answer["change"] is None and answer["error"] is None
    assert answer["target"] == {
        "status": "ok",
        "lines": [
            {"key": "base", "description": "Marketing Plus, 1,000 contacts, monthly",
             "amount": "49.00"},
            {"key": "seats", "description": "2 extra user seats, monthly", "amount": "38.00"},
            {"key": "addon:sms", "description": "SMS add-on, monthly", "amount": "15.00"},
        ],
        "total": "102.00",
    }


def test_a_custom_target_has_its_lines_and_a_null_total() -> None:
    [answer] = answers(with_target(contacts=100000, seats=2))
    assert answer["target"]["status"] == "custom"
    assert answer["target"]["total"] is None
    assert [line["amount"] for line in answer["target"]["lines"]] == ["19.00"]


def test_a_request_has_no_lines_and_keeps_the_current_configuration() -> None:
    [answer] = answers(json.dumps(dict(SPEC_EXAMPLE, current=ENTERPRISE, target=PLUS)))
    change = answer["change"]
    assert (change["kind"], change["reasons"], change["lines"]) == ("request", ["tier_lower"], [])
    assert change["immediate"] == ENTERPRISE
    assert change["scheduled"] is None
    assert (change["due_now"], change["credit"]) == ("0.00", "0.00")


def test_each_bad_line_gets_its_own_error_and_the_following_lines_are_answered() -> None:
    good = json.dumps(SPEC_EXAMPLE)
    got = answers(
        '{"current": null, "target": ',  # not JSON
        good,
        with_target(seats=...),  # missing field
        with_target(seats="3"),  # wrong type
        with_target(seats=True),  # a boolean is no number
        with_target(tier="gold"),  # unknown code
        with_target(addons=["fax"]),  # unknown add-on
        json.dumps({"current": None}),  # no target
        json.dumps(dict(SPEC_EXAMPLE, current=dict(PLUS, contacts=1234))),
        json.dumps(dict(SPEC_EXAMPLE, at="2026-03-31")),  # before the anchor
        json.dumps(dict(SPEC_EXAMPLE, anchor="1 April")),
        "[1, 2, 3]",  # JSON, but no object
        good,
    )
    assert [error_of(a) for a in got if a["error"]] == [
        "line", "target.seats", "target.seats", "target.seats", "target.tier",
        "target.addons", "target", "current.contacts", "at", "anchor", "line",
    ]
    assert [a["error"] is None for a in got] == [
        False, True, False, False, False, False, False, False, False, False, False, False, True]
    assert got[1] == got[-1]
    assert got[1]["change"]["due_now"] == "48.00"


def test_a_line_nested_too_deep_gets_its_error_and_later_lines_are_still_priced() -> None:
    good = json.dumps(SPEC_EXAMPLE)
    deep_list = "[" * 1_000 + "]" * 1_000
    deep_target = '{"target": ' + '{"a": ' * 5_000 + "1" + "}" * 5_001
    run = run_price(good, deep_list, deep_target, good)

    assert run.returncode == 0 and run.stderr == b""
    got = [json.loads(line) for line in run.stdout.decode("ascii").splitlines()]
    assert len(got) == 4
    assert [a["error"] for a in got[1:3]] == [
        {"field": "line", "message": f"line {n} is JSON nested too deeply to read (a line is "
                                     "one object: current, target, anchor, at)"}
        for n in (2, 3)]
    assert got[0] == got[3] and got[3]["change"]["due_now"] == "48.00"


def test_an_anchor_or_at_of_the_wrong_form_is_told_what_is_wrong_not_required() -> None:
    got = answers(json.dumps(dict(SPEC_EXAMPLE, anchor=12345)),
                  json.dumps(dict(SPEC_EXAMPLE, at="2026-12-31T23:59:59Z")),
                  json.dumps(dict(SPEC_EXAMPLE, at="31/12/2026")),
                  json.dumps({k: v for k, v in SPEC_EXAMPLE.items() if k != "anchor"}))

    assert [a["error"] for a in got] == [
        {"field": "anchor", "message": 'must be a date as a string "YYYY-MM-DD", not a number'},
        {"field": "at", "message": "'2026-12-31T23:59:59Z' is a date and time; give the date "
                                   "alone, YYYY-MM-DD (e.g. '2026-12-31')"},
        {"field": "at", "message": "'31/12/2026' is not a date YYYY-MM-DD"},
        {"field": "anchor", "message": "required, a date YYYY-MM-DD"},
    ]


def test_an_error_message_says_what_is_allowed() -> None:
    [answer] = answers(with_target(currency="GBP"))
    assert answer["error"] == {"field": "target.currency",
                               "message": "unknown currency 'GBP'; allowed: USD, EUR"}


def test_blank_lines_are_skipped() -> None:
    got = answers("", json.dumps(SPEC_EXAMPLE), "   ", "\t", json.dumps(SPEC_EXAMPLE), "")
    assert len(got) == 2


def test_bytes_that_are_not_utf8_are_a_bad_line_not_a_crash() -> None:
    got = answers(b"\xff\xfe\xfa{}", json.dumps(SPEC_EXAMPLE))
    assert error_of(got[0]) == "line"
    assert got[1]["error"] is None


def test_an_escaped_lone_surrogate_is_echoed_safely() -> None:
    [answer] = answers('{"target": {"\\ud800": 1}}')
    assert answer["error"]["field"] == "target.\ud800"


def test_a_carriage_return_inside_a_line_does_not_split_it() -> None:
    assert len(answers(json.dumps(SPEC_EXAMPLE) + "\r" + json.dumps(SPEC_EXAMPLE))) == 1


def test_the_command_exits_0_when_every_line_was_answered_even_with_errors() -> None:
    run = run_price("nonsense", json.dumps(SPEC_EXAMPLE))
    assert run.returncode == 0
    assert len(run.stdout.splitlines()) == 2
    assert run.stderr == b""


def test_an_unknown_option_is_a_usage_error_with_exit_2() -> None:
    run = run_price(json.dumps(SPEC_EXAMPLE), args=("--fast",))
    assert run.returncode == 2
    assert run.stdout == b""


def test_help_for_the_command_goes_through_the_usual_cli() -> None:
    run = run_price(args=("--help",))
    assert run.returncode == 0
    assert b"canone price [OPTIONS]" in run.stdout


def test_a_broken_catalog_in_effect_stops_the_command_with_exit_1(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('version = "x"\n', "utf-8")
    run = subprocess.run([sys.executable, "-m", "canone", "price"], input=b"{}\n",
                         capture_output=True, env={**os.environ, "CANONE_CATALOG": str(path)})
    assert run.returncode == 1
    assert run.stdout == b""
    assert b"the catalog has problems" in run.stderr
    assert b"Traceback" not in run.stderr


def test_another_catalog_named_in_the_environment_is_the_one_priced(tmp_path: Path) -> None:
    text = resources.files("canone.data").joinpath("catalog.toml").read_text("utf-8")
    path = tmp_path / "dearer.toml"
    path.write_text(text.replace("base = [49, 69,", "base = [59, 69,"), "utf-8")
    run = subprocess.run([sys.executable, "-m", "canone", "price"],
                         input=with_target().encode() + b"\n", capture_output=True,
                         env={**os.environ, "CANONE_CATALOG": str(path)})
    assert run.returncode == 0
    assert json.loads(run.stdout)["target"]["total"] == "59.00"


def test_the_last_line_needs_no_newline() -> None:
    run = subprocess.run([sys.executable, "-m", "canone", "price"],
                         input=json.dumps(SPEC_EXAMPLE).encode(), capture_output=True)
    assert run.returncode == 0
    assert json.loads(run.stdout)["change"]["due_now"] == "48.00"


def test_an_error_names_the_line_by_its_number_in_the_input_blank_lines_included() -> None:
    [answer] = answers("", "  ", "{oops")
    assert answer["error"]["message"].startswith("line 3 is not JSON")


def test_a_line_longer_than_one_read_is_answered_whole() -> None:
    padded = json.dumps(SPEC_EXAMPLE).replace(", ", "," + " " * 100_000, 1)
    assert len(padded) > 1 << 16
    got = answers(padded, json.dumps(SPEC_EXAMPLE))
    assert [a["change"]["due_now"] for a in got] == ["48.00", "48.00"]


def read_line(stream: IO[bytes]) -> bytes | None:
    """The next line of `stream`; None if none came within two minutes (so that a broken
    command cannot hang the suite; this is no timing)."""
    reply: list[bytes] = []
    reader = threading.Thread(target=lambda: reply.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(120)
    return reply[0] if reply else None


def test_a_program_that_writes_a_line_and_waits_gets_its_answer() -> None:
    """No need to close the input: the answers to what has arrived are written at once."""
    process = subprocess.Popen([sys.executable, "-m", "canone", "price"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert process.stdin is not None and process.stdout is not None
    try:
        for _ in range(2):
            process.stdin.write(json.dumps(SPEC_EXAMPLE).encode() + b"\n")
            process.stdin.flush()
            reply = read_line(process.stdout)
            assert reply is not None, "no answer while the input stays open"
            assert json.loads(reply)["change"]["due_now"] == "48.00"
    finally:
        process.stdin.close()
        assert process.wait(120) == 0
        process.stdout.close()


def test_the_remembering_rules_answer_as_the_pure_core_and_stay_bounded() -> None:
    """The caches of `canone price` live in price_command; the core computes each answer."""
    from datetime import date

    from canone.billing.catalog import default_catalog
    from canone.billing.changes import plan_change
    from canone.billing.codec import config_from_json
    from canone.billing.pricing import price
    from canone.price_command import rules_of
    from canone.price_memos import MEMO_SIZE, RememberingRules

    catalog = default_catalog()
    rules = rules_of(catalog)
    assert isinstance(rules, RememberingRules) and rules_of(catalog) is rules
    current = config_from_json(PLUS, "current")
    target = config_from_json(dict(ENTERPRISE, seats=3, addons=["sms"]), "target")
    for _ in range(2):  # computed, then remembered
        assert plan_change(catalog, current, target, date(2026, 4, 1), date(2026, 4, 16),
                           rules) == plan_change(catalog, current, target, date(2026, 4, 1),
                                                 date(2026, 4, 16))
    assert rules.memo("price") and rules.memo("base") and rules.memo("features_changed")
    assert rules.memo("request_reasons")
    # Prices are found by the configuration's identity: an equal one is priced alike.
    twin = config_from_json(dict(ENTERPRISE, seats=3, addons=["sms"]), "target")
    assert twin is not target and rules.price(twin) == rules.price(target) == price(catalog,
                                                                                      target)
    # A configuration alike but for its currency is priced from the same status and lines,
    # as the core prices it, with its own configuration.
    euro = config_from_json(dict(ENTERPRISE, seats=3, addons=["sms"], currency="EUR"),
                            "target")
    assert rules.price(euro) == price(catalog, euro) and rules.price(euro).config is euro
    assert rules.price(euro).lines is rules.price(target).lines
    # Add-ons in normal form, remembered; a wrong list raises each time, as the core does.
    import pytest

    from canone.billing.errors import InvalidField
    for _ in range(2):  # custom_reporting is part of enterprise: dropped
        assert rules.normal_addons("marketing", "enterprise", ("sms", "custom_reporting")
                                   ) == ("sms",)
        with pytest.raises(InvalidField, match="more than once"):
            rules.normal_addons("marketing", "plus", ("sms", "sms"))
    assert rules.memo("normal_addons")
    memo, small = rules.memo("test"), rules.memo("small")
    for number in range(MEMO_SIZE + 10):
        memo[number] = small[number % 10] = str(number)
    rules.trim()  # between batches of lines: a full memo starts again empty
    assert memo == {} and len(small) == 10


def test_prices_alike_but_for_their_currency_share_lines_and_text_each_answered_as_json(
) -> None:
    from canone.billing.catalog import default_catalog
    from canone.price_command import answer, answer_text, pricer_of

    catalog = default_catalog()
    for currency in ("USD", "EUR", "USD", "EUR"):
        request = {"current": None, "target": dict(PLUS, seats=2, currency=currency)}
        assert answer_text(catalog, request) == json.dumps(answer(catalog, request))
    usd, eur = (pricer_of(catalog).config(dict(PLUS, seats=2, currency=c)) for c in ("USD",
                                                                                   "EUR"))
    assert usd is not None and eur is not None and usd.config != eur.config
    assert usd.price.lines is eur.price.lines and usd.price_text is eur.price_text


def test_a_configuration_line_and_price_are_frozen_dataclasses_as_before() -> None:
    """Their __init__ sets the fields through the slots' descriptors (billing.slots): the
    same fields, equality, hash, keywords, defaults and immutability as the dataclass's."""
    import dataclasses
    from decimal import Decimal

    from canone.billing.configuration import Configuration
    from canone.billing.pricing import Line, Price

    config = Configuration("marketing", "plus", "month", "EUR", 1000, 3, ("sms",))
    assert dataclasses.astuple(config) == ("marketing", "plus", "month", "EUR", 1000, 3,
                                           ("sms",))
    same = Configuration(product="marketing", tier="plus", interval="month",
                         currency="EUR", contacts=1000, seats=3, addons=("sms",))
    assert same == config and hash(same) == hash(config)
    assert Configuration("sales", "plus", "year", "USD", None, 2).addons == ()
    assert config.with_(seats=4) == Configuration("marketing", "plus", "month", "EUR", 1000,
                                                  4, ("sms",))
    line = Line("base", "Marketing Plus", Decimal("10.00"))
    price = Price(config, "ok", (line,))
    assert (price.config, price.status, price.lines) == (config, "ok", (line,))
    assert (line.key, line.description, line.amount) == ("base", "Marketing Plus",
                                                          Decimal("10.00"))
    for frozen, field in ((config, "seats"), (line, "amount"), (price, "status")):
        try:
            setattr(frozen, field, None)
        except dataclasses.FrozenInstanceError:
            continue
        raise AssertionError(f"{type(frozen).__name__}.{field} was set")


def test_a_run_started_with_stderr_closed_answers_and_exits_0(tmp_path: Path) -> None:
    # Python makes sys.stderr None when the process starts with fd 2 closed; the bare
    # command's last flush before os._exit must not trip over it.
    out = tmp_path / "answers.jsonl"
    run = subprocess.run(f'"{sys.executable}" -m canone price > "{out}" 2>&-', shell=True,
                         input=json.dumps(SPEC_EXAMPLE).encode() + b"\n")
    assert run.returncode == 0
    assert json.loads(out.read_bytes())["change"]["due_now"] == "48.00"
