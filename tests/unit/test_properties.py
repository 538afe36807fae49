"""Invariants of the billing core (issue 2), checked with hypothesis over the default catalog.

1. periods tile time;  2. upgrades and reductions never charge wrongly;  3. proration parts
add up;  4. two upgrades on one day cost the direct one;  5. price grows with what is bought;
6. `canone price` never crashes.
"""

from __future__ import annotations

import calendar
import itertools
import json
import subprocess
import sys
from collections import defaultdict
from dataclasses import astuple
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from canone.billing.catalog import default_catalog
from canone.billing.changes import Change, plan_change
from canone.billing.codec import config_to_json
from canone.billing.configuration import Configuration, validate
from canone.billing.errors import InvalidField
from canone.billing.money import format_amount, prorate, round_money
from canone.billing.periods import add_months, nth_period, period_bounds, period_containing
from canone.billing.pricing import price
from canone.price_command import answer, answer_text, pricer_of
from canone.price_memos import config_key, plain_config

CATALOG = default_catalog()
SEAT_CAP = 30  # enough to cross every tier's included seats; the tiers set no maximum
CENT = Decimal("0.01")
# Not timed tests (the machine is shared): no deadline, no health check on generation speed
# or on how many drawn cases a test sets aside.
UNTIMED = settings(deadline=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

# -- strategies ------------------------------------------------------------------------------

intervals = st.sampled_from(CATALOG.intervals)
currencies = st.sampled_from(CATALOG.currencies)

# Any day, and the anchors that stress month ends: the 28th-31st and 29 February.
MONTH_ENDS = [
    date(y, m, d) for y in range(2019, 2031) for m in range(1, 13) for d in range(28, 32)
    if d <= calendar.monthrange(y, m)[1]
]
anchors = st.one_of(st.dates(date(1990, 1, 1), date(2090, 12, 31)), st.sampled_from(MONTH_ENDS))


@st.composite
def anchor_and_day(draw: st.DrawFn) -> tuple[date, date]:
    anchor = draw(anchors)
    return anchor, anchor + timedelta(days=draw(st.integers(0, 4000)))


def offer(product: str, tier: str) -> list[str]:
    """The add-ons that can be bought on a product's tier."""
    return [code for code, addon in CATALOG.addons.items() if addon.is_available(product, tier)]


@st.composite
def configurations(
    draw: st.DrawFn, product: str | None = None, interval: str | None = None,
    currency: str | None = None,
) -> Configuration:
    """A valid configuration: a product, a tier it offers, a contact step (none for sales),
    1 to max seats, a subset of the add-ons it can buy; in the normal form of `validate`."""
    code = product or draw(st.sampled_from(list(CATALOG.products)))
    offered = CATALOG.products[code]
    tier = draw(st.sampled_from(list(offered.tiers)))
    plan = offered.tiers[tier]
    contacts = draw(st.sampled_from(CATALOG.contact_steps)) if offered.has_contacts else None
    seats = draw(st.integers(1, min(plan.max_seats or SEAT_CAP, SEAT_CAP)))
    available = offer(code, tier)
    addons = draw(st.lists(st.sampled_from(available), unique=True)) if available else []
    config = Configuration(
        code, tier, interval or draw(intervals), currency or draw(currencies), contacts, seats,
        tuple(addons),
    )
    return validate(CATALOG, config)


@st.composite
def moves_from(draw: st.DrawFn, current: Configuration, upward: bool = False) -> Configuration:
    """A target a user would try from `current`: the same product or the bundle, the same
    currency, the same or a longer interval, the add-ons kept, anything else drawn. Many are
    upgrades, some reductions, some refused (a lower tier, a custom price). `upward` keeps the
    tier and, unless a reduction is drawn to ride along, contacts and seats from going down."""
    product = draw(st.sampled_from(sorted({current.product, "bundle"})))
    offered = CATALOG.products[product]
    tiers = [t for t in offered.tiers if not upward
             or CATALOG.tier_rank(t) >= CATALOG.tier_rank(current.tier)]
    tier = draw(st.sampled_from(tiers))
    plan = offered.tiers[tier]
    steps = list(CATALOG.contact_steps)
    most = min(plan.max_seats or SEAT_CAP, SEAT_CAP)
    fewest = 1
    if upward and not draw(st.booleans()):  # no reduction
        steps = [s for s in steps if current.contacts is None or s >= current.contacts]
        fewest = min(current.seats, most)
    contacts = draw(st.sampled_from(steps)) if offered.has_contacts else None
    seats = draw(st.integers(fewest, most))
    available = offer(product, tier)
    extra = draw(st.lists(st.sampled_from(available), unique=True)) if available else []
    kept = [code for code in current.addons if code in available
            or CATALOG.addons[code].is_included(product, tier)]
    interval = draw(st.sampled_from(sorted({current.interval, "year"})))
    target = Configuration(product, tier, interval, current.currency, contacts, seats,
                           tuple(sorted(set(kept) | set(extra))))
    return validate(CATALOG, target)


@st.composite
def upgrade_attempts(draw: st.DrawFn) -> tuple[Configuration, Configuration, date, date]:
    current = draw(configurations())
    return (current, draw(moves_from(current, upward=True)), *draw(anchor_and_day()))


@st.composite
def changes(draw: st.DrawFn) -> tuple[Configuration, Configuration, date, date]:
    current = draw(configurations())
    target = draw(st.one_of(moves_from(current, upward=True), moves_from(current),
                            configurations()))
    return (current, target, *draw(anchor_and_day()))


def net(change: Change) -> Decimal:
    return sum((line.amount for line in change.lines), Decimal("0.00"))


def by_key(*applied: Change) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for change in applied:
        for line in change.lines:
            sums[line.key] += line.amount
    return sums


# -- 1. periods tile time ---------------------------------------------------------------------


@settings(UNTIMED)
@given(anchor=anchors, interval=intervals, first=st.integers(0, 400), count=st.integers(1, 40))
def test_periods_tile_time_and_keep_the_anchor_day_when_the_month_has_it(
    anchor: date, interval: str, first: int, count: int
) -> None:
    periods = [nth_period(anchor, interval, k) for k in range(first, first + count)]
    for period in periods:
        assert period.start < period.end  # none is empty
        assert period.days in ((28, 29, 30, 31) if interval == "month" else (365, 366))
        month_length = calendar.monthrange(period.start.year, period.start.month)[1]
        assert period.start.day == min(anchor.day, month_length)
    for earlier, later in itertools.pairwise(periods):
        assert earlier.end == later.start  # consecutive periods share their boundary


@settings(UNTIMED)
@given(anchor_day=anchor_and_day(), interval=intervals)
def test_every_day_from_the_anchor_on_lies_in_exactly_one_period(
    anchor_day: tuple[date, date], interval: str
) -> None:
    anchor, day = anchor_day
    period = period_containing(anchor, interval, day)
    assert period.start <= day < period.end
    assert period == nth_period(anchor, interval, period.index)
    assert 1 <= period.remaining_days(day) <= period.days
    assert period_bounds(anchor, interval, day) == (period.index, period.start, period.end)


@settings(UNTIMED)
@given(anchor=anchors, months=st.integers(-1200, 1200))
def test_add_months_never_drifts(anchor: date, months: int) -> None:
    moved = add_months(anchor, months)
    assert (moved.year * 12 + moved.month) - (anchor.year * 12 + anchor.month) == months
    assert moved.day == min(anchor.day, calendar.monthrange(moved.year, moved.month)[1])


# -- 2. upgrades and reductions ---------------------------------------------------------------


@settings(UNTIMED, max_examples=300)
@given(case=changes())
def test_an_upgrade_never_has_negative_due_now_and_a_reduction_is_never_charged(
    case: tuple[Configuration, Configuration, date, date],
) -> None:
    current, target, anchor, day = case
    change = plan_change(CATALOG, current, target, anchor, day)
    event(f"kind {change.kind}{' + scheduled' if change.scheduled else ''}")
    assert change.due_now >= 0 and change.credit >= 0
    assert change.due_now == 0 or change.credit == 0
    assert change.due_now - change.credit == net(change)
    if change.kind == "upgrade" and change.scheduled is not None:
        # The reduction riding along costs nothing now: the amount is the upgrade alone.
        alone = plan_change(CATALOG, current, change.immediate, anchor, day)
        assert (alone.kind, alone.scheduled) == ("upgrade", None)
        assert alone.lines == change.lines
    if change.kind == "scheduled":  # a pure reduction
        assert change.lines == ()
        assert change.due_now == 0 and change.credit == 0
        assert change.immediate == current
        assert change.scheduled == target
    if change.kind in ("request", "none"):
        assert change.lines == ()
        assert change.immediate == current
        assert change.scheduled is None


@settings(UNTIMED)
@given(case=upgrade_attempts())
def test_an_upgrade_keeps_contacts_and_seats_until_the_next_period(
    case: tuple[Configuration, Configuration, date, date],
) -> None:
    current, target, anchor, day = case
    change = plan_change(CATALOG, current, target, anchor, day)
    assume(change.kind == "upgrade" and change.new_anchor is None)
    assert change.immediate.seats >= current.seats
    if current.contacts is not None and change.immediate.contacts is not None:
        assert change.immediate.contacts >= current.contacts


# -- 3. proration parts add up ----------------------------------------------------------------


@settings(UNTIMED)
@given(cents=st.integers(0, 10**10), days=st.integers(1, 366), data=st.data())
def test_unused_plus_used_part_of_a_line_is_the_line_within_a_cent(
    cents: int, days: int, data: st.DataObject
) -> None:
    amount = Decimal(cents).scaleb(-2)
    remaining = data.draw(st.integers(0, days))
    unused, used = prorate(amount, remaining, days), prorate(amount, days - remaining, days)
    assert abs(unused + used - amount) <= CENT
    assert 0 <= unused <= amount and 0 <= used <= amount


# -- 4. no double credit ----------------------------------------------------------------------


@settings(UNTIMED, max_examples=300)
@given(data=st.data())
def test_two_upgrades_on_the_same_day_cost_what_the_direct_upgrade_costs(
    data: st.DataObject,
) -> None:
    """S → I1 then I1 → I2 on day d charges what S → I2 does (lago-api#1778: no credit for
    the same unused time twice). After a month → year switch, I1's period starts on d."""
    start = data.draw(configurations())
    middle = data.draw(moves_from(start, upward=True))
    anchor, day = data.draw(anchor_and_day())
    first = plan_change(CATALOG, start, middle, anchor, day)
    assume(first.kind == "upgrade" and first.scheduled is None)
    end = data.draw(moves_from(middle, upward=True))
    second = plan_change(CATALOG, middle, end, first.new_anchor or anchor, day)
    assume(second.kind == "upgrade" and second.scheduled is None)

    direct = plan_change(CATALOG, start, end, anchor, day)
    assert (direct.kind, direct.immediate, direct.scheduled) == ("upgrade", end, None)
    in_two, at_once = by_key(first, second), by_key(direct)
    touched = set(in_two) | set(at_once)
    for key in touched:
        assert abs(in_two.get(key, Decimal(0)) - at_once.get(key, Decimal(0))) <= CENT, key
    assert abs(net(first) + net(second) - net(direct)) <= CENT * len(touched)


# -- 5. price grows with what is bought -------------------------------------------------------


def priced(config: Configuration) -> Decimal | None:
    """The total of a valid, self-serve configuration; None if invalid or custom."""
    try:
        total = price(CATALOG, validate(CATALOG, config)).total
    except InvalidField:
        return None
    return total


@settings(UNTIMED)
@given(digits=st.integers(-10**20, 10**20), exponent=st.integers(-8, 4))
def test_an_amount_is_written_rounded_half_up_to_two_decimals_and_zero_unsigned(
    digits: int, exponent: int
) -> None:
    amount = Decimal(digits).scaleb(exponent)
    rounded = round_money(amount)
    assert format_amount(amount) == ("0.00" if rounded == 0 else f"{rounded:.2f}")


def test_amounts_already_in_cents_and_others_are_written_alike() -> None:
    texts = [format_amount(Decimal(text)) for text in
             ("12.34", "-12.34", "-0.00", "0E-2", "0", "1E+2", "1.5", "0.005", "-0.005",
              "123.4E-1", "1.2345E+3")]
    assert texts == ["12.34", "-12.34", "0.00", "0.00", "0.00", "100.00", "1.50", "0.01",
                     "-0.01", "12.34", "1234.50"]


@settings(UNTIMED)
@given(config=configurations(), more=st.integers(1, 6), data=st.data())
def test_price_never_goes_down_when_contacts_or_seats_go_up(
    config: Configuration, more: int, data: st.DataObject
) -> None:
    total = priced(config)
    assume(total is not None)
    assert total is not None
    more_seats = priced(config.with_(seats=config.seats + more))
    assert more_seats is None or more_seats >= total
    if config.contacts is not None:
        higher = [s for s in CATALOG.contact_steps if s > config.contacts]
        if higher:
            more_contacts = priced(config.with_(contacts=data.draw(st.sampled_from(higher))))
            assert more_contacts is None or more_contacts >= total


@settings(UNTIMED)
@given(config=configurations(), data=st.data())
def test_price_never_goes_down_when_the_tier_goes_up_for_what_the_lower_tier_includes(
    config: Configuration, data: st.DataObject
) -> None:
    """A higher tier never charges less base or per extra seat. Its total can be lower only
    because it includes more (seats, or an add-on such as custom_reporting in enterprise):
    see test_upgrade_that_costs_less_credits_the_balance. Within what the lower tier already
    includes, the total never goes down."""
    lower = price(CATALOG, config)
    tiers = list(CATALOG.products[config.product].tiers)
    higher_tiers = tiers[tiers.index(config.tier) + 1:]
    assume(lower.status == "ok" and higher_tiers)
    tier = data.draw(st.sampled_from(higher_tiers))
    try:
        upper = price(CATALOG, validate(CATALOG, config.with_(tier=tier)))
    except InvalidField:  # an add-on not sold on that tier
        return
    assume(upper.status == "ok")
    low_plan, high_plan = CATALOG.plan(config.product, config.tier), CATALOG.plan(
        config.product, tier)
    assert upper.amounts().get("base", 0) >= lower.amounts().get("base", 0)
    assert high_plan.extra_seat >= low_plan.extra_seat
    assert high_plan.seats_included >= low_plan.seats_included
    includes_more = any(CATALOG.addons[a].is_included(config.product, tier)
                        for a in config.addons)
    if config.seats <= low_plan.seats_included and not includes_more:
        assert upper.total is not None and lower.total is not None
        assert upper.total >= lower.total


# -- 6. canone price never crashes ------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
nasty = st.one_of(
    json_values,
    st.integers(-(10**40), 10**40),
    st.sampled_from(["", "0001-01-01", "9999-12-31", "2024-02-29", "2023-02-29", "20260416",
                     "2026-W16-1", "month", "year", "custom", "marketing", "enterprise",
                     "\ud800", 1000, 0, -1, 10**6, 10**6 + 1, True, 1.5, float("nan"),
                     float("inf")]),
)
REQUEST_KEYS = ("current", "target", "anchor", "at")


@st.composite
def mangled_requests(draw: st.DrawFn) -> Any:
    """A valid request with up to three fields deleted or replaced by anything."""
    anchor, day = draw(anchor_and_day())
    request: dict[str, Any] = {
        "current": config_to_json(draw(configurations())),
        "target": config_to_json(draw(configurations())),
        "anchor": anchor.isoformat(),
        "at": day.isoformat(),
    }
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from(REQUEST_KEYS))
        holder = request
        if key in ("current", "target") and isinstance(request.get(key), dict) and draw(
                st.booleans()):
            holder = request[key]
            key = draw(st.sampled_from([*holder, "unknown"]))
        if draw(st.booleans()):
            holder.pop(key, None)
        else:
            holder[key] = draw(nasty)
    return request


requests = st.one_of(json_values, mangled_requests())


@settings(UNTIMED, max_examples=300)
@given(request=requests)
def test_answer_never_raises_and_always_has_the_three_keys(request: Any) -> None:
    result = answer(CATALOG, request)
    event("error on " + result["error"]["field"] if result["error"] else
          "change " + result["change"]["kind"] if result["change"] else "target only")
    assert set(result) == {"target", "change", "error"}
    json.dumps(result)  # always serialisable
    if result["error"] is None:
        assert result["target"] is not None
    else:
        assert result["change"] is None
        assert isinstance(result["error"]["field"], str) and result["error"]["field"]


@st.composite
def change_requests(draw: st.DrawFn) -> dict[str, Any]:
    """A valid request of a change a user tries (most are answered with a change)."""
    current, target, anchor, day = draw(changes())
    return {"current": config_to_json(current), "target": config_to_json(target),
            "anchor": anchor.isoformat(), "at": day.isoformat()}


@settings(UNTIMED, max_examples=300)
@given(request=st.one_of(change_requests(), requests))
def test_the_fast_text_of_an_answer_is_exactly_its_json(request: Any) -> None:
    """`canone price` writes answer_text, built from remembered fragments; it must be the
    very bytes json.dumps gives for answer(), the shape the API shares."""
    assert answer_text(CATALOG, request) == json.dumps(answer(CATALOG, request))


# Texts that, inside a string, read like the keys `canone price` cuts a line at.
KEY_TEXTS = ['{"current": ', ', "target": ', ', "anchor": ', ', "at": ', "}", '"', "\\", "null"]


@st.composite
def spliced_lines(draw: st.DrawFn) -> str:
    """A request's JSON text, often a string in it (or a key's text) holding a key's text."""
    line = json.dumps(draw(st.one_of(change_requests(), requests, mangled_requests())))
    strings = [i for i, char in enumerate(line) if char == '"']
    if strings and draw(st.booleans()):
        at = draw(st.sampled_from(strings)) + draw(st.sampled_from([0, 1]))
        inserted = draw(st.sampled_from(KEY_TEXTS))
        if draw(st.booleans()):  # as a string's content, escaped
            inserted = json.dumps(inserted)[1:-1]
        line = line[:at] + inserted + line[at:]
    return line + draw(st.sampled_from(["", " ", "\r", "\t \r"]))


@settings(UNTIMED, max_examples=400)
@given(line=spliced_lines())
def test_a_line_cut_at_its_keys_is_answered_as_json_reads_it(line: str) -> None:
    """`canone price` answers a line as json.dumps writes a request from its pieces; any
    other line, or one that is not a request's JSON, goes the general way (None)."""
    text = pricer_of(CATALOG).line_answer(line.encode())
    try:
        request = json.loads(line)
    except ValueError:
        assert text is None
    else:
        assert text is None or text == json.dumps(answer(CATALOG, request))


@st.composite
def config_texts(draw: st.DrawFn) -> str:
    """A configuration's JSON text: as json.dumps writes a valid one, with a field made
    anything, or with other spacing, escapes or order."""
    raw = config_to_json(draw(configurations()))
    if draw(st.booleans()):
        key = draw(st.sampled_from([*raw, "unknown"]))
        raw[key] = draw(st.one_of(nasty, st.lists(st.text(max_size=4), max_size=3)))
    text = json.dumps(raw, ensure_ascii=draw(st.booleans()))
    if draw(st.booleans()):  # a byte of json.dumps's form changed: spacing, an escape
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from([" ", "", "\\u0065", '"', "\t", "0"])) + text[at:]
    return text


@settings(UNTIMED, max_examples=400)
@given(text=config_texts())
def test_a_configuration_written_as_json_dumps_writes_it_is_read_as_json_reads_it(
        text: str) -> None:
    """plain_config reads only json.dumps's own form of a configuration, and reads it as
    json does; a valid one read so keeps its text as sent, the text json.dumps writes."""
    config = plain_config(text)
    try:
        raw = json.loads(text)
    except ValueError:
        assert config is None
        return
    assert config is None or (*astuple(config)[:6], *config.addons) == config_key(raw)
    event("read plainly" if config is not None else "left to json")
    if config is not None and (known := pricer_of(CATALOG).config_of_text(text.encode())):
        assert known.config_text in (None, json.dumps(config_to_json(known.config)))


garbage = st.text(st.characters(exclude_characters="\n", exclude_categories=["Cs"]),
                  max_size=40).map(lambda text: "x" + text)
blank = st.sampled_from(["", " ", "\t", "  \t ", "\r"])
input_lines = st.one_of(
    requests.map(json.dumps), mangled_requests().map(json.dumps), garbage, blank)


@settings(UNTIMED, max_examples=4, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
@given(lines=st.lists(input_lines, min_size=200, max_size=300))
def test_canone_price_answers_every_non_blank_line_and_exits_0(lines: list[str]) -> None:
    stdin = "".join(line + "\n" for line in lines).encode("utf-8", "surrogatepass")
    run = subprocess.run([sys.executable, "-m", "canone", "price"], input=stdin,
                         capture_output=True)
    assert run.returncode == 0, run.stderr.decode(errors="replace")
    assert run.stderr == b""
    expected = sum(1 for line in stdin.split(b"\n")[:-1] if line.strip())
    out = run.stdout.decode("ascii").splitlines()
    assert len(out) == expected
    for line in out:
        assert set(json.loads(line)) == {"target", "change", "error"}
