"""`python -m reclaim` runs the CLI."""

import sys

from reclaim.cli import main

sys.exit(main())
