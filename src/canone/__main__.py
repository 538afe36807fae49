import sys

if sys.argv[1:] == ["price"]:  # priced at once, without importing the command tree
    from canone.cli_price import main

    sys.exit(main())

from canone.cli import app

app()
