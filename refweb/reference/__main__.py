"""``python -m refweb.reference``: run the reference suite (see refweb/reference/cli.py)."""

from refweb.reference.cli import main

main()
