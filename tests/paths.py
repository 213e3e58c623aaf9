"""Where things are, for tests in any folder of the tree."""

from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent                     # the repository (for subprocesses' cwd)
DATA = TESTS / "data"
SCHEMAS = ROOT / "mnprof" / "schemas"
