"""Benchmark of `canone price` (issue 2): lines per second over 20,000 mixed JSON Lines.

Generates the input deterministically (mostly plan changes, some targets alone, a few
invalid lines), then runs, `--runs` times each (3) and alternating:
  (a) `python -m canone price < input`                    the real command
  (b) `python -c <json.loads + json.dumps per line>`      the baseline: parse and re-serialise
  (c) `python -m canone price < /dev/null`                (a)'s start-up alone
Every run is a fresh subprocess, start-up included, its output read through a pipe.

Two environments: Python's defaults (bytecode cache on, in a private temporary
PYTHONPYCACHEPREFIX filled by a warm-up run; stdout block-buffered), which is the headline,
and this sandbox's environment as it is (PYTHONDONTWRITEBYTECODE=1: every module compiled
at every start; PYTHONUNBUFFERED=1), for comparison. Prints the medians, their ratio and
CPU seconds, and rewrites the "## canone price" section of bench/RESULTS.md (other sections
are kept). Issue 14's goal: the median over the runs of canone's lines/s ÷ the baseline's
of the same run >= 0.35 (Python's defaults); the last line says whether it is met and by how
much, and the exit code is 1 when it is not. `--quick`: 2,000 lines, nothing written.

    .venv/bin/python bench/price.py [--lines N] [--runs K] [--seed S] [--quick] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import goals
import record

from canone.billing.catalog import Catalog, default_catalog

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## canone price"
GOAL = 20_000  # lines per second (issue 2)
GOAL_RATIO = goals.Goal(  # issue 14: a share of the JSON round trip of the same lines
    "price", "lines/s ÷ JSON round-trip baseline lines/s", 0.35)

BASELINE = (
    "import sys, json\n"
    "out = sys.stdout\n"
    "for line in sys.stdin:\n"
    "    if line.strip():\n"
    "        try:\n"
    "            value = json.loads(line)\n"
    "        except ValueError as exc:\n"
    "            value = {'error': str(exc)}\n"
    "        out.write(json.dumps(value))\n"
    "        out.write('\\n')\n"
)


# -- input generation ----------------------------------------------------------------------


def random_config(rng: random.Random, catalog: Catalog) -> dict[str, Any]:
    product = rng.choice(list(catalog.products.values()))
    tier = rng.choice(list(product.tiers))
    plan = product.tiers[tier]
    contacts = rng.choice(catalog.contact_steps[:5]) if product.has_contacts else None
    seats = rng.randint(1, plan.max_seats or 12)
    addons = [
        code for code, addon in catalog.addons.items()
        if addon.is_available(product.code, tier) and rng.random() < 0.25
    ]
    return {
        "product": product.code, "tier": tier, "interval": rng.choice(["month", "month", "year"]),
        "currency": rng.choice(catalog.currencies), "contacts": contacts, "seats": seats,
        "addons": addons,
    }


def changed(rng: random.Random, catalog: Catalog, current: dict[str, Any]) -> dict[str, Any]:
    """The current configuration with one or two edits, as a user on the billing page makes."""
    target = dict(current, addons=list(current["addons"]))
    for _ in range(rng.choice([1, 1, 2])):
        edit = rng.choice(["tier", "contacts", "seats", "seats", "addon", "interval", "bundle"])
        product = catalog.products[target["product"]]
        if edit == "tier":
            target["tier"] = rng.choice(list(product.tiers))
        elif edit == "contacts" and product.has_contacts:
            target["contacts"] = rng.choice(catalog.contact_steps[:5])
        elif edit == "seats":
            target["seats"] = max(1, target["seats"] + rng.choice([-2, -1, 1, 2, 5]))
        elif edit == "addon":
            if target["addons"] and rng.random() < 0.3:
                target["addons"].pop()
            else:
                free = [c for c, a in catalog.addons.items()
                        if a.is_available(target["product"], target["tier"])
                        and c not in target["addons"]]
                if free:
                    target["addons"].append(rng.choice(free))
        elif edit == "interval":
            target["interval"] = "year" if target["interval"] == "month" else "month"
        elif edit == "bundle" and target["product"] != "bundle":
            target["product"] = "bundle"
            target["tier"] = target["tier"] if target["tier"] != "starter" else "plus"
            target["contacts"] = target["contacts"] or 2500
    return target


def invalid_line(rng: random.Random, catalog: Catalog) -> str:
    config = random_config(rng, catalog)
    broken = rng.choice([
        lambda c: c.update(seats="3"),
        lambda c: c.update(tier="gold"),
        lambda c: c.update(contacts=1234) if c["contacts"] else c.update(contacts=1000),
        lambda c: c.update(addons=["fax"]),
        lambda c: c.pop("product"),
    ])
    if rng.random() < 0.2:
        return '{"current": null, "target": {"product": "marketing"'  # truncated JSON
    broken(config)
    return json.dumps({"current": None, "target": config, "anchor": "2026-01-01",
                       "at": "2026-01-01"})


def generate(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    catalog = default_catalog()
    lines = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.03:
            lines.append(invalid_line(rng, catalog))
            continue
        anchor = date(2024, 1, 1) + timedelta(days=rng.randrange(0, 900))
        at = anchor + timedelta(days=rng.randrange(0, 800))
        current = random_config(rng, catalog)
        if roll < 0.18:
            request: dict[str, Any] = {"current": None, "target": current}
        else:
            request = {"current": current, "target": changed(rng, catalog, current)}
        request["anchor"] = anchor.isoformat()
        request["at"] = at.isoformat()
        lines.append(json.dumps(request))
    return lines


# -- measurement ---------------------------------------------------------------------------


@dataclass
class Series:
    """Repeated runs of one command: wall and CPU (user + system) seconds of each."""

    label: str
    argv: list[str]
    source: Path
    env: dict[str, str]
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def run(self) -> bytes:
        with self.source.open("rb") as stdin:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            done = subprocess.run(self.argv, stdin=stdin, capture_output=True, check=True,
                                  env=self.env)
            self.wall.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        return done.stdout

    def median(self) -> float:
        return statistics.median(self.wall)

    def cpu_median(self) -> float:
        return statistics.median(self.cpu)

    def walls(self) -> str:
        return ", ".join(f"{t:.3f}" for t in self.wall)


SANDBOX_VARIABLES = ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED")


def python_defaults(pycache: Path) -> dict[str, str]:
    """The environment without this sandbox's Python settings, with a private bytecode
    cache."""
    env = {k: v for k, v in os.environ.items() if k not in SANDBOX_VARIABLES}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def sandbox() -> dict[str, str]:
    """This sandbox's environment as it is, stating which of its Python settings are set."""
    return dict(os.environ)


def machine() -> str:
    return (f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), "
            f"{platform.machine()}, Linux {platform.release()}, "
            f"Python {platform.python_version()} ({platform.python_implementation()})")


def answer_mix(output: bytes) -> str:
    kinds: dict[str, int] = {}
    for answer in map(json.loads, output.splitlines()):
        kind = ("error" if answer["error"] else
                answer["change"]["kind"] if answer["change"] else "target only")
        kinds[kind] = kinds.get(kind, 0) + 1
    return ", ".join(f"{k} {v:,}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 2,000 lines, nothing written")
    parser.add_argument("--no-write", action="store_true", help="do not touch RESULTS.md")
    args = parser.parse_args()
    if args.quick:
        args.lines, args.no_write = 2_000, True

    lines = generate(args.lines, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        source, empty = Path(tmp) / "price-input.jsonl", Path(tmp) / "empty.jsonl"
        source.write_text("\n".join(lines) + "\n", "utf-8")
        empty.write_bytes(b"")
        default, as_is = python_defaults(Path(tmp) / "pycache"), sandbox()
        price_cmd = [sys.executable, "-m", "canone", "price"]
        base_cmd = [sys.executable, "-c", BASELINE]
        series = {
            "price": Series("canone price", price_cmd, source, default),
            "base": Series("baseline", base_cmd, source, default),
            "startup": Series("start-up", price_cmd, empty, default),
            "price here": Series("canone price, sandbox env", price_cmd, source, as_is),
            "base here": Series("baseline, sandbox env", base_cmd, source, as_is),
            "startup here": Series("start-up, sandbox env", price_cmd, empty, as_is),
        }
        Series("warm-up", price_cmd, source, default).run()  # fills the bytecode cache
        Series("warm-up", base_cmd, source, default).run()
        load_before = os.getloadavg()[0]
        for number in range(args.runs):
            for name, one in series.items():
                output = one.run()
                if one.source == source:
                    assert len(output.splitlines()) == len(lines), "one answer per line"
                if name == "price":
                    mix = answer_mix(output)
            price, base = series["price"], series["base"]
            print(f"run {number + 1}: canone price {len(lines) / price.wall[-1]:,.0f} lines/s, "
                  f"baseline {len(lines) / base.wall[-1]:,.0f} lines/s, start-up "
                  f"{series['startup'].wall[-1]:.3f} s; in the sandbox's environment: "
                  f"{len(lines) / series['price here'].wall[-1]:,.0f} and "
                  f"{len(lines) / series['base here'].wall[-1]:,.0f} lines/s")
        load = (load_before, os.getloadavg()[0])

    result = render(args, series, load, mix)
    print(result)
    if not args.no_write:
        record.write_section(SECTION, result)
        print(f"updated {record.RESULTS.relative_to(ROOT)}")
    return goals.finish([goal_verdict(series)])


def goal_verdict(series: dict[str, Series]) -> goals.Verdict:
    """Issue 14's goal: each run's rate over the baseline's of the same run (they alternate),
    with Python's defaults; the median of those ratios. Same lines, so the ratio of rates
    is the baseline's wall time over canone's."""
    price, base = series["price"], series["base"]
    return goals.verdict(GOAL_RATIO, goals.ratios([1 / t for t in price.wall],
                                                  [1 / t for t in base.wall]))


def render(args: argparse.Namespace, series: dict[str, Series], load: tuple[float, float],
           mix: str) -> str:
    n = args.lines
    price, base, startup = series["price"], series["base"], series["startup"]
    rate, base_rate = n / price.median(), n / base.median()
    verdict = "meets" if rate >= GOAL else "is below"
    work = price.median() - startup.median()
    settings = ", ".join(f"{k}={os.environ[k]}" for k in SANDBOX_VARIABLES if k in os.environ)

    def row(what: str, one: Series, lines: bool = True) -> str:
        per_second = f"{n / one.median():,.0f}" if lines else "-"
        per_cpu = f"{n / one.cpu_median():,.0f}" if lines else "-"
        return f"| {what} | {per_second} | {one.walls()} | {per_cpu} |"

    return f"""{SECTION}

- date: {date.today().isoformat()}
- machine: {machine()}; load average (1 min) {load[0]:.2f} before the runs, {load[1]:.2f}
  after (other sessions share the machine: wall times vary with it, CPU seconds less)
- command: `.venv/bin/python bench/price.py` ({n:,} lines, seed {args.seed}, {args.runs} runs
  of each, alternating; every run a fresh subprocess, start-up included, output through a
  pipe)
- input mix (answers): {mix}

With Python's defaults (bytecode cache, block-buffered stdout):

| what | median lines/s | wall seconds per run | median lines per CPU second |
|---|---:|---|---:|
| `python -m canone price` | **{rate:,.0f}** | {price.walls()} | {n / price.cpu_median():,.0f} |
{row("baseline: `json.loads` + `json.dumps` per line", base)}
{row("`canone price` start-up alone (empty input)", startup, lines=False)}

In this sandbox's environment as it is ({settings or "no Python settings"}):

| what | median lines/s | wall seconds per run | median lines per CPU second |
|---|---:|---|---:|
{row("`python -m canone price`", series["price here"])}
{row("baseline", series["base here"])}
{row("`canone price` start-up alone", series["startup here"], lines=False)}

Ratio canone price / baseline: **{rate / base_rate:.3f}** (per CPU second
{base.cpu_median() / price.cpu_median():.3f}). The goal of issue 2 is {GOAL:,} lines/s: this
run {verdict} it. Issue 14's goal, run by run against the baseline:
{goal_verdict(series).line()}.

Start-up is {startup.median():.3f} s of the {price.median():.3f} s median
run, so the lines themselves go at about {n / work:,.0f} lines/s.
"""


if __name__ == "__main__":
    sys.exit(main())
