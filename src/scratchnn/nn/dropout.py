"""``Dropout2d``: dropout of whole channels (feature maps), for convolutional networks."""

from __future__ import annotations

from scratchnn.functional import conv as F
from scratchnn.nn.module import Module
from scratchnn.tensor import Tensor


class Dropout2d(Module):
    """In training, zero each (sample, channel) map of (N, C, H, W) with probability ``p``
    and scale the rest by ``1 / (1 - p)``; in eval mode, the identity. Neighbouring pixels
    of a feature map are strongly correlated, so dropping single pixels (``Dropout``) barely
    regularises a convnet; dropping whole maps does."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        if inplace:
            raise NotImplementedError("Dropout2d(inplace=True): scratchnn ops never modify input")
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout2d(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
