"""`compact_encoder`: the text JSONEncoder(ensure_ascii=False, separators=(",", ":"))
writes, for any document (the JSON columns and the batch updates are written with it)."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from enum import StrEnum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from canone.db.types import compact_encoder, encode_json


class Status(StrEnum):
    PAID = "paid"


SCALARS = (st.none() | st.booleans() | st.integers() | st.floats() | st.text()
           | st.sampled_from([Status.PAID, 2**70, -0.0, math.inf, "\x00\x1f\"\\é€😀\u2028"]))
DOCUMENTS = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)
REFERENCE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


@given(DOCUMENTS)
def test_the_same_text_as_the_standard_encoder(document: object) -> None:
    assert encode_json(document) == REFERENCE.encode(document)


def test_its_default_and_its_refusals_are_the_standard_encoder_s() -> None:
    def instant(value: object) -> str:
        if isinstance(value, date):
            return value.isoformat()
        raise TypeError(f"{type(value).__name__} is not written")

    encode = compact_encoder(default=instant)
    rows = [{"c0": "sub_1", "c1": date(2026, 6, 1), "c2": datetime(2026, 6, 1, 22, tzinfo=UTC)}]
    assert encode(rows) == json.JSONEncoder(ensure_ascii=False, separators=(",", ":"),
                                            default=instant).encode(rows) == (
        '[{"c0":"sub_1","c1":"2026-06-01","c2":"2026-06-01T22:00:00+00:00"}]')
    with pytest.raises(TypeError, match="set is not written"):
        encode({"c1": {1}})
    with pytest.raises(TypeError, match="not JSON serializable"):
        encode_json({"when": date(2026, 6, 1)})
