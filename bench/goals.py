"""The goals of issue 14, checked the same way by every benchmark.

A benchmark measures canone and its floor (or baseline) in the same run, several times; the
goal is met when the median of the per-run values clears the target. Each run's value is
taken against the floor of that same run, so a busy moment slows both sides of a ratio.
The verdict's line says met / not met and by how much, and the exit code (0 met, 1 not
met) lets a script fail when the next change slows it.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

NOT_MET = 1  # the exit code of a run whose goal is not met


@dataclass(frozen=True)
class Goal:
    """What is measured and the bound it must clear: at least `target` (a ratio to a floor)
    or, with `lower_is_better`, at most `target` (a latency)."""

    name: str
    measure: str
    target: float
    lower_is_better: bool = False
    unit: str = ""


@dataclass(frozen=True)
class Verdict:
    goal: Goal
    value: float  # the median of the runs
    runs: tuple[float, ...]

    @property
    def met(self) -> bool:
        if self.goal.lower_is_better:
            return self.value <= self.goal.target
        return self.value >= self.goal.target

    @property
    def margin(self) -> float:
        """How far the median is from the target, positive on the good side."""
        gap = self.value - self.goal.target
        return -gap if self.goal.lower_is_better else gap

    def line(self) -> str:
        goal, unit = self.goal, self.goal.unit
        compare = ("<=" if goal.lower_is_better else ">=") if self.met else (
            ">" if goal.lower_is_better else "<")
        share = (f", {self.value / goal.target:.0%} of the goal"
                 if not goal.lower_is_better and goal.target else "")
        how = (f"by {self.margin:.2f}{unit}" if self.met
               else f"short by {-self.margin:.2f}{unit}{share}")
        runs = ", ".join(f"{value:.3f}" for value in self.runs)
        return (f"{goal.name}: goal {'met' if self.met else 'NOT met'}: {goal.measure} "
                f"{self.value:.3f}{unit} {compare} {goal.target:.2f}{unit}, {how} "
                f"(median of {len(self.runs)} run{'s' * (len(self.runs) != 1)}: {runs})")


def verdict(goal: Goal, runs: Sequence[float]) -> Verdict:
    if not runs:
        raise ValueError(f"{goal.name}: no run measured, nothing to check")
    return Verdict(goal, statistics.median(runs), tuple(runs))


def ratios(measured: Sequence[float], floors: Sequence[float]) -> list[float]:
    """Each run's measure divided by the floor of the same run."""
    if len(measured) != len(floors):
        raise ValueError("one floor per run is needed")
    return [value / floor for value, floor in zip(measured, floors, strict=True)]


def summary(verdicts: Sequence[Verdict]) -> str:
    """The last line of a run: its one verdict, or how many of several were met."""
    if len(verdicts) == 1:
        return verdicts[0].line()
    missed = [v.goal.name for v in verdicts if not v.met]
    if not missed:
        return f"goals met: all {len(verdicts)}"
    return f"goals NOT met: {len(missed)} of {len(verdicts)} ({', '.join(missed)})"


def exit_code(verdicts: Sequence[Verdict]) -> int:
    return 0 if all(v.met for v in verdicts) else NOT_MET


def finish(verdicts: Sequence[Verdict]) -> int:
    """Print each verdict, then the summary as the last line; the exit code to return."""
    if len(verdicts) > 1:
        for one in verdicts:
            print(one.line())
    print(summary(verdicts), flush=True)
    return exit_code(verdicts)
