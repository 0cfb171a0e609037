# A micrograd-style binary classifier: a two-layer MLP, SVM max-margin loss with L2
# regularisation, and a hand-written SGD step with a decaying learning rate.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(1)
n = 100
angles = rng.uniform(0, np.pi, n)
upper = np.stack([np.cos(angles[: n // 2]), np.sin(angles[: n // 2])], 1)
lower = np.stack([1 - np.cos(angles[n // 2:]), 0.5 - np.sin(angles[n // 2:])], 1)
X = np.concatenate([upper, lower]) + rng.normal(0, 0.1, (n, 2))
labels = np.concatenate([np.ones(n // 2), -np.ones(n // 2)])


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(2, 16), nn.Linear(16, 16), nn.Linear(16, 1)])

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = F.relu(layer(x))
        return self.layers[-1](x)


model = MLP()
init = np.random.default_rng(2)
with torch.no_grad():
    for _name, p in model.named_parameters():
        p.copy_(torch.from_numpy(init.uniform(-0.5, 0.5, tuple(p.shape)).astype(np.float32)))

inputs = torch.tensor(X, dtype=torch.float32)
targets = torch.tensor(labels, dtype=torch.float32).view(-1, 1)


def loss_and_accuracy():
    scores = model(inputs)
    data_loss = F.relu(1 + -targets * scores).mean()
    alpha = 1e-4
    reg_loss = alpha * sum((p * p).sum() for p in model.parameters())
    accuracy = ((scores > 0) == (targets > 0)).float().mean()
    return data_loss + reg_loss, accuracy.item()


history = []
for k in range(60):
    total_loss, accuracy = loss_and_accuracy()
    model.zero_grad()
    total_loss.backward()
    learning_rate = 1.0 - 0.9 * k / 60
    with torch.no_grad():
        for p in model.parameters():
            p -= learning_rate * p.grad
    if k % 10 == 9:
        history.append((total_loss.item(), accuracy))

RESULT = {"history": history}
