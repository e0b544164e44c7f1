"""``python -m simbev``: the command line (:func:`simbev.cli.main`)."""
import sys

from .cli import main

sys.exit(main())
