"""The project's own programs, as a person would run them, for tests that start them.

`moba` is the console script installed beside the Python running the tests (a venv's
bin/, or the interpreter's own bin/ on a machine without one).
"""

import sys
from pathlib import Path

MOBA = str(Path(sys.executable).with_name("moba"))
