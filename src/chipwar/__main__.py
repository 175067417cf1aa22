"""``python -m chipwar``: the same as the ``chipwar`` command."""

from .cli import main

main(prog_name="chipwar")
