from canone.cli import app

app()
