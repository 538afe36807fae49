"""Benchmark of the JSON API (issue 4): preview + confirm pairs per second over HTTP.

On a scratch PostgreSQL database it starts `canone serve` (uvicorn with httptools and
uvloop, --workers W), signs up accounts through the API, then drives plan changes (one
more seat each time) from C client processes (httpx, keep-alive, an Idempotency-Key on
every POST) for S seconds: each pair is POST …/subscription/preview then POST
…/subscription/confirm, which charges the sandbox card and writes the invoice, payment,
audit entries and events. It records confirmed changes per second, p50/p99 latency of the
pair and of each request, the CPU time the server workers, PostgreSQL and the clients used,
and the database transactions per pair (pg_stat_database).

In the same run: pgbench's built-in TPC-B on a scratch database (`pgbench -i`, then
`pgbench -c 4 -j 2 -T 20`), a profile of one worker under the same load (a sampler
thread inside a single-worker server reads every thread's stack every few milliseconds), and
the floor of the web stack itself (`bench/stack_floor.py`: the same uvicorn and PostgreSQL
with no billing in the app, driven by wrk; needs `apt-get install wrk`).

The measurement and the floor are taken `--runs` times (3), one after the other; issue 14's
goal is the median of the runs' ratios, pairs/s ÷ the floor's pairs/s (one `/pair-work` +
one `/noop` a pair, async psycopg) >= 0.50. The last line says whether it is met and by how
much; the exit code is 1 when it is not. `--quick` is a smoke run (well under a minute with
`--runs 1`; it writes nothing). Rewrites the "## API: preview + confirm" section of
bench/RESULTS.md (others are kept) from the median run.

    .venv/bin/python bench/api.py [--workers 2] [--clients 8] [--seconds 20] [--runs 3]
                                  [--accounts-per-client 2] [--pgbench-seconds 20]
                                  [--profile-seconds 15] [--floor-seconds 10]
                                  [--quick] [--no-write]

PostgreSQL: $CANONE_BENCH_POSTGRES_URL, else postgresql://postgres@127.0.0.1:5432/postgres.
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import goals
import httpx
import psycopg
import record
import stack_floor
from sqlalchemy.engine import make_url

from canone.db.database import Database, normalise_url

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## API: preview + confirm"
GOAL = 500  # pairs per second (issue 4)
GOAL_RATIO = goals.Goal(  # issue 14: pairs/s as a share of what the stack alone allows
    "api", "pairs/s ÷ async stack floor (one /pair-work + one /noop a pair)", 0.50)
SERVER = os.environ.get("CANONE_BENCH_POSTGRES_URL",
                        "postgresql://postgres@127.0.0.1:5432/postgres")
CONFIG = {"product": "marketing", "tier": "plus", "interval": "month", "currency": "EUR",
          "contacts": 1000, "seats": 1, "addons": []}
# The customer of an Italian seller's typical sale: a business in Italy, so that every
# confirmation pays for its Italian VAT line and its FatturaPA file (SPEC §8), and sign-up
# has the billing details a seller filing e-invoices requires.
BILLING_DETAILS = {"kind": "business", "legal_name": "Officina Verde S.r.l.",
                   "address": {"street": "Via Torino 10", "postcode": "20123",
                               "city": "Milano", "province": "MI", "country": "IT"},
                   "vat_id": "00743110157", "sdi_code": "M5UXCR1"}
TICK = os.sysconf("SC_CLK_TCK")


# -- the scratch databases ------------------------------------------------------------------


def _libpq(url: str) -> str:
    return make_url(normalise_url(url)).set(drivername="postgresql").render_as_string(False)


def _admin(sql: str) -> None:
    with psycopg.connect(_libpq(SERVER), autocommit=True) as admin:
        admin.execute(sql)  # type: ignore[arg-type]


@contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    name = f"{prefix}_{secrets.token_hex(4)}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(normalise_url(SERVER)).set(database=name).render_as_string(False)
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def transactions(url: str) -> int:
    name = make_url(url).database
    with psycopg.connect(_libpq(SERVER), autocommit=True) as admin:
        row = admin.execute("SELECT xact_commit + xact_rollback FROM pg_stat_database "
                            "WHERE datname = %s", (name,)).fetchone()
    return int(row[0]) if row else 0


# -- CPU accounting from /proc --------------------------------------------------------------


def _stat(pid: int) -> tuple[str, int, float]:
    """(command name, parent pid, CPU seconds) of a process."""
    text = Path(f"/proc/{pid}/stat").read_text()
    name = text[text.index("(") + 1:text.rindex(")")]
    fields = text[text.rindex(")") + 2:].split()
    return name, int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def cpu_by_group(server_pid: int, client_pids: set[int]) -> dict[str, float]:
    """CPU seconds so far of the server's process tree, of PostgreSQL and of the clients."""
    table: dict[int, tuple[str, int, float]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                table[int(entry)] = _stat(int(entry))
            except (OSError, ValueError):
                continue
    tree = {server_pid}
    changed = True
    while changed:
        before = len(tree)
        tree |= {pid for pid, (_, parent, _) in table.items() if parent in tree}
        changed = len(tree) != before
    groups = {"server": 0.0, "postgres": 0.0, "clients": 0.0}
    for pid, (name, _, cpu) in table.items():
        if pid in tree:
            groups["server"] += cpu
        elif name.startswith("postgres"):
            groups["postgres"] += cpu
        elif pid in client_pids:
            groups["clients"] += cpu
    return groups


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICK, sum(values) / TICK


# -- the server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def environment(url: str, tmp: Path) -> dict[str, str]:
    return {**os.environ, "CANONE_DATABASE_URL": url, "CANONE_SECRET_KEY": "bench-api-secret-key",
            "CANONE_SANDBOX_PATH": str(tmp / "sandbox.db"), "CANONE_TEST_MODE": ""}


@contextmanager
def serving(command: list[str], env: dict[str, str], port: int
            ) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(command, env=env, cwd=env["BENCH_TMP"])
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the server did not start")
            time.sleep(0.2)
        yield process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def operator_key(url: str, tmp: Path) -> str:
    result = subprocess.run([sys.executable, "-m", "canone", "apikey", "create", "--operator",
                             "--name", "bench"], env={**environment(url, tmp)}, check=True,
                            capture_output=True, text=True, cwd=tmp)
    return result.stdout.strip().splitlines()[-1]


def sign_up_accounts(base: str, key: str, count: int) -> list[str]:
    def one(n: int) -> str:
        body = {"name": f"Bench {n}", "timezone": "UTC", "locale": "en", "currency": "EUR",
                "billing_details": BILLING_DETAILS,
                "primary_admin": {"email": f"bench{n}-{uuid.uuid4().hex[:8]}@example.com",
                                  "name": "Bench", "password": "benchmark-password"},
                "subscription": CONFIG,
                "payment_method": {"number": "4242424242424242", "exp_month": 12,
                                   "exp_year": date.today().year + 3, "cvc": "123"}}
        with httpx.Client(timeout=60) as client:
            response = client.post(f"{base}/api/v1/accounts", json=body,
                                   headers={"Authorization": f"Bearer {key}",
                                            "Idempotency-Key": uuid.uuid4().hex})
        response.raise_for_status()
        account_id: str = response.json()["id"]
        return account_id

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, range(count)))


# -- the clients ----------------------------------------------------------------------------


def client_loop(base: str, key: str, accounts: list[str], start_at: float, stop_at: float,
                results: Any) -> None:
    """Preview one more seat, then confirm it, round-robin over `accounts`, until `stop_at`.
    Sends (pair seconds, preview seconds, confirm seconds, ok, start instant) per pair."""
    headers = {"Authorization": f"Bearer {key}"}
    seats = {}
    pairs: list[tuple[float, float, float, bool, float]] = []
    errors: collections.Counter[str] = collections.Counter()
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        for account in accounts:
            subscription = client.get(f"/api/v1/accounts/{account}/subscription").json()
            seats[account] = subscription["configuration"]["seats"]
        while time.time() < start_at:
            time.sleep(0.01)
        n = 0
        while (began := time.time()) < stop_at:
            account = accounts[n % len(accounts)]
            n += 1
            t0 = time.perf_counter()
            preview = client.post(f"/api/v1/accounts/{account}/subscription/preview",
                                  json={"target": {**CONFIG, "seats": seats[account] + 1}},
                                  headers={"Idempotency-Key": uuid.uuid4().hex})
            t1 = time.perf_counter()
            if preview.status_code != 200:
                errors[f"preview {preview.status_code}"] += 1
                continue
            confirm = client.post(f"/api/v1/accounts/{account}/subscription/confirm",
                                  json={"quote_token": preview.json()["quote_token"]},
                                  headers={"Idempotency-Key": uuid.uuid4().hex})
            t2 = time.perf_counter()
            ok = confirm.status_code == 200
            if ok:
                seats[account] = confirm.json()["subscription"]["configuration"]["seats"]
            else:
                errors[f"confirm {confirm.status_code}"] += 1
            pairs.append((t2 - t0, t1 - t0, t2 - t1, ok, began))
    results.put((os.getpid(), pairs, dict(errors)))


def drive(base: str, key: str, accounts: list[str], clients: int, seconds: float,
          server_pid: int, database_url: str | None) -> dict[str, Any]:
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    start_at = time.time() + 2.0  # every client connected and synchronised first
    stop_at = start_at + seconds
    shares = [accounts[i::clients] for i in range(clients)]
    processes = [context.Process(target=client_loop,
                                 args=(base, key, share, start_at, stop_at, results))
                 for share in shares]
    for process in processes:
        process.start()
    pids = {p.pid for p in processes if p.pid is not None}
    while time.time() < start_at:
        time.sleep(0.005)
    cpu0, busy0, tx0 = cpu_by_group(server_pid, pids), machine_busy(), (
        transactions(database_url) if database_url else 0)
    while time.time() < stop_at:
        time.sleep(0.05)
    cpu1, busy1 = cpu_by_group(server_pid, pids), machine_busy()
    collected = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join()
    time.sleep(1.5)  # PostgreSQL publishes its counters about once a second
    tx1 = transactions(database_url) if database_url else 0
    pairs = [pair for _, found, _ in collected for pair in found if pair[4] < stop_at]
    errors: collections.Counter[str] = collections.Counter()
    for _, _, found in collected:
        errors.update(found)
    confirmed = [p for p in pairs if p[3]]

    def percentile(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0

    cpu = {group: cpu1[group] - cpu0[group] for group in cpu0}
    return {
        "pairs_per_second": len(confirmed) / seconds,
        "requests_per_second": 2 * len(pairs) / seconds,
        "confirmed": len(confirmed), "failed": len(pairs) - len(confirmed),
        "errors": dict(errors),
        "pair_p50": percentile([p[0] for p in confirmed], 0.50),
        "pair_p99": percentile([p[0] for p in confirmed], 0.99),
        "preview_p50": percentile([p[1] for p in confirmed], 0.50),
        "preview_p99": percentile([p[1] for p in confirmed], 0.99),
        "confirm_p50": percentile([p[2] for p in confirmed], 0.50),
        "confirm_p99": percentile([p[2] for p in confirmed], 0.99),
        "cpu_ms_per_pair": {g: 1000 * v / max(1, len(confirmed)) for g, v in cpu.items()},
        "cpu_share": {g: v / max(1e-9, busy1[0] - busy0[0]) for g, v in cpu.items()},
        "machine_busy": (busy1[0] - busy0[0]) / max(1e-9, busy1[1] - busy0[1]),
        "transactions_per_pair": (tx1 - tx0) / max(1, len(pairs)) if database_url else None,
    }


# -- pgbench ------------------------------------------------------------------------------


def pgbench(seconds: int) -> float:
    with scratch_database("canone_bench_pgbench") as url:
        target = _libpq(url)
        subprocess.run(["pgbench", "-i", "-s", "10", "-q", target], check=True,
                       capture_output=True)
        run = subprocess.run(["pgbench", "-c", "4", "-j", "2", "-T", str(seconds), target],
                             check=True, capture_output=True, text=True)
    found = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", run.stdout)
    if found is None:
        found = re.search(r"tps = ([0-9.]+)", run.stdout)
    assert found is not None, run.stdout
    return float(found.group(1))


# -- the profile of one worker ------------------------------------------------------------------

IDLE = (("threading.py", "wait"), ("queue.py", "get"), ("selectors.py", "select"),
        ("threading.py", "_wait_for_tstate_lock"), ("_thread.py", "run"))


def _category(stack: list[tuple[str, str]]) -> str:
    """Where a busy thread's time goes, by the innermost frame we can name."""
    for filename, _ in reversed(stack):
        for marker, name in (("/psycopg/", "PostgreSQL round trips and psycopg"),
                             ("/sqlalchemy/", "SQLAlchemy (statements, rows)"),
                             ("canone/integrations/payments", "sandbox card network (SQLite)"),
                             ("/argon2/", "argon2"),
                             ("/pydantic", "pydantic (validation, serialisation)"),
                             ("/fastapi/", "FastAPI and Starlette"),
                             ("/starlette/", "FastAPI and Starlette"),
                             ("/anyio/", "thread-pool hand-offs (anyio)"),
                             ("/uvicorn/", "uvicorn (HTTP)"),
                             ("canone/billing/", "canone billing core"),
                             ("canone/services/", "canone services"),
                             ("canone/web/", "canone web layer"),
                             ("canone/db/", "canone db adapter")):
            if marker in filename:
                return name
    return "other (stdlib, event loop)"


def serve_profiled(port: int, out: str) -> None:
    """Run one uvicorn worker with a sampling profiler; write its report at exit."""
    import uvicorn

    samples: collections.Counter[str] = collections.Counter()
    functions: collections.Counter[str] = collections.Counter()
    total = [0, 0]  # busy thread samples, ticks
    stop = threading.Event()

    def sample() -> None:
        me = threading.get_ident()
        while not stop.wait(0.003):
            total[1] += 1
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                stack: list[tuple[str, str]] = []
                walker: Any = frame
                while walker is not None:
                    stack.append((walker.f_code.co_filename, walker.f_code.co_name))
                    walker = walker.f_back
                stack.reverse()
                leaf = stack[-1]
                if any(leaf[0].endswith(f) and leaf[1] == n for f, n in IDLE):
                    continue
                if leaf[1] in ("run_forever", "run_until_complete", "run") and (
                        "asyncio" in leaf[0] or "uvicorn" in leaf[0]):
                    continue
                total[0] += 1
                samples[_category(stack)] += 1
                seen = set()
                for filename, name in stack:
                    if "canone/" in filename:
                        label = f"{filename.split('canone/')[-1]}:{name}"
                        if label not in seen:
                            seen.add(label)
                            functions[label] += 1

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    uvicorn.run("canone.web.app:app_from_env", factory=True, host="127.0.0.1", port=port,
                workers=1, log_level="warning", loop="uvloop", http="httptools")
    stop.set()
    busy = max(1, total[0])
    lines = [f"{100 * count / busy:5.1f} %  {name}" for name, count in samples.most_common()]
    lines.append("")
    lines += [f"{100 * count / busy:5.1f} %  {name}"
              for name, count in functions.most_common(14)]
    Path(out).write_text(f"{total[0]} busy thread samples over {total[1]} ticks\n"
                         + "\n".join(lines) + "\n")


# -- the run ----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--runs", type=int, default=3,
                        help="runs of canone and its floor; the goal is their median")
    parser.add_argument("--accounts-per-client", type=int, default=2)
    parser.add_argument("--pgbench-seconds", type=int, default=20)
    parser.add_argument("--profile-seconds", type=float, default=15)
    parser.add_argument("--floor-seconds", type=int, default=10)
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 3 s per run, 2 s per floor endpoint, only the "
                             "floor's noop and pair-work, no profile or pgbench, no write")
    parser.add_argument("--no-write", action="store_true", help="do not touch RESULTS.md")
    parser.add_argument("--serve-profiled", nargs=2, metavar=("PORT", "OUT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_profiled:
        serve_profiled(int(args.serve_profiled[0]), args.serve_profiled[1])
        return 0
    if args.quick:
        args.seconds, args.floor_seconds, args.no_write = 3, 2, True

    tmp = Path(tempfile.mkdtemp(prefix="canone-bench-api-"))
    try:
        with scratch_database("canone_bench_api") as url:
            Database(url).migrate()
            env = {**environment(url, tmp), "BENCH_TMP": str(tmp)}
            key = operator_key(url, tmp)
            runs, accounts = measure_runs(args, url, env, key)
            if args.quick:
                return report_goal(runs)
            profiled, profile = profile_one_worker(args, env, key, accounts, tmp)
        tps = pgbench(args.pgbench_seconds)
        result, floor = median_run(runs)
        print(f"pgbench TPC-B: {tps:.0f} tps; API pairs / pgbench tps = "
              f"{result['pairs_per_second'] / tps:.3f}")
        code = report_goal(runs)
        if not args.no_write:
            record.write_section(
                SECTION, render(args, result, profiled, profile, tps, floor, runs))
            print(f"updated {record.RESULTS.relative_to(ROOT)}")
            print(goal_verdict(runs).line())  # still the last line
        return code
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


Run = tuple[dict[str, Any], dict[str, float]]  # canone's result and its floor, same run


def measure_runs(args: argparse.Namespace, url: str, env: dict[str, str], key: str
                 ) -> tuple[list[Run], list[str]]:
    """`--runs` times: canone's pairs per second, then the stack floor right after it (a
    scratch database each time), so each run's ratio compares the same moment's machine."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "canone", "serve", "--port", str(port),
               "--workers", str(args.workers)]
    endpoints = stack_floor.RATIO_ENDPOINTS if args.quick else stack_floor.ENDPOINTS
    runs: list[Run] = []
    with serving(command, env, port) as server:
        accounts = sign_up_accounts(base, key, args.clients * args.accounts_per_client)
        print(f"{len(accounts)} accounts signed up; warming up", flush=True)
        drive(base, key, accounts, args.clients, 1 if args.quick else 3, server.pid, None)
        for number in range(args.runs):
            print(f"run {number + 1} of {args.runs}: {args.clients} clients for "
                  f"{args.seconds:.0f} s against {args.workers} workers", flush=True)
            result = drive(base, key, accounts, args.clients, args.seconds, server.pid, url)
            print(format_result(result), flush=True)
            with scratch_database("canone_bench_floor") as floor_url:
                floor = stack_floor.measure(_libpq(floor_url), args.workers,
                                            args.floor_seconds, endpoints=endpoints)
            print("stack floor (wrk): " + ", ".join(
                f"POST /{endpoint} {rate:,.0f} requests/s" for endpoint, rate in floor.items())
                + f"; ratio {run_ratio((result, floor)):.3f}", flush=True)
            runs.append((result, floor))
    return runs, accounts


def profile_one_worker(args: argparse.Namespace, env: dict[str, str], key: str,
                       accounts: list[str], tmp: Path) -> tuple[dict[str, Any], str]:
    profile_port = free_port()
    profile_out = tmp / "profile.txt"
    command = [sys.executable, str(Path(__file__).resolve()), "--serve-profiled",
               str(profile_port), str(profile_out)]
    with serving(command, env, profile_port) as server:
        profiled = drive(f"http://127.0.0.1:{profile_port}", key, accounts,
                         args.clients, args.profile_seconds, server.pid, None)
    profile = profile_out.read_text() if profile_out.exists() else "(no profile)"
    print(f"one worker: {profiled['pairs_per_second']:.0f} pairs/s\n{profile}")
    return profiled, profile


def run_ratio(run: Run) -> float:
    result, floor = run
    return float(result["pairs_per_second"]) / stack_floor.pairs_at_most(floor)


def goal_verdict(runs: list[Run]) -> goals.Verdict:
    return goals.verdict(GOAL_RATIO, [run_ratio(run) for run in runs])


def median_run(runs: list[Run]) -> Run:
    """The run whose ratio is the median (the lower middle one of an even count): the one
    the written section describes."""
    ordered = sorted(runs, key=run_ratio)
    return ordered[(len(ordered) - 1) // 2]


def report_goal(runs: list[Run]) -> int:
    return goals.finish([goal_verdict(runs)])


def format_result(r: dict[str, Any]) -> str:
    return (f"{r['pairs_per_second']:.1f} confirmed pairs/s ({r['requests_per_second']:.0f} "
            f"requests/s), pair p50 {r['pair_p50']:.1f} ms p99 {r['pair_p99']:.1f} ms; "
            f"failed {r['failed']} {r['errors']}; CPU ms per pair "
            + ", ".join(f"{g} {v:.1f}" for g, v in r["cpu_ms_per_pair"].items())
            + f"; machine busy {100 * r['machine_busy']:.0f} %; "
            f"transactions per pair {r['transactions_per_pair']}")


def render(args: argparse.Namespace, r: dict[str, Any], profiled: dict[str, Any],
           profile: str, tps: float, floor: dict[str, float], runs: list[Run]) -> str:
    load = os.getloadavg()[0]
    cpu = r["cpu_ms_per_pair"]
    cpus = os.cpu_count() or 1
    total = sum(cpu.values())
    ceiling = 1000 * cpus / max(1e-9, total)
    per_pair = " / ".join(f"{cpu[g]:.1f}" for g in ("server", "postgres", "clients"))
    share = r["cpu_share"]
    shares = " / ".join(f"{100 * share[g]:.0f}" for g in ("server", "postgres", "clients"))
    other = max(0.0, 100 * (1 - sum(share.values())))
    return f"""{SECTION}

`bench/api.py`: `canone serve` (uvicorn, httptools + uvloop) with {args.workers} workers on
PostgreSQL {postgres_version()}, {args.clients} client processes (httpx, keep-alive,
Idempotency-Key on every POST) for {args.seconds:.0f} s, {len(range(args.clients *
args.accounts_per_client))} accounts; each pair is a preview and a confirmed one-seat upgrade
(card charged, invoice, payment, audit, events). Python {platform.python_version()},
{platform.machine()}, {os.cpu_count()} CPUs, {date.today().isoformat()}, load average
{load:.1f} at the end (other work shares the machine). Everything (server, PostgreSQL,
clients) runs on the same {os.cpu_count()} CPUs.

| measure | value |
|---|---:|
| confirmed preview + confirm pairs per second (goal {GOAL}) | **{r['pairs_per_second']:.1f}** |
| HTTP requests per second | {r['requests_per_second']:.0f} |
| pair latency p50 / p99 | {r['pair_p50']:.1f} / {r['pair_p99']:.1f} ms |
| preview p50 / p99 | {r['preview_p50']:.1f} / {r['preview_p99']:.1f} ms |
| confirm p50 / p99 | {r['confirm_p50']:.1f} / {r['confirm_p99']:.1f} ms |
| failed pairs | {r['failed']} {r['errors'] or ''} |
| pgbench TPC-B (`-c 4 -j 2 -T {args.pgbench_seconds}`, scale 10), same session | {tps:.0f} tps |
| ratio pairs/s ÷ pgbench tps | {r['pairs_per_second'] / tps:.3f} |
| database transactions per pair (pg_stat_database) | {r['transactions_per_pair']:.1f} |
| CPU per pair: server workers / PostgreSQL / clients | {per_pair} ms |
| busy CPU share: server / PostgreSQL / clients / other processes | {shares} / {other:.0f} % |
| machine CPU busy during the run | {100 * r['machine_busy']:.0f} % |

Profile of one worker under the same load ({profiled['pairs_per_second']:.0f} pairs/s with a
single worker), share of busy thread samples by where the innermost frame is, then the
canone functions on the stack:

```
{profile.strip()}
```

What limits it, from the numbers above: a confirmed pair needs {total:.1f} ms of CPU in all
(server workers, PostgreSQL, clients), so {cpus} CPUs can do at most about
{ceiling:.0f} pairs/s even with nothing else running; the goal of {GOAL} pairs/s would need
{2000 * cpus / GOAL / 2:.1f} ms per pair. The server's share is Python: per pair two
requests go through uvicorn, FastAPI's validation and serialisation (pydantic), the
Idempotency-Key records, and the services' database transactions of SQLAlchemy Core
statements ({r['transactions_per_pair']:.0f} per pair as PostgreSQL counts them); the
worker's threads spend most of their busy samples waiting on PostgreSQL round trips and
commits. The confirm's settle transaction takes the invoice number as late as it can, but
holds the per-year counter row from there to its commit (a few statements and the commit's
WAL flush), so confirmations of different accounts still take turns there. pgbench's TPC-B
transaction (5 statements, 1 commit) runs entirely in C against the same server; a pair is
about {1 / max(1e-9, r['pairs_per_second'] / tps):.0f} of them.

### The floor: the web stack alone, same session

`bench/stack_floor.py`: a FastAPI app with no billing in it, served the same way (uvicorn,
httptools + uvloop, {args.workers} workers) on the same PostgreSQL, driven by wrk (a C load
generator, 2 threads, 16 connections, {args.floor_seconds} s per endpoint, so the client
costs next to nothing):

| endpoint | requests/s |
|---|---:|
{floor_rows(floor)}

{floor_verdict(floor, r)}

Issue 14's goal, each run against the floor measured right after it (the tables above are
the median run): {goal_verdict(runs).line()}.
"""


def floor_rows(floor: dict[str, float]) -> str:
    return "\n".join(f"| `POST /{endpoint}`: {stack_floor.WHAT[endpoint]} | {rate:,.0f} |"
                     for endpoint, rate in floor.items())


def floor_verdict(floor: dict[str, float], r: dict[str, Any]) -> str:
    best = stack_floor.pairs_at_most(floor)
    sync = stack_floor.pairs_at_most(floor, "pair-work-sync")
    reach = ("cannot reach the goal of {GOAL} pairs/s on this machine, whatever canone does"
             if best < GOAL else "does not rule out the goal of {GOAL} pairs/s here")
    return (f"A pair is two requests, one of them with at least the database work of "
            f"`/pair-work` (the confirm must commit its payment intent before the card is "
            f"charged, so that a crash can never charge twice, and settle it in another "
            f"transaction). Their costs add up: one `/pair-work` and one `/noop` a pair "
            f"gives at most **{best:,.0f} pairs/s**, so this stack "
            f"{reach.format(GOAL=GOAL)}; through SQLAlchemy from sync routes, as canone "
            f"runs, at most {sync:,.0f} pairs/s. canone does more per pair than that floor "
            f"(API-key check, Idempotency-Key records, invoice lines and gapless number, audit "
            f"entries, email, a JSON body of the subscription and invoice) and reaches "
            f"{r['pairs_per_second'] / best:.0%} of it.")


def postgres_version() -> str:
    with psycopg.connect(_libpq(SERVER), autocommit=True) as admin:
        row = admin.execute("SHOW server_version").fetchone()
    return str(row[0]).split()[0] if row else "?"


if __name__ == "__main__":
    sys.exit(main())
