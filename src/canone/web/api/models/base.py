"""What the API's models share: field types with their limits, strict request bodies, and
problem details."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated

from annotated_types import GroupedMetadata
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
)

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


def clean_text(value: str) -> str:
    """Text the database can keep: no NUL characters, no lone surrogates."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def _in_range_date(value: date) -> date:
    if not 1900 <= value.year <= 2999:
        raise ValueError("must be a date between the years 1900 and 2999")
    return value


def _utc_instant(value: datetime) -> datetime:
    """A naive datetime is taken as UTC."""
    if not 2000 <= value.year <= 2999:
        raise ValueError("must be an instant between the years 2000 and 2999")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class Text(GroupedMetadata):
    """A text field's limits, and text the database can keep (`clean_text`). Most text
    fields must not be empty."""

    max_length: int
    min_length: int = 1

    def __iter__(self) -> Iterator[object]:
        yield from StringConstraints(min_length=self.min_length, max_length=self.max_length)
        yield AfterValidator(clean_text)


Email = Annotated[str, Text(min_length=3, max_length=320)]
Name = Annotated[str, Text(max_length=200)]
Password = Annotated[str, Text(min_length=8, max_length=1024)]
Reason = Annotated[str, Text(min_length=0, max_length=500)]
Message = Annotated[str, Text(min_length=0, max_length=10_000)]
Url = Annotated[str, Text(max_length=2000)]

Code = Annotated[str, Text(max_length=64)]
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
Count = Annotated[int, Strict(), Field(ge=0, le=1_000_000_000)]
Day = Annotated[date, AfterValidator(_in_range_date)]
Instant = Annotated[datetime, AfterValidator(_utc_instant)]
Amount = Annotated[str, Field(pattern=r"^-?[0-9]+\.[0-9]{2}$", examples=["48.00"],
                              description="An amount with exactly two decimals.")]


class Strict_(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details; `type` is stable (urn:canone:problem:<code>)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["urn:canone:problem:invalid_field"])
    title: str
    status: int
    detail: str
    field: str | None = None
    errors: list[FieldError] | None = None
