"""The goal check of the benchmarks (issue 14): median of per-run ratios, verdict, exit code.
No timing here: only the arithmetic that decides whether a benchmark run fails."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "bench" / "goals.py"
_SPEC = importlib.util.spec_from_file_location("bench_goals", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
goals = importlib.util.module_from_spec(_SPEC)
sys.modules["bench_goals"] = goals  # dataclasses look their module up by name
_SPEC.loader.exec_module(goals)

API = goals.Goal("api", "pairs/s ÷ async stack floor", 0.50)
P95 = goals.Goal("portal page p95", "server p95", 4.19, lower_is_better=True, unit=" ms")


def test_ratios_divide_each_run_by_its_own_floor() -> None:
    assert goals.ratios([65.0, 70.0, 80.0], [860.0, 700.0, 800.0]) == [
        65.0 / 860.0, 0.1, 0.1]


def test_ratios_need_one_floor_per_run() -> None:
    with pytest.raises(ValueError, match="one floor per run"):
        goals.ratios([65.0, 70.0], [860.0])


def test_the_median_of_the_runs_decides_not_the_best_one() -> None:
    result = goals.verdict(API, [0.9, 0.40, 0.45])
    assert result.value == 0.45
    assert not result.met
    assert goals.exit_code([result]) == 1


def test_exactly_at_the_goal_is_met() -> None:
    result = goals.verdict(API, [0.50, 0.49, 0.51])
    assert result.met and result.margin == 0.0
    assert goals.exit_code([result]) == 0


def test_a_miss_says_by_how_much_and_what_share_of_the_goal() -> None:
    line = goals.verdict(API, [0.076, 0.08, 0.07]).line()
    assert line == ("api: goal NOT met: pairs/s ÷ async stack floor 0.076 < 0.50, short by "
                    "0.42, 15% of the goal (median of 3 runs: 0.076, 0.080, 0.070)")


def test_a_met_goal_says_by_how_much() -> None:
    line = goals.verdict(API, [0.62]).line()
    assert line == ("api: goal met: pairs/s ÷ async stack floor 0.620 >= 0.50, by 0.12 "
                    "(median of 1 run: 0.620)")


def test_a_latency_goal_is_met_below_its_bound() -> None:
    under, over = goals.verdict(P95, [3.5]), goals.verdict(P95, [5.0])
    assert under.met and not over.met
    assert over.line().startswith("portal page p95: goal NOT met: server p95 5.000 ms > "
                                  "4.19 ms, short by 0.81 ms (")
    assert goals.exit_code([under, over]) == 1
    assert goals.summary([under, over]) == "goals NOT met: 1 of 2 (portal page p95)"
    assert goals.summary([under, under]) == "goals met: all 2"


def test_no_run_is_an_error_not_a_pass() -> None:
    with pytest.raises(ValueError, match="no run measured"):
        goals.verdict(API, [])


def test_finish_prints_the_verdict_last_and_returns_the_exit_code(
        capsys: pytest.CaptureFixture[str]) -> None:
    code = goals.finish([goals.verdict(API, [0.2]), goals.verdict(P95, [1.0])])
    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert lines[-1] == "goals NOT met: 1 of 2 (api)"
    assert lines[0].startswith("api: goal NOT met")


def _bench_module(name: str):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(name, _PATH.with_name(f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("goals", goals)  # as bench/ on sys.path names it
    spec.loader.exec_module(module)
    return module


def test_portal_against_a_baseline_divides_each_run_by_the_older_codes_run() -> None:
    baseline = _bench_module("portal_baseline")
    old = [{"page": [10.0], "quote": [4.0]}, {"page": [20.0], "quote": [5.0]},
           {"page": [10.0], "quote": [4.0]}]
    new = [{"page": [9.0], "quote": [5.0]}, {"page": [30.0], "quote": [5.0]},
           {"page": [8.0], "quote": [4.2]}]
    page, quote = baseline.verdicts(old, new, "SQLite", "b0a5c9a", lambda s: s[0])
    assert page.runs == (0.9, 1.5, 0.8) and page.value == 0.9 and page.met
    assert quote.runs == (1.25, 1.0, 4.2 / 4.0) and quote.value == 1.05 and not quote.met
    assert quote.line() == (
        "portal SQLite quote: goal NOT met: server p95 ÷ b0a5c9a's in the same run 1.050 > "
        "1.00, short by 0.05 (median of 3 runs: 1.250, 1.000, 1.050)")


_TURNS = """import sys
for turn in range(int(sys.argv[2])):
    print('ready', flush=True)
    sys.stdin.readline()
    with open(sys.argv[3], 'a') as log:
        log.write(sys.argv[1] + str(turn) + ' ')
print('results done by ' + sys.argv[1], flush=True)
"""


def test_lockstep_lets_one_side_run_at_a_time_taking_turns(tmp_path: Path) -> None:
    baseline = _bench_module("portal_baseline")
    log = tmp_path / "turns"
    log.write_text("")
    last = baseline.lockstep([([sys.executable, "-c", _TURNS, side, str(turns), str(log)],
                               tmp_path) for side, turns in (("a", 3), ("b", 2))])
    assert last == ["done by a", "done by b"]
    assert log.read_text() == "a0 b0 a1 b1 a2 "


def test_lockstep_stops_the_other_side_when_one_fails(tmp_path: Path) -> None:
    baseline = _bench_module("portal_baseline")
    waiting = [sys.executable, "-c", "print('ready', flush=True); import time; time.sleep(60)"]
    failing = [sys.executable, "-c", "import sys; sys.exit('no database here')"]
    with pytest.raises(SystemExit, match="no database here"):
        baseline.lockstep([(waiting, tmp_path), (failing, tmp_path)])


def test_lockstep_refuses_a_line_it_does_not_expect(tmp_path: Path) -> None:
    baseline = _bench_module("portal_baseline")
    chatty = [sys.executable, "-c", "print('seeding…'); print('ready', flush=True)"]
    with pytest.raises(SystemExit, match="said 'seeding…', not 'ready'"):
        baseline.lockstep([(chatty, tmp_path)])
    stray = [sys.executable, "-c", "print('ready', flush=True); input(); print('42 rows')"]
    with pytest.raises(SystemExit, match="said '42 rows'"):
        baseline.lockstep([(stray, tmp_path)])
