"""CPU a renewal costs, client and PostgreSQL server apart (issue 14, goal 2).

One process runs `renewal.run` over N due subscriptions (`renewal.py`'s seed, PostgreSQL,
the sandbox card network in-process), then prints per renewal: the wall time, the client's
CPU (`process_time`: canone, psycopg and the sandbox's SQLite) and the CPU of the run's
PostgreSQL backends (utime + stime in /proc of every backend of the bench database, before
and after; PostgreSQL on this machine). CPU time moves far less with the machine's load
than wall time, so two trees can be compared by running this script with each tree's
interpreter, alternated:

    .venv/bin/python bench/renewal_cpu.py [N] [--rounds R] [--profile OUT]

`--profile OUT`: the run under cProfile, its stats written to OUT (pstats format).
`--callgrind`: under `valgrind --tool=callgrind --instr-atstart=no`, count the
instructions of the run alone (instrumentation turned on and off around it): the client's
work a renewal with no noise from the machine's load.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import renewal as bench
from sqlalchemy import text

from canone.db.database import Database
from canone.integrations.payments import SandboxGateway
from canone.services import renewal

TICK = os.sysconf("SC_CLK_TCK")


def backend_seconds(database: Database) -> dict[int, float]:
    """CPU seconds so far of each backend of the database, asked on a connection of its
    own (not one of the run's pool)."""
    with psycopg.connect(bench._libpq(database.url), autocommit=True) as connection:
        pids = [pid for (pid,) in connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()")]
    spent = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except FileNotFoundError:
            continue
        spent[pid] = (int(fields[11]) + int(fields[12])) / TICK
    return spent


def instrument(on: bool) -> None:
    """Callgrind's instrumentation of this process on or off (`--callgrind`)."""
    subprocess.run(["callgrind_control", "-i", "on" if on else "off", str(os.getpid())],
                   check=True, capture_output=True)


def one_run(count: int, profile: str | None, callgrind: bool = False
            ) -> tuple[float, float, float]:
    """(wall, client CPU, server CPU) in ms a renewal."""
    with tempfile.TemporaryDirectory() as tmp, bench.postgres_database() as database:
        clock = bench.ManualClock(bench.DUE)
        gateway = SandboxGateway(str(Path(tmp) / "sandbox.db"), clock)
        bench.seed(database, gateway, count)
        with database.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        svc = bench.bench_services(database, clock, gateway)
        profiler = cProfile.Profile() if profile else None
        server = backend_seconds(database)
        wall, cpu = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        if callgrind:
            instrument(True)
        report = renewal.run(svc, own_process=True)
        if callgrind:
            instrument(False)
        if profiler is not None and profile:
            profiler.disable()
            profiler.dump_stats(profile)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        after = backend_seconds(database)
        assert report.renewed == count and report.collected == count, report
    server_cpu = sum(seconds - server.get(pid, 0.0) for pid, seconds in after.items())
    return 1000 * wall / count, 1000 * cpu / count, 1000 * server_cpu / count


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("count", type=int, nargs="?", default=10_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--profile", metavar="OUT")
    parser.add_argument("--callgrind", action="store_true")
    args = parser.parse_args()
    for _ in range(args.rounds):
        load = os.getloadavg()[0]
        wall, client, server = one_run(args.count, args.profile, args.callgrind)
        print(f"{args.count:,} renewals, load {load:.1f}: wall {wall:.3f} ms, client CPU "
              f"{client:.3f} ms, PostgreSQL CPU {server:.3f} ms a renewal", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
