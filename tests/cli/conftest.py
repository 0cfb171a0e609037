"""The CLI tests' helpers (``cli_support``) are importable from this folder."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
