"""``import scratchnn.nn.functional as F``: PyTorch's path to the functional API, which lives in
``scratchnn.functional`` (this module re-exports all of it).

``from scratchnn.nn.functional import *`` leaves out the names that would shadow Python's
builtins (``abs max min pow round sum``), as ``torch.nn.functional`` has none of them; they
are still attributes (``F.sum``)."""

import builtins

from scratchnn.functional import *  # noqa: F403
from scratchnn.functional import __all__ as _everything

__all__ = [name for name in _everything if not hasattr(builtins, name)]
