"""`python -m reclaim` runs the CLI, as the console script does."""

from reclaim.cli import entry

entry()
