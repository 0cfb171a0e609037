"""Optimizers and learning-rate schedules, mirroring ``torch.optim``.

>>> optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)   # doctest: +SKIP
>>> scheduler = lr_scheduler.StepLR(optimizer, step_size=10)    # doctest: +SKIP
"""

from scratchnn.optim import lr_scheduler
from scratchnn.optim.adam import Adam, AdamW
from scratchnn.optim.optimizer import Optimizer
from scratchnn.optim.rmsprop import RMSprop
from scratchnn.optim.sgd import SGD

__all__ = ["SGD", "Adam", "AdamW", "RMSprop", "Optimizer", "lr_scheduler"]
