"""``python -m georesil`` runs the CLI."""

from georesil.cli.main import main

main()
