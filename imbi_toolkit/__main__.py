"""``python -m imbi_toolkit`` runs the command line."""

import sys

from imbi_toolkit.cli import main

sys.exit(main())
