"""`bench/portal.py --baseline DIR`: goal 4 of issue 14 checked against older code measured
in the same run, not against numbers recorded on another day (the machine's speed moves from
session to session: the 2026-11-26 p95s could not be reached by the 11-26 code itself later).

DIR is a checkout of the older code with its own venv (`uv sync --frozen`). Each run is a
fresh process of one side running its own checkout's `bench/portal.py` `run(url, n)`, so
each side seeds through its own services and builds its app as its own code does; the two
sides alternate (ABBA), each on a fresh database, and each run of this code is divided by
the older code's run next to it.
"""

from __future__ import annotations

import json
import secrets
import statistics
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import goals
import psycopg
from sqlalchemy.engine import make_url

from canone.db.database import normalise_url

Results = dict[str, list[float]]
THIS = Path(__file__).resolve().parents[1]
KEYS = (("GET /billing", "page"), ("POST /billing/quote", "quote"))
# Run inside the checkout measured: its bench/portal.py, its canone, its venv.
DRIVER = ("import json, sys; sys.path.insert(0, 'bench'); import portal; "
          "json.dump(portal.run(sys.argv[1], int(sys.argv[2])), sys.stdout)")


def commit_of(checkout: Path) -> str:
    return subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()


@contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """A scratch PostgreSQL database on `server` for one run ("" for SQLite: `run` makes a
    file of its own). The two sides' migrations differ, so they never share a database."""
    if not server:
        yield ""
        return
    url = make_url(normalise_url(server))
    name = f"canone_portal_{secrets.token_hex(4)}"
    admin = url.set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    try:
        yield url.set(database=name).render_as_string(False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]


def measured(checkout: Path, server: str, n: int) -> Results:
    """One run of `checkout`'s own benchmark in a fresh process."""
    with fresh_database(server) as url:
        done = subprocess.run([str(checkout / ".venv" / "bin" / "python"), "-c", DRIVER,
                               url, str(n)], cwd=checkout, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{checkout}: the benchmark failed:\n{done.stderr[-3000:]}")
    results: Results = json.loads(done.stdout)
    return results


def alternated(baseline: Path, server: str, n: int, runs: int) -> tuple[list[Results],
                                                                         list[Results]]:
    """`runs` runs of each side, in the order old, new, new, old, old, new, ... so that a
    slower stretch of the machine falls on both sides alike."""
    old: list[Results] = []
    new: list[Results] = []
    for i in range(runs):
        sides = [(baseline, old), (THIS, new)]
        for checkout, into in sides if i % 2 == 0 else sides[::-1]:
            into.append(measured(checkout, server, n))
    return old, new


def verdicts(old: list[Results], new: list[Results], backend: str, commit: str,
             p95: Callable[[list[float]], float]) -> list[goals.Verdict]:
    """Each request's server p95 over the older code's in the same run, at most 1."""
    return [goals.verdict(
        goals.Goal(f"portal {backend} {key}", f"server p95 ÷ {commit}'s in the same run", 1.0,
                   lower_is_better=True),
        goals.ratios([p95(run[key]) for run in new], [p95(run[key]) for run in old]))
        for _, key in KEYS]


def table(old: list[Results], new: list[Results], backend: str, commit: str,
          p95: Callable[[list[float]], float]) -> str:
    """The p95 of each run and the medians, and the CPU per request, older -> this code."""
    def runs(side: list[Results], key: str) -> str:
        values = [p95(run[key]) for run in side]
        return (f"**{statistics.median(values):.2f}** "
                f"({', '.join(f'{value:.2f}' for value in values)})")

    def cpu(side: list[Results], key: str) -> float:
        return statistics.median(run[f"{key} cpu"][0] for run in side)

    lines = [f"Against {commit} in the same run on {backend}, {len(new)} runs each, "
             "alternated; server p95 ms, median (runs):", "",
             f"| request | {commit} p95 ms | this code p95 ms | CPU ms per request, "
             f"{commit} -> this code |", "|---|---|---|---|"]
    lines += [f"| {label} | {runs(old, key)} | {runs(new, key)} | "
              f"{cpu(old, key):.2f} -> {cpu(new, key):.2f} |" for label, key in KEYS]
    return "\n".join(lines) + "\n"
