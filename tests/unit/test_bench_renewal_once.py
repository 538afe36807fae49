"""bench/renewal_once.py: what bench/renewal_least.py's runs and its `--check` call exactly
once. A renewal run left behind (invoices, files, counters, subscription versions, payments,
the card network's charges) is judged whole: each way of breaking it is reported."""

from __future__ import annotations

import importlib.util
from collections import Counter
from datetime import date
from pathlib import Path

_PATH = Path(__file__).resolve().parents[2] / "bench" / "renewal_once.py"
_SPEC = importlib.util.spec_from_file_location("bench_renewal_once", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
once = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(once)

JUNE = date(2026, 6, 1)


def left(count: int = 3) -> dict[str, object]:
    """What a good run of `count` renewals leaves."""
    keys = [f"renewal:sub_b{n:08d}:2026-06-01" for n in range(count)]
    return {
        "invoices": [(f"sub_b{n:08d}", JUNE, f"2026-{n + 1:06d}") for n in range(count)],
        "files": [f"IT12345670017_0000{n + 1}.xml" for n in range(count)],
        "counters": (count, count), "versions": Counter({2: count}),
        "payments": {key: f"ch_{n}" for n, key in enumerate(keys)},
        "charges": [(key, f"ch_{n}", "succeeded") for n, key in enumerate(keys)]}


def test_a_good_run_has_no_problem() -> None:
    assert once.problems(3, **left()) == []
    assert once.problems(3, **{**left(), "charges": None}) == []  # no card charged


def test_a_gap_in_the_invoice_numbers_is_reported() -> None:
    found = left()
    found["invoices"] = [*found["invoices"][:2], ("sub_b00000002", JUNE, "2026-000004")]
    assert once.problems(3, **found) == [
        "invoice numbers not 1..3: 1 missing (['2026-000003']), 0 given twice, 3 in all"]


def test_a_subscription_renewed_twice_is_reported() -> None:
    found = left()
    found["invoices"] = [*found["invoices"], ("sub_b00000000", JUNE, "2026-000004")]
    found["versions"] = Counter({2: 2, 3: 1})
    assert once.problems(3, **found) == [
        "3 of 3 (subscription, period) invoiced, 1 twice",
        "subscriptions by version: {2: 2, 3: 1}, not all at 2 (renewed once)",
        "invoice numbers not 1..3: 0 missing ([]), 0 given twice, 4 in all"]


def test_a_card_charged_again_under_another_key_is_reported() -> None:
    found = left()
    found["charges"] = [*found["charges"], ("renewal:sub_b00000001:2026-06-01x", "ch_9",
                                            "succeeded")]
    assert once.problems(3, **found) == [
        "4 cards charged for 3 renewals, 1 subscriptions charged twice"]


def test_a_payment_that_is_not_the_networks_first_answer_is_reported() -> None:
    found = left()
    found["payments"] = {**found["payments"], "renewal:sub_b00000001:2026-06-01": "ch_other"}
    assert once.problems(3, **found) == [
        "a payment whose charge is not the network's first answer"]


def test_a_progressive_given_twice_and_a_counter_left_on_are_reported() -> None:
    found = left()
    found["files"] = ["IT12345670017_00001.xml"] * 2 + ["IT12345670017_00003.xml"]
    found["counters"] = (3, 4)
    assert once.problems(3, **found) == [
        "file progressives not 1..3 (2 distinct of 3)",
        "counters (invoices, SDI) at (3, 4), not 3"]
