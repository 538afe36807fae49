"""`canone` and `python -m canone`: a bare `canone price` starts pricing at once
(canone.cli_price), without importing the command tree (typer, click and pydantic for
typer's converters); anything else, `canone price --help` included, goes through typer."""

import sys


def main() -> None:
    if sys.argv[1:] == ["price"]:
        from canone.cli_price import main as price

        sys.exit(price())
    from canone.cli import app

    app()


if __name__ == "__main__":
    main()
