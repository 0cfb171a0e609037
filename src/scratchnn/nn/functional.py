"""``import scratchnn.nn.functional as F``: PyTorch's path to the functional API, which lives in
``scratchnn.functional`` (this module re-exports all of it)."""

from scratchnn.functional import *  # noqa: F403
from scratchnn.functional import __all__  # noqa: F401
