"""Keep freed array memory mapped between training steps (glibc's malloc, Linux).

A training step frees and re-allocates the same arrays every time: the batch, the
activations, each weight's gradient, the optimizer's temporaries (a 784x128 float32 gradient
is 392 KiB; a batch of 64 through a 32-channel 28x28 convolution gives 6.4 MB). With glibc's
default settings an array is either given its own ``mmap`` (from 128 KiB, a threshold that
glibc raises as it sees such blocks freed, but a block of exactly the last freed size still
gets one) or handed back to the kernel when the top of the heap holds more free memory than
a threshold; either way the next step touches fresh pages, and the kernel zeroes each one on
first use. Where that happens (it depends on array sizes and on what the process allocated
before), it costs a lot: a 784-128-10 MLP at batch 100 took ~125 page faults per step and a
1.3x slower epoch, the benchmark CNN at batch 256 ~3,000 faults per step, than with the
memory kept (``python -m bench.page_faults``). PyTorch avoids the same cost with its own
caching allocator.

:func:`keep_freed_memory` asks glibc (``mallopt``) to serve blocks below ``MMAP_THRESHOLD``
(32 MiB, the largest glibc accepts) from the heap and to hand freed memory back only once
``TRIM_THRESHOLD`` (256 MiB) has piled up at its top. What stays mapped was in use at the
peak of a step, so the peak hardly moves, but the resident memory stays near that peak
between steps. A smaller trim threshold backfires: at 32 MiB, a CNN step that frees more than
that at once gave its memory back every step (~3,500 page faults per step at batch 64, where
glibc's defaults had none). It affects the whole process (NumPy's and other libraries'
allocations alike), so ``import scratchnn`` does not apply it: training does.
:func:`scratchnn.train.fit`, the ``scratchnn`` command line and the benchmark call it; a
program with its own training loop calls it once itself::

    import scratchnn
    scratchnn.allocator.keep_freed_memory()

Set the environment variable ``SCRATCHNN_KEEP_FREED_MEMORY=0`` to leave malloc alone (every
call then does nothing). On other C libraries and systems it does nothing either.
"""

from __future__ import annotations

import ctypes
import os
import sys

MMAP_THRESHOLD = 32 << 20  # blocks below 32 MiB come from the heap, not their own mmap
TRIM_THRESHOLD = 256 << 20  # give memory back to the kernel once 256 MiB are free at the top
TOP_PAD = 16 << 20  # grow the heap 16 MiB at a time

# mallopt parameter numbers, from glibc's <malloc.h>
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3

ENVIRONMENT_VARIABLE = "SCRATCHNN_KEEP_FREED_MEMORY"


_applied = False


def keep_freed_memory() -> bool:
    """Apply the settings above (once per process; later calls only report); True if glibc
    accepted them, False where they do not apply (not glibc, or switched off with
    ``SCRATCHNN_KEEP_FREED_MEMORY=0``)."""
    global _applied
    if os.environ.get(ENVIRONMENT_VARIABLE, "1") == "0":
        return False
    if _applied:  # every fit calls this: after the first time, a flag test
        return True
    if not sys.platform.startswith("linux") or not _is_glibc():
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    accepted = [
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD),
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD),
        mallopt(_M_TOP_PAD, TOP_PAD),
    ]
    _applied = all(result == 1 for result in accepted)
    return _applied


def _is_glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (ValueError, OSError, AttributeError):  # not a glibc system
        return False
