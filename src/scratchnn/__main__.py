"""``python -m scratchnn ...`` is the ``scratchnn`` command."""

import sys

from scratchnn.cli import main

sys.exit(main())
