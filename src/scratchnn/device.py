"""Devices, for PyTorch programs' boilerplate: scratchnn computes on the CPU only.

``scratchnn.device('cpu')``, ``tensor.to('cpu')``, ``device=`` on the creation functions and
``scratchnn.cuda.is_available()`` (False) work as in PyTorch, so ``device = 'cuda' if
torch.cuda.is_available() else 'cpu'`` picks the CPU. Asking for any other device is an error
that says so, never a silent fallback.
"""

from __future__ import annotations

from typing import Any


class device:  # noqa: N801 (PyTorch's name)
    """A place tensors live: only ``device('cpu')`` (index None or 0) exists here."""

    __slots__ = ("type", "index")

    def __init__(self, type: str | device = "cpu", index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index  # noqa: A001
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string such as 'cpu', got {type!r}")
        kind, _, number = type.partition(":")
        if number:
            if index is not None:
                raise ValueError(f"device: index given twice ({type!r} and index={index})")
            index = int(number) if number.isdigit() else number
        if kind != "cpu":
            raise RuntimeError(
                f"device {type!r} is not available: scratchnn runs on the CPU only "
                "(use 'cpu'; scratchnn.cuda.is_available() is False)"
            )
        if index not in (None, 0):
            raise RuntimeError(f"device 'cpu:{index}' does not exist (only 'cpu')")
        self.type = kind
        self.index = index

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except (RuntimeError, ValueError):
                return False
        return isinstance(other, device) and other.type == self.type

    def __hash__(self) -> int:
        return hash(self.type)

    def __repr__(self) -> str:
        return f"device(type='{self.type}')"

    def __str__(self) -> str:
        return self.type


CPU = device("cpu")


def check_device(value: Any) -> device:
    """``value`` (None, a string or a device) as a device; a clear error for anything but the
    CPU."""
    if value is None:
        return CPU
    return device(value) if not isinstance(value, device) else value


class _Cuda:
    """``scratchnn.cuda``: what PyTorch programs ask before choosing a device."""

    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def device_count() -> int:
        return 0

    @staticmethod
    def manual_seed(seed: int) -> None:
        """Nothing to seed: there is no GPU (``scratchnn.manual_seed`` seeds the CPU)."""

    manual_seed_all = manual_seed


cuda = _Cuda()
