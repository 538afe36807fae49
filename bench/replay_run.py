"""Running bench/api_rows.py's replays and bench/api_least.py's (issue 14, goal 1).

canone served on a scratch database with accounts and confirmed pairs in it (`prepared`);
wrk driving preview + confirm pairs (bench/api_rows.lua) against canone or a replay; the
stack floor measured in the same run; and the table of pairs/s and CPU a pair of each.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import stack_floor

import api
from canone.db.database import Database

PAIRS = Path(__file__).with_name("api_rows.lua")  # the pairs, as bench/api.py makes them


def cpu_of(server_pid: int, url: str) -> dict[str, float]:
    """CPU seconds so far of the server's processes and of the PostgreSQL backends connected
    to `url`'s database, each by its pid (all PostgreSQL's processes would count the other
    work on the machine's server too; its WAL writer and checkpointer are left out)."""
    with api.psycopg.connect(api._libpq(url), autocommit=True) as connection:
        pids = [row[0] for row in connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND "
            "pid <> pg_backend_pid()")]
    found = {"server": api.cpu_by_group(server_pid, set())["server"]}
    for pid in pids:
        with contextlib.suppress(OSError):  # (gone since)
            found[f"postgres {pid}"] = api._stat(pid)[2]
    return found


def spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """`cpu_of`'s difference: the server's, and PostgreSQL's backends' (one that came since
    counts whole, one that went is lost)."""
    return {"server": after["server"] - before["server"], "postgres": sum(
        cpu - before.get(pid, 0.0) for pid, cpu in after.items() if pid != "server")}


def wrk_pairs(base: str, url: str, key: str, seconds: float, server_pid: int
              ) -> dict[str, float]:
    """Confirmed pairs per second wrk drove (one connection per account), and the CPU
    milliseconds per pair of the server's processes and of PostgreSQL's backends."""
    with api.psycopg.connect(api._libpq(url)) as connection:
        found = connection.execute("SELECT account_id, config FROM subscriptions "
                                   "ORDER BY account_id").fetchall()
    before = cpu_of(server_pid, url)
    run = subprocess.run(["wrk", "-t", str(len(found)), "-c", str(len(found)), "-d",
                          f"{seconds:g}s", "-s", str(PAIRS), base, "--", key, *(
                              f"{account}:{json.loads(config)['seats']}"
                              for account, config in found)], capture_output=True, text=True)
    used = spent(before, cpu_of(server_pid, url))
    counted = re.search(r"confirmed (\d+) failed (\d+)", run.stdout)
    took = re.search(r"requests in ([0-9.]+)s", run.stdout)
    if run.returncode or counted is None or took is None or int(counted.group(1)) == 0:
        raise RuntimeError(f"wrk drove no pairs\n{run.stdout}{run.stderr}")
    pairs = int(counted.group(1))
    if int(counted.group(2)):
        print("\n".join(line for line in run.stdout.splitlines() if ": " in line[:20]))
    return {"pairs_per_second": pairs / float(took.group(1)), "failed": int(counted.group(2)),
            **{f"cpu_{g}": 1000 * used[g] / pairs for g in ("server", "postgres")}}


def serving(env: dict[str, str], workers: int, app: str | None = None) -> tuple[Any, str]:
    """canone served as bench/api.py serves it, or a replay's `app` (module:factory of
    bench/) as the floor is served."""
    port = api.free_port()
    command = (stack_floor.uvicorn_command(app, port, workers) if app
               else [sys.executable, "-m", "canone", "serve", "--port", str(port),
                     "--workers", str(workers)])
    return api.serving(command, env, port), f"http://127.0.0.1:{port}"


def replayed(args: argparse.Namespace, url: str, env: dict[str, str], key: str, app: str,
             extra: dict[str, str]) -> dict[str, float]:
    """A replay's `app` served with `extra` in its environment, driven by wrk."""
    server, base = serving({**env, "FLOOR_DATABASE_URL": api._libpq(url), **extra},
                           args.workers, app)
    with server as process:
        wrk_pairs(base, url, key, 2, process.pid)  # every worker's connections opened
        time.sleep(1)  # its last pairs end before wrk reads the seats to ask for again
        return wrk_pairs(base, url, key, args.seconds, process.pid)


def floor(args: argparse.Namespace) -> dict[str, float]:
    """stack_floor's pairs/s (one /pair-work + one /noop a pair) and its CPU a pair."""
    cpu: dict[str, dict[str, float]] = {}  # by endpoint: "server", "postgres <pid>"s
    with api.scratch_database("canone_bench_floor") as floor_url:
        found = stack_floor.measure(api._libpq(floor_url), args.workers, args.seconds,
                                    endpoints=stack_floor.RATIO_ENDPOINTS, cpu=cpu,
                                    cpu_of=lambda pid: cpu_of(pid, floor_url))
    return {"pairs_per_second": stack_floor.pairs_at_most(found),
            "cpu_server": sum(used["server"] for used in cpu.values()),
            "cpu_postgres": sum(ms for used in cpu.values() for group, ms in used.items()
                                if group.startswith("postgres"))}


def report(run: dict[str, dict[str, float]]) -> None:
    """Pairs/s against the floor's, and the CPU milliseconds a pair of the server's processes
    and of PostgreSQL (far less moved by the machine's load than pairs/s): the floor's as a
    share of each."""
    floor = run["floor"]
    print(f"{'':31} pairs/s  ÷ floor  CPU ms a pair: server / PostgreSQL  floor's ÷ its")
    for name, found in sorted(run.items(), key=lambda item: -item[1]["pairs_per_second"]):
        server, postgres = found["cpu_server"], found["cpu_postgres"]
        print(f"{name:31} {found['pairs_per_second']:7.1f} "
              f"{found['pairs_per_second'] / floor['pairs_per_second']:8.3f} {server:20.1f} "
              f"/ {postgres:4.1f} {floor['cpu_server'] / server:16.2f} (server), "
              f"{(floor['cpu_server'] + floor['cpu_postgres']) / (server + postgres):.2f} (all)"
              + (f"; failed {found['failed']:.0f}" if found.get("failed") else ""))
    canone = [name for name in run if name.startswith("canone, ")]
    if "replay" in run and canone:
        replay = run["replay"]["pairs_per_second"]
        print("canone ÷ replay: " + ", ".join(
            f"{run[n]['pairs_per_second'] / replay:.3f} ({n.split(', ')[1]})"
            for n in canone), flush=True)


def medians(runs: list[dict[str, dict[str, float]]]) -> None:
    """Over the runs, each one's medians: pairs/s, its ratio to its own run's floor, CPU ms a
    pair (server / PostgreSQL), and the floor's CPU a pair ÷ its own (server and all)."""
    def median(values: list[float]) -> float:
        return statistics.median(values)

    print(f"medians of {len(runs)} runs{'':10} pairs/s  ÷ floor (each run's)  server / "
          "PostgreSQL ms  floor's CPU ÷ its: server, all")
    for name in sorted(runs[0], key=lambda n: -median([r[n]["pairs_per_second"] for r in runs])):
        def of(what: str, name: str = name) -> list[float]:
            return [run[name][what] for run in runs]

        ratios = [run[name]["pairs_per_second"] / run["floor"]["pairs_per_second"]
                  for run in runs]
        server = [run["floor"]["cpu_server"] / run[name]["cpu_server"] for run in runs]
        total = [(run["floor"]["cpu_server"] + run["floor"]["cpu_postgres"])
                 / (run[name]["cpu_server"] + run[name]["cpu_postgres"]) for run in runs]
        print(f"{name:37} {median(of('pairs_per_second')):7.1f} {median(ratios):6.3f} ("
              + ", ".join(f"{r:.3f}" for r in ratios) + f") {median(of('cpu_server')):5.1f} / "
              f"{median(of('cpu_postgres')):4.1f} {median(server):6.2f}, {median(total):.2f}",
              flush=True)


@contextlib.contextmanager
def prepared(args: argparse.Namespace) -> Iterator[tuple[str, dict[str, str], str,
                                                         list[str], tuple[str, int]]]:
    """A scratch canone database with `args.accounts` accounts signed up and confirmed
    pairs in it (the replays' templates), and canone serving it: the database URL, the
    environment, an operator API key, the accounts, and canone's base URL and pid."""
    with tempfile.TemporaryDirectory(prefix="canone-bench-rows-") as tmp, \
            api.scratch_database("canone_bench_rows") as url:
        Database(url).migrate()
        env = {**api.environment(url, Path(tmp)), "BENCH_TMP": tmp}
        key = api.operator_key(url, Path(tmp))
        server, base = serving(env, args.workers)
        with server as process:  # (started once, as bench/api.py does)
            accounts = api.sign_up_accounts(base, key, args.accounts)
            # warm, and the rows the replay takes as templates
            api.drive(base, key, accounts, args.clients, 2, process.pid, None)
            yield url, env, key, accounts, (base, process.pid)


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8, help="bench/api.py's, for canone")
    parser.add_argument("--accounts", type=int, default=16, help="one wrk connection each")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--runs", type=int, default=1)
    return parser.parse_args()
