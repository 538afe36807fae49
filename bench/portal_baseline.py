"""`bench/portal.py --baseline DIR`: goal 4 of issue 14 checked against older code measured
in the same run, not against numbers recorded on another day (the machine's speed moves from
session to session: the 2026-11-26 p95s could not be reached by the 11-26 code itself later).

DIR is a checkout of the older code with its own venv (`uv sync --frozen`). A run is one
fresh process of each side, each on a fresh database, running its own checkout's
`bench/portal.py` `run(url, n)`, so each side seeds through its own services and builds its
app as its own code does. The two processes take turns every `CHUNK` requests (`lockstep`),
the other one waiting on a pipe meanwhile: this machine's speed moves by tens of percent
from one minute to the next, and whole runs alternated one after the other (how it was
measured until session 10) let a slow stretch fall on one side's run alone. Each run of
this code is divided by the older code's run beside it; which side starts alternates."""

from __future__ import annotations

import json
import secrets
import statistics
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import goals
import psycopg
from sqlalchemy.engine import make_url

from canone.db.database import normalise_url

Results = dict[str, list[float]]
THIS = Path(__file__).resolve().parents[1]
KEYS = (("GET /billing", "page"), ("POST /billing/quote", "quote"))
CHUNK = 100  # requests a side runs before the other takes its turn
# The first request of a turn meets caches the other side cooled: one in CHUNK, so that a
# p95 does not fall on them (with 20 they were 5 % of the samples, where a p95 falls).
# Run inside the checkout measured: its bench/portal.py, its canone, its venv. Its `timed`
# (which `run` calls for the warm-up and the measured requests) says "ready" and waits for
# a line on stdin before every CHUNK requests; the results come last, after "results ".
DRIVER = f"""import json, sys
sys.path.insert(0, 'bench')
import portal
measure = portal.timed
def timed(call, n):
    samples = []
    for start in range(0, n, {CHUNK}):
        print('ready', flush=True)
        sys.stdin.readline()
        samples += measure(lambda i: call(start + i), min({CHUNK}, n - start))
    return samples
portal.timed = timed
print('results ' + json.dumps(portal.run(sys.argv[1], int(sys.argv[2]))), flush=True)
"""


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


def lockstep(commands: list[tuple[list[str], Path]]) -> list[str]:
    """Run the commands (argv, cwd) in turn: each starts and runs up to its first "ready",
    then each in order is told to go on to its next "ready" (or its "results …" line),
    round after round, only one running at a time. What each printed after "results ", in
    the commands' order; any other line is an error."""
    processes: list[tuple[subprocess.Popen[str], IO[str]]] = []
    try:
        for argv, cwd in commands:  # one seeds at a time, too
            # stderr to a file: a pipe read only at the end could fill and stall a side.
            stderr: IO[str] = tempfile.TemporaryFile("w+")  # noqa: SIM115 (see `finally`)
            process = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, stderr=stderr, text=True)
            processes.append((process, stderr))
            if (line := _next_line(process, stderr, cwd)) != "ready":
                raise SystemExit(f"{cwd}: the benchmark said {line[:200]!r}, not 'ready'")
        last = [""] * len(processes)
        while "" in last:
            for i, (process, errors) in enumerate(processes):
                if last[i] == "":
                    assert process.stdin is not None
                    process.stdin.write("\n")
                    process.stdin.flush()
                    line = _next_line(process, errors, commands[i][1])
                    if line != "ready":
                        found, _, last[i] = line.partition("results ")
                        if found or not last[i]:
                            raise SystemExit(f"{commands[i][1]}: the benchmark said "
                                             f"{line[:200]!r}")
        return last
    finally:  # a side that failed leaves the other waiting: it is stopped
        for process, errors in processes:
            if process.poll() is None:
                process.kill()
            process.wait()
            errors.close()


def _next_line(process: subprocess.Popen[str], errors: IO[str], cwd: Path) -> str:
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait()
        errors.seek(0)
        raise SystemExit(f"{cwd}: the benchmark failed:\n{errors.read()[-3000:]}")
    return line.rstrip("\n")


def interleaved(baseline: Path, server: str, n: int, runs: int
                ) -> tuple[list[Results], list[Results]]:
    """`runs` runs; in each, a fresh process of either side, taking turns every CHUNK
    requests (`lockstep`), the older code first in even runs and this code in odd ones."""
    old: list[Results] = []
    new: list[Results] = []
    python = Path(".venv") / "bin" / "python"
    for i in range(runs):
        with fresh_database(server) as older_url, fresh_database(server) as this_url:
            sides = [(baseline, older_url, old), (THIS, this_url, new)]
            if i % 2:
                sides.reverse()
            outputs = lockstep([([str(checkout / python), "-c", DRIVER, url, str(n)], checkout)
                                for checkout, url, _ in sides])
        for (_, _, into), output in zip(sides, outputs, strict=True):
            into.append(json.loads(output))
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

    lines = [f"Against {commit} in the same run on {backend}, {len(new)} runs, the two "
             f"sides taking turns every {CHUNK} requests; server p95 ms, median (runs):", "",
             f"| request | {commit} p95 ms | this code p95 ms | CPU ms per request, "
             f"{commit} -> this code |", "|---|---|---|---|"]
    lines += [f"| {label} | {runs(old, key)} | {runs(new, key)} | "
              f"{cpu(old, key):.2f} -> {cpu(new, key):.2f} |" for label, key in KEYS]
    return "\n".join(lines) + "\n"
