"""The command line: one module per command group, each exposing ``register(app)``.

Thin by design: a command parses, calls one library function, renders the result and maps
exceptions to exit codes (see :mod:`georesil.cli.main`).
"""
