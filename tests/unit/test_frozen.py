"""`quick_init`: the same dataclass, made faster; parameters, defaults, factories, frozen
attributes and equality as `@dataclass(frozen=True)` alone gives them."""

from __future__ import annotations

import inspect
import pickle
import typing
from dataclasses import FrozenInstanceError, InitVar, dataclass, field
from datetime import date

import pytest

from canone.billing.frozen import quick_init
from canone.services.records import Invoice, PaymentIntent


@dataclass(frozen=True)
class Plain:
    name: str
    seats: int = 1
    tags: list[str] = field(default_factory=list)
    note: str | None = field(kw_only=True, default=None)
    day: int = field(kw_only=True)


@quick_init
@dataclass(frozen=True)
class Quick:
    name: str
    seats: int = 1
    tags: list[str] = field(default_factory=list)
    note: str | None = field(kw_only=True, default=None)
    day: int = field(kw_only=True)


@quick_init
@dataclass(frozen=True)
class Early:
    later: Later  # a class the module defines after this one


class Later:
    pass


def test_the_same_parameters_defaults_and_factories() -> None:
    assert str(inspect.signature(Quick)) == str(inspect.signature(Plain))
    made = Quick("a", day=3)
    assert (made.name, made.seats, made.tags, made.note, made.day) == ("a", 1, [], None, 3)
    assert made.tags is not Quick("b", day=1).tags  # a new list each time
    assert vars(Quick("a", 2, ["x"], note="n", day=4)) == vars(Plain("a", 2, ["x"], note="n",
                                                                      day=4))
    with pytest.raises(TypeError):
        Quick("a")  # type: ignore[call-arg]  # day is required
    with pytest.raises(TypeError):
        Quick("a", 1, [], None, 4)  # type: ignore[misc]  # note and day by keyword only


def test_still_frozen_equal_and_picklable() -> None:
    made, again = Quick("a", day=3, note="n"), Quick("a", day=3, note="n")
    with pytest.raises(FrozenInstanceError):
        made.name = "b"  # type: ignore[misc]
    assert made == again and made != Quick("a", day=3)
    assert pickle.loads(pickle.dumps(made)) == made
    assert repr(made) == "Quick(name='a', seats=1, tags=[], note='n', day=3)"


def test_records_keep_their_signatures() -> None:
    assert list(inspect.signature(PaymentIntent).parameters)[-3:] == [
        "result", "provider_id", "password_hash"]
    kw_only = [name for name, p in inspect.signature(Invoice).parameters.items()
               if p.kind is p.KEYWORD_ONLY]
    assert kw_only == ["subtotal", "tax_lines", "issued_on", "customer", "seller"]


def test_slots_and_post_init_are_refused() -> None:
    @dataclass(frozen=True, slots=True)
    class Slotted:
        name: str

    @dataclass(frozen=True)
    class Checked:
        name: str

        def __post_init__(self) -> None:
            pass

    @dataclass(frozen=True)
    class Initialised:
        name: str
        seed: InitVar[int]

    for cls in (Slotted, Checked, Initialised):
        with pytest.raises(TypeError):
            quick_init(cls)


def test_the_init_annotations_resolve_as_the_dataclass_ones_do() -> None:
    assert typing.get_type_hints(Quick.__init__) == typing.get_type_hints(Plain.__init__)
    assert typing.get_type_hints(Invoice.__init__)["issued_on"] is date
    assert typing.get_type_hints(Early.__init__)["later"] is Later
