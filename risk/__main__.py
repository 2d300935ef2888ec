"""``python -m risk``: the command-line interface."""

from .cli import main

main()
