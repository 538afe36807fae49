"""What `canone price` remembers for one catalog: the core's answers (RememberingRules)
and the configurations it has read (Known, found by `config_key`). Those caches serve this
command alone and live with it, not in the billing core, whose answers they only remember
(the core computes each answer when asked)."""

from __future__ import annotations

import re
from typing import Any

from canone.billing.catalog import Catalog
from canone.billing.changes import Rules
from canone.billing.codec import CONFIG_FIELDS
from canone.billing.configuration import Configuration
from canone.billing.pricing import Line, Price

MEMO_SIZE = 16_384  # entries per memo, checked between batches of lines (trim)


_UNKNOWN = object()  # what a memo holds no answer for, where None is an answer


class RememberingRules(Rules):
    """The core's rules for one catalog (which never changes), each answer remembered by
    its immutable question; the memos are this command's, for that catalog."""

    def __init__(self, catalog: Catalog) -> None:
        super().__init__(catalog)
        self.memos: dict[str, dict[Any, Any]] = {}
        # The rules' own memos, kept at hand: they are asked a few times per line.
        self._valid, self._prices = self.memo("valid"), self.memo("price")  # prices by id
        self._alike = self.memo("priced_alike")
        self._addons_kept = self.memo("normal_addons")
        self._features = self.memo("features_changed")
        self._reasons = self.memo("request_reasons")
        self._bases, self._seats, self._addons = (
            self.memo("base"), self.memo("seats"), self.memo("addon"))

    def memo(self, name: str) -> dict[Any, Any]:
        """The memo `name`, bounded by `trim`."""
        found = self.memos.get(name)
        if found is None:
            found = self.memos[name] = {}
        return found

    def trim(self) -> None:
        """Empty each memo that has reached MEMO_SIZE entries. The memos are filled by
        plain stores (a call to check the size at each store cost more than the store) and
        trimmed between batches of lines and at each `answer`: each holds at most MEMO_SIZE
        entries and what one batch (64 KiB of input) adds."""
        for memo in self.memos.values():
            if len(memo) >= MEMO_SIZE:
                memo.clear()

    def validate(self, config: Configuration) -> Configuration:
        memo = self._valid
        found: Configuration | None = memo.get(config)
        if found is None:  # an invalid one raises, and is read again next time
            found = super().validate(config)
            memo[config] = found
        return found

    def normal_addons(self, product: str, tier: str, addons: tuple[str, ...]
                      ) -> tuple[str, ...]:
        key = (product, tier, addons)
        memo = self._addons_kept
        found: tuple[str, ...] | None = memo.get(key)
        if found is None:  # wrong ones raise, and are checked again next time
            found = super().normal_addons(product, tier, addons)
            memo[key] = found
        return found

    def price(self, config: Configuration) -> Price:
        # By identity: the configurations priced again are the same objects (those known,
        # and those validated here), and a Configuration's hash and equality are Python
        # calls. The configuration is kept with its price: its id stays its own.
        found: tuple[Configuration, Price] | None = self._prices.get(id(config))
        if found is not None and found[0] is config:
            return found[1]
        # A new configuration: priced as one alike in all that PriceParts.price reads of it
        # (all but the currency), when there is one; its status and lines are the same.
        key = (config.product, config.tier, config.contacts, config.seats, config.interval,
               config.addons)
        alike: tuple[str, tuple[Line, ...]] | None = self._alike.get(key)
        if alike is None:
            price = super().price(config)
            self._alike[key] = (price.status, price.lines)
        else:
            price = Price(config, alike[0], alike[1])
        self._prices[id(config)] = (config, price)
        return price

    # A new configuration is priced from parts that few fields decide and many share.

    def base(self, product: str, tier: str, contacts: int | None, interval: str
             ) -> tuple[str, Line | None]:
        key = (product, tier, contacts, interval)
        found: tuple[str, Line | None] | None = self._bases.get(key)
        if found is None:
            found = super().base(product, tier, contacts, interval)
            self._bases[key] = found
        return found

    def seats(self, product: str, tier: str, contacts: int | None, seats: int, interval: str
              ) -> Line | None:
        key = (product, tier, contacts, seats, interval)
        memo = self._seats
        found: Line | object | None = memo.get(key, _UNKNOWN)  # None is an answer
        if found is _UNKNOWN:
            found = super().seats(product, tier, contacts, seats, interval)
            memo[key] = found
        return found  # type: ignore[return-value]

    def addon(self, code: str, interval: str) -> Line | None:
        key = (code, interval)
        memo = self._addons
        found: Line | object | None = memo.get(key, _UNKNOWN)
        if found is _UNKNOWN:
            found = super().addon(code, interval)
            memo[key] = found
        return found  # type: ignore[return-value]

    def request_reasons(self, current: Configuration, target: Configuration
                        ) -> tuple[str, ...]:
        key = (current.product, current.tier, current.interval, current.currency,
               current.addons, target.product, target.tier, target.interval, target.currency,
               target.addons)
        memo = self._reasons
        found: tuple[str, ...] | None = memo.get(key)
        if found is None:
            found = super().request_reasons(current, target)
            memo[key] = found
        return found

    def features_changed(self, current: Configuration, target: Configuration
                         ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        key = (current.product, current.tier, current.addons,
               target.product, target.tier, target.addons)
        memo = self._features
        found: tuple[tuple[str, ...], tuple[str, ...]] | None = memo.get(key)
        if found is None:
            found = super().features_changed(current, target)
            memo[key] = found
        return found


def config_key(raw: Any) -> tuple[Any, ...] | None:
    """A CONFIG object's values as sent, when it has exactly the seven fields with exactly
    their JSON types (four strings, contacts an integer or null, seats an integer, add-ons a
    list of strings); None otherwise. Equal keys are then equal configurations (in Python
    True == 1 == 1.0: the types are checked, so seats true is never taken for seats 1)."""
    if type(raw) is not dict:
        return None
    if tuple(raw) == CONFIG_FIELDS:  # in the usual order: the values are the fields
        product, tier, interval, currency, contacts, seats, addons = raw.values()
    elif len(raw) == 7 and "contacts" in raw:  # a missing field reads None: not a string
        product, tier, interval, currency, contacts, seats, addons = map(raw.get, CONFIG_FIELDS)
    else:
        return None
    if (type(product) is not str or type(tier) is not str or type(interval) is not str
            or type(currency) is not str or type(seats) is not int
            or (contacts is not None and type(contacts) is not int)
            or type(addons) is not list):
        return None
    for code in addons:
        if type(code) is not str:
            return None
    return (product, tier, interval, currency, contacts, seats, *addons)


# A configuration's text as json.dumps writes one: the seven fields in order, ", " and ": ",
# every string printable ASCII with no quote or backslash (so its JSON text is itself in
# quotes: nothing escaped), whole numbers unsigned and without leading zeros, as JSON
# writes them. Such a text is read with one match, and it is the configuration's own text
# when validating changes nothing; any other text is read by json. (Possessive loops over
# a negated class: the quickest match; the text is decoded as Latin-1, so \xff is the
# largest character.)
_PLAIN = r'[^"\\\x00-\x1f\x7f-\xff]*+'
_PLAIN_CONFIG = re.compile(
    f'{{"product": "({_PLAIN})", "tier": "({_PLAIN})", "interval": "({_PLAIN})", '
    f'"currency": "({_PLAIN})", "contacts": (null|0|[1-9][0-9]{{0,17}}+), '
    f'"seats": (0|[1-9][0-9]{{0,17}}+), "addons": \\[((?:"{_PLAIN}"(?:, "{_PLAIN}")*+)?+)\\]}}'
).fullmatch


def plain_config(text: str) -> Configuration | None:
    """The configuration (not yet validated) whose JSON text is `text`, written as
    json.dumps writes one (_PLAIN_CONFIG); None for any other text, which json reads."""
    match = _PLAIN_CONFIG(text)
    if match is None:
        return None
    product, tier, interval, currency, contacts, seats, addons = match.groups()
    # No string holds a quote: '", "' is only ever between two codes.
    return Configuration(product, tier, interval, currency,
                         None if contacts == "null" else int(contacts), int(seats),
                         tuple(addons[1:-1].split('", "')) if addons else ())


class Known:
    """A configuration as sent, once read, validated and priced: what every later line
    that sends it again needs, found with one lookup. Its JSON texts are made when first
    needed: half the configurations are only ever a current one, whose price is not
    written."""

    __slots__ = ("config", "config_text", "price", "price_text")

    def __init__(self, config: Configuration, price: Price) -> None:
        self.config, self.price = config, price
        self.price_text: str | None = None
        self.config_text: str | None = None
