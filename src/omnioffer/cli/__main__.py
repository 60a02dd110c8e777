"""`python -m omnioffer.cli` runs the CLI, like `python -m omnioffer`."""

import sys

from omnioffer.cli import main

sys.exit(main())
