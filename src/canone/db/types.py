"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Integer, Text
from sqlalchemy.types import TypeDecorator

# An auto-incrementing BIGINT key; SQLite only auto-increments an INTEGER PRIMARY KEY.
SERIAL = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """An instant: aware datetimes in, aware UTC datetimes out. SQLite keeps naive UTC text
    (which sorts and compares correctly); PostgreSQL keeps `timestamptz`."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: canone stores only aware instants")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def compact_encoder(default: Callable[[Any], Any] | None = None) -> Callable[[Any], str]:
    """`JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=default).encode`,
    the same text, from CPython's C encoder made once. `encode` (and `json.dumps` with
    options) makes a new one at every call, with a dict of the containers met to catch a
    circular reference, which no record has (one would recurse until RecursionError):
    1-4 us of the 3-8 a document costs, and the billing run writes a dozen a renewal."""
    python = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=default)
    if c_make_encoder is None:  # a Python without the C encoder
        return python.encode
    encoder = c_make_encoder(None, python.default, encode_basestring, None, ":", ",",
                             False, False, True)

    def encode(value: Any) -> str:
        return "".join(encoder(value, 0))
    return encode


_encode = compact_encoder()
encode_json = _encode  # as JSONText writes it (a query may match a fragment of it)


class EncodedJSON(str):
    """A document `encode_json` has already encoded, which `JSONText` writes as it is: one
    that many rows share (the seller of every invoice of a billing run) is encoded once."""


class JSONText(TypeDecorator[Any]):
    """A JSON document kept as text, so it reads back exactly as written on both backends."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return str(value) if isinstance(value, EncodedJSON) else _encode(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(value)
