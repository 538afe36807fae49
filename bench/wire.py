"""What a pair sends, counted from bench/pair_counts.py's log of what psycopg sent (`--sql`):
each entry a statement with its parameters, or a note beginning with "-- " (a BEGIN, COMMIT
or ROLLBACK psycopg sent itself, a pipeline's start and end, a statement alone on an
autocommit connection)."""

from __future__ import annotations

import collections

_COMMANDS = ("--", "BEGIN", "COMMIT", "ROLLBACK")


def wire_counts(wire: list[str]) -> collections.Counter[str]:
    """Statements, commits and round trips in `wire`: each statement, BEGIN or COMMIT sent
    alone is a round trip, a pipeline (whatever it holds) is one; a statement alone on an
    autocommit connection is a transaction of its own, a commit if it writes."""
    counts: collections.Counter[str] = collections.Counter()
    piped = alone = False
    for line in wire:
        if line.startswith("-- (pipeline"):
            piped = True
            counts["round trips"] += 1
            continue
        if line.startswith("-- (end of pipeline"):
            piped = False
            continue
        if line.startswith("-- (autocommit"):
            alone = True  # (said of the next statement)
            continue
        command = line.split(None, 1)[0] if line.strip() else ""
        counts["round trips"] += not piped
        if command in _COMMANDS:
            counts["commits"] += line.removeprefix("-- ").startswith("COMMIT")
        else:
            counts["statements"] += 1
            counts["commits"] += alone and not line.startswith("SELECT")
        alone = False
    return counts
