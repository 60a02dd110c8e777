"""`python -m omnioffer` runs the CLI."""

import sys

from omnioffer.cli import main

sys.exit(main())
