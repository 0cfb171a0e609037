"""``python -m scratchnn.cli ...`` is the ``scratchnn`` command."""

import sys

from scratchnn.cli import main

sys.exit(main())
