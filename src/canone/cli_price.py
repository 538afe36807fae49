"""The run of `canone price` (SPEC §7): JSON Lines in, one answer per line out.

`python -m canone price` and `canone price` come here without building typer's command tree
(typer, click and pydantic take longer to import than a thousand lines take to price);
`canone price --help` and any option go through typer as every other command does."""

from __future__ import annotations

import gc
import json
import os
import sys
from collections.abc import Iterator
from typing import Any, BinaryIO, TextIO

from canone.billing.catalog import Catalog, catalog_in
from canone.billing.errors import CatalogError
from canone.price_command import pricer_of, scan
from canone.settings import Settings


def main() -> int:
    """The exit code of a bare `canone price`: 0 once every line is answered."""
    try:
        catalog = catalog_in(Settings.from_env().catalog)
    except CatalogError as exc:  # as cli_common.fail words it, without typer
        print(f"error: {catalog_problems(exc)}", file=sys.stderr)
        return 1
    try:
        price_lines(catalog, sys.stdin.buffer, sys.stdout)
    except BrokenPipeError:  # the reader went away, as click handles it: exit 1 quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print("Aborted!", file=sys.stderr)
        return 1
    return 0


def catalog_problems(exc: CatalogError) -> str:
    return "the catalog has problems:\n  " + "\n  ".join(exc.problems)


def price_lines(catalog: Catalog, stdin: BinaryIO, out: TextIO) -> None:
    """Answer each line of `stdin` on `out`, in order; a bad line gets its error.

    Bytes in, ASCII out: bad UTF-8 is a bad line (UnicodeDecodeError is a ValueError), and
    an escaped lone surrogate echoed in an error cannot break the UTF-8 output. The answers
    to what has arrived go out together at once: one write per batch, not per line (each is
    a system call under PYTHONUNBUFFERED), and a program that writes a line and waits for
    its answer gets it."""
    pricer = pricer_of(catalog)
    answer_text, line_answer, trim = pricer.answer_text, pricer.line_answer, pricer.rules.trim
    number = 0
    # Each line leaves a few dicts behind and the memos keep thousands of answers alive:
    # with the default threshold the cyclic collector runs every 700 allocations and,
    # as the memos grow, keeps walking them. What a line allocates is freed by reference
    # counting (it makes no cycles), so collect seldom; the memos are bounded (trim).
    gc.set_threshold(100_000, 50, 1000)
    for lines in arrived_lines(stdin):
        texts = []
        for line in lines:
            number += 1
            text = line_answer(line)  # most lines; None sends the line the general way
            if text is not None:
                texts.append(text)
                continue
            if not line.strip():
                continue
            try:
                request = read(line)
            except ValueError as exc:
                texts.append(_line_error(f"line {number} is not JSON: {exc}"))
            except RecursionError:  # the decoder's guard: the line alone is refused
                texts.append(_line_error(f"line {number} is JSON nested too deeply to read "
                                         "(a line is one object: current, target, anchor, "
                                         "at)"))
            else:
                texts.append(answer_text(request))  # = dumps(answer(catalog, request))
        if texts:
            out.write("\n".join(texts) + "\n")
            out.flush()
        trim()  # the memos bounded between batches (price_memos.MEMO_SIZE)


# What json.loads runs under its Python wrapper (typeshed leaves it out).
_space = json.decoder.WHITESPACE.match  # type: ignore[attr-defined]


def read(line: bytes) -> Any:
    """`json.loads(line)`, without its steps that a line holding one object needs not: a
    line that starts with "{" and a byte that is not NUL is UTF-8 to `json.loads` (its
    `detect_encoding`), so its text is scanned at once. Anything else, and every error,
    goes to `json.loads` itself, which words the error."""
    if line[:1] == b"{" and line[1:2] != b"\0":
        try:
            text = line.decode("utf-8", "surrogatepass")  # as json.loads decodes bytes
            value, end = scan(text, 0)
        except (ValueError, StopIteration):
            pass
        else:
            if end == len(text) or _space(text, end).end() == len(text):
                return value
    return json.loads(line)


def arrived_lines(stdin: BinaryIO) -> Iterator[list[bytes]]:
    """The input's lines in batches: each batch is the complete lines that have arrived so
    far (one read of what is there, up to 64 KiB), the last one may lack its "\n". Lines split
    only at "\n" (JSON Lines; text mode would also split at a lone "\r")."""
    read = getattr(stdin, "read1", stdin.read)  # read1: what is there, without waiting
    pending: list[bytes] = []
    while chunk := read(1 << 16):
        if b"\n" not in chunk:
            pending.append(chunk)
            continue
        lines = (b"".join(pending) + chunk).split(b"\n")
        pending = [lines.pop()]
        yield lines
    if tail := b"".join(pending):
        yield [tail]


def _line_error(message: str) -> str:
    return json.dumps({"target": None, "change": None,
                       "error": {"field": "line", "message": message}})
