"""The worked examples in shared/examples, as golden tests of `canone price`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT.parent / "shared" / "examples"
FREE = ("description", "message")  # texts the examples leave free


def comparable(value: object) -> object:
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items() if k not in FREE}
    if isinstance(value, list):
        return sorted((comparable(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return value


def unprefixed(result: dict) -> dict:
    if result.get("error"):
        result["error"]["field"] = result["error"]["field"].split(".")[-1]
    return result


def test_canone_price_answers_every_worked_example_exactly() -> None:
    if not EXAMPLES.is_dir():
        pytest.fail(f"{EXAMPLES} is missing: the shared examples must sit beside the repo")
    inputs = (EXAMPLES / "price-input.jsonl").read_text()
    expected = [json.loads(line) for line in (EXAMPLES / "price-expected.jsonl").open()]
    run = subprocess.run(
        [sys.executable, "-m", "canone", "price"], input=inputs, capture_output=True,
        text=True, check=True,
    )
    got = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(got) == len(expected)
    for number, (want, have) in enumerate(zip(expected, got, strict=True), start=1):
        assert comparable(unprefixed(have)) == comparable(unprefixed(want)), f"line {number}"
