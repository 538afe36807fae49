"""Exactly once, as a renewal run must leave it (issue 14, goal 2): what bench/renewal_least.py
checks after each run, and its `--check` after a worker died mid-batch."""

from __future__ import annotations

from collections import Counter
from datetime import date

from canone.integrations.einvoice.fatturapa import progressive_code
from canone.services.ports import SUCCEEDED

YEAR = 2026  # of the invoice series the run numbers
PREFIX = "IT12345670017"  # the demo seller's transmitter, as in canone's files


def problems(count: int, invoices: list[tuple[str, date, str]], files: list[str],
             counters: tuple[int, int], versions: Counter[int], payments: dict[str, str],
             charges: list[tuple[str, str, str]] | None) -> list[str]:
    """What breaks "each subscription renewed once, each card charged once, numbers and
    progressives 1..N" in what a run left: `invoices` (subscription, period start, number),
    the files' names, the counters (invoice, SDI), how many subscriptions have each version
    (2: renewed once), the payments' charge id by key, the network's charges (key, charge
    id, status; None: no card charged)."""
    found = []
    expected = [f"{YEAR}-{k:06d}" for k in range(1, count + 1)]
    periods = Counter((sub, start) for sub, start, _ in invoices)
    if len(periods) != count or max(periods.values(), default=1) > 1:
        twice = sum(1 for n in periods.values() if n > 1)
        found.append(f"{len(periods)} of {count} (subscription, period) invoiced, {twice} twice")
    if versions != Counter({2: count}):
        found.append(f"subscriptions by version: {dict(versions)}, not all at 2 (renewed once)")
    numbers = sorted(number for _, _, number in invoices)
    if numbers != expected:
        missing, twice = set(expected) - set(numbers), len(numbers) - len(set(numbers))
        found.append(f"invoice numbers not 1..{count}: {len(missing)} missing "
                     f"({sorted(missing)[:3]}), {twice} given twice, {len(numbers)} in all")
    if sorted(files) != sorted(f"{PREFIX}_{progressive_code(k)}.xml"
                               for k in range(1, count + 1)):
        found.append(f"file progressives not 1..{count} ({len(set(files))} distinct of "
                     f"{len(files)})")
    if counters != (count, count):
        found.append(f"counters (invoices, SDI) at {counters}, not {count}")
    if len(payments) != count:
        found.append(f"{len(payments)} keys paid, not {count}")
    if charges is not None:
        by_subscription = Counter(key.split(":")[1] for key, _, _ in charges)
        twice = sum(1 for n in by_subscription.values() if n > 1)
        if len(charges) != count or twice:
            found.append(f"{len(charges)} cards charged for {count} renewals, "
                         f"{twice} subscriptions charged twice")
        if any(status != SUCCEEDED or payments.get(key, charge) != charge
               for key, charge, status in charges):
            found.append("a payment whose charge is not the network's first answer")
    return found
