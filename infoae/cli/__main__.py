"""python -m infoae.cli: the `infoae` command."""

import sys

from infoae.cli import main

sys.exit(main())
