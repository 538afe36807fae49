"""`canone` and `python -m canone`: a bare `canone price` starts pricing at once
(canone.cli_price), without importing the command tree (typer, click and pydantic for
typer's converters); anything else, `canone price --help` included, goes through typer."""

import os
import sys


def main() -> None:
    if sys.argv[1:] == ["price"]:
        from canone.cli_price import main as price

        code = price()
        # Leave without tearing down: the run's memos (tens of thousands of objects) would
        # be walked by a last collection and freed one by one, a tenth of a run's work for
        # memory the process gives back anyway. Its output is flushed first (a stream closed
        # when the process started is None).
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
        os._exit(code)
    from canone.cli import app

    app()


if __name__ == "__main__":
    main()
