"""Setting a frozen dataclass's fields in its own __init__, cheaply."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any


def slot_setters(cls: type) -> tuple[Callable[[Any, Any], None], ...]:
    """The `__set__` of each field's slot descriptor of the frozen, slotted dataclass `cls`,
    in field order. A frozen dataclass's generated __init__ sets each field with
    `object.__setattr__(self, name, value)`, which finds the descriptor by name every
    time; calling it directly does the same at about half the cost. An __init__ written
    with these must set every field, in order (tests compare it with the fields)."""
    return tuple(getattr(cls, field.name).__set__ for field in fields(cls))
