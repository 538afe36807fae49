"""`canone price`'s JSON texts, as json.dumps writes them (", " and ": ", ASCII), made
from remembered texts of the parts that recur (a price, a configuration, a line, a list of
codes): the JSON encoding was the largest single cost of the command."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from json.encoder import encode_basestring_ascii as quoted  # json.dumps's own, ensure_ascii
from typing import Any

from canone.billing.changes import UPGRADE, Decision
from canone.billing.configuration import Configuration
from canone.billing.money import ZERO, format_amount, prorate
from canone.billing.pricing import Line, Price
from canone.price_memos import Known, RememberingRules

# A line billed for the days left, in a Plan: its amount, a credit, the head of its text
# (prorated_head), and a key: its text after - for a credit, + for a charge.
Prorated = tuple[Decimal, bool, str, str]


class Texts:
    """The JSON texts a pricer has made, in its rules' memos."""

    def __init__(self, rules: RememberingRules) -> None:
        self.config_texts: dict[Configuration, str] = rules.memo("config_text")
        self.texts: dict[Any, str] = rules.memo("texts")  # codes
        # id(line) -> the line, kept (its id stays its own), and its text. A price's lines
        # are its remembered parts, shared: found by identity, not by hashing the amount
        # (a Decimal's hash is a modular power, dearer than the text itself).
        self.line_texts: dict[int, tuple[Line, str]] = rules.memo("line_texts")
        # (status, id(lines)) -> the lines, kept (its id stays its own), and the price's text
        self.price_texts: dict[tuple[str, int], tuple[tuple[Line, ...], str]] = rules.memo(
            "price_texts")
        # (id(line), a credit) -> the line, kept, and its entry in Plan.prorated
        self.prorated_entries: dict[tuple[int, bool], tuple[Line, Prorated]] = rules.memo(
            "prorated_entries")
        # (kind, reasons) -> a plan's head; (features lost, gained) -> the end of its tail
        self.heads: dict[tuple[str, tuple[str, ...]], str] = rules.memo("heads")
        self.features: dict[tuple[tuple[str, ...], tuple[str, ...]], str] = rules.memo(
            "features")

    def known_price_text(self, known: Known) -> str:
        # Prices alike but for their configuration share their tuple of lines (the rules'
        # "priced_alike"): their text is the same, found by that tuple's identity and the
        # status (every empty tuple is the same object).
        price = known.price
        key = (price.status, id(price.lines))
        found = self.price_texts.get(key)
        if found is not None and found[0] is price.lines:
            text = found[1]
        else:
            text = self.price_text(price)
            self.price_texts[key] = price.lines, text
        known.price_text = text
        return text

    def known_config_text(self, known: Known) -> str:
        text = known.config_text = config_text(known.config, self.codes_text)
        return text

    def config_text_of(self, config: Configuration, current: Known, target: Known) -> str:
        """The text of a configuration in effect: most often one of those sent."""
        if config is target.config:
            return target.config_text or self.known_config_text(target)
        if config is current.config:
            return current.config_text or self.known_config_text(current)
        text = self.config_texts.get(config)
        if text is None:
            text = config_text(config, self.codes_text)
            self.config_texts[config] = text
        return text

    def price_text(self, p: Price) -> str:
        total = p.total
        lines = ", ".join([self.line_text(line) for line in p.lines])
        return (f'{{"status": {quoted(p.status)}, "lines": [{lines}], "total": '
                + ("null}" if total is None else f'"{format_amount(total)}"}}'))

    def line_text(self, line: Line) -> str:
        found = self.line_texts.get(id(line))
        if found is not None and found[0] is line:
            return found[1]
        text = line_text(line)
        self.line_texts[id(line)] = (line, text)
        return text

    def head(self, kind: str, reasons: tuple[str, ...]) -> str:
        text = (f'{{"kind": {quoted(kind)}, "reasons": {self.codes_text(reasons)}, '
                '"period": {"start": "')
        self.heads[(kind, reasons)] = text
        return text

    def features_text(self, lost: tuple[str, ...], gained: tuple[str, ...]) -> str:
        text = (f', "features_lost": {self.codes_text(lost)}, '
                f'"features_gained": {self.codes_text(gained)}}}')
        self.features[(lost, gained)] = text
        return text

    def prorated_entry(self, line: Line, credit: bool) -> Prorated:
        found = self.prorated_entries.get((id(line), credit))
        if found is not None and found[0] is line:
            return found[1]
        entry = (line.amount, credit, prorated_head(line, credit),
                 ('-' if credit else '+') + self.line_text(line))
        self.prorated_entries[(id(line), credit)] = (line, entry)
        return entry

    def codes_text(self, codes: tuple[str, ...]) -> str:
        text = self.texts.get(codes)
        if text is None:
            text = "[" + ", ".join([quoted(code) for code in codes]) + "]"
            self.texts[codes] = text
        return text


class Plan:
    """A (current, target) pair's decision as text: all but the day's period and lines.
    `prorated` is None when the change bills nothing, else the entry (Prorated) of each
    line billed for the days left; `whole` the texts of the lines billed in full."""

    __slots__ = ("head", "prorated", "tail", "whole", "whole_net")

    def __init__(self, pricer: Texts, decision: Decision, current: Known, target: Known
                 ) -> None:
        kind, reasons = decision.kind, decision.reasons
        lost, gained = decision.features_lost, decision.features_gained
        # The texts of a kind and reasons, and of the features: a few hundred of each.
        self.head = pricer.heads.get((kind, reasons)) or pricer.head(kind, reasons)
        features = pricer.features.get((lost, gained)) or pricer.features_text(lost, gained)
        # Most often the configurations in effect are those sent: their texts are at hand.
        scheduled = decision.scheduled
        tail = (f', "immediate": {pricer.config_text_of(decision.immediate, current, target)}'
                ', "scheduled": ' + ("null" if scheduled is None else
                                     pricer.config_text_of(scheduled, current, target))
                + features)
        if kind == UPGRADE:
            whole = decision.whole
            if whole:
                line_text = pricer.line_text
                self.whole = [line_text(line) for line in whole]
                self.whole_net = sum([line.amount for line in whole], ZERO)
            else:
                self.whole, self.whole_net = [], ZERO
            entry = pricer.prorated_entry
            self.prorated: tuple[Prorated, ...] | None = tuple([
                entry(line, credit) for line, credit in decision.prorated])
            self.tail = tail
        else:  # no lines, and nothing due or credited
            self.whole, self.whole_net = [], ZERO
            self.prorated = None
            self.tail = '[], "due_now": "0.00", "credit": "0.00"' + tail


def config_text(config: Configuration, codes_text: Callable[[tuple[str, ...]], str]) -> str:
    contacts = "null" if config.contacts is None else str(config.contacts)
    return (f'{{"product": {quoted(config.product)}, "tier": {quoted(config.tier)}, '
            f'"interval": {quoted(config.interval)}, '
            f'"currency": {quoted(config.currency)}, "contacts": {contacts}, '
            f'"seats": {config.seats}, "addons": {codes_text(config.addons)}}}')


def prorated_head(line: Line, credit: bool) -> str:
    """The text of `changes.prorated(line, remaining, days, credit)` up to its remaining
    days: the line is billed on many days, its key and description written once."""
    words = "Unused" if credit else "Remaining"  # as changes.prorated words it
    # JSON escapes character by character: the quoted description less its closing quote
    # is the quoted head of any description that begins with it.
    return (f'{{"key": {quoted(line.key)}, "description": '
            f'{quoted(f"{words} time on {line.description} (")[:-1]}')


def prorated_text(amount: Decimal, credit: bool, head: str, remaining: int, days: int
                  ) -> tuple[Decimal, str]:
    """The amount and text of `changes.prorated` of a line of `amount` whose head is
    `head` (prorated_head), without making the Line."""
    billed = -prorate(amount, remaining, days) if credit else prorate(amount, remaining, days)
    return billed, (f'{head}{remaining} of {days} days)", '
                    f'"amount": "{format_amount(billed)}"}}')


def line_text(line: Line) -> str:
    return (f'{{"key": {quoted(line.key)}, "description": {quoted(line.description)}, '
            f'"amount": "{format_amount(line.amount)}"}}')
