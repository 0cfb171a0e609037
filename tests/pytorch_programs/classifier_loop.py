# The classic image-classifier train/test loop: Dataset, DataLoader, a Module, CrossEntropyLoss,
# SGD, model.train()/model.eval(), accuracy with argmax. The data is made here (28x28 images of
# 10 classes, each a noisy copy of a class template), shaped like Fashion-MNIST.
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

rng = np.random.default_rng(0)
templates = rng.uniform(0, 1, (10, 28, 28)).astype(np.float32)


def make_split(count):
    y = rng.integers(0, 10, count)
    x = templates[y] + rng.normal(0, 0.6, (count, 28, 28)).astype(np.float32)
    return TensorDataset(torch.from_numpy(x.astype(np.float32)).unsqueeze(1),
                         torch.from_numpy(y.astype(np.int64)))


training_data, test_data = make_split(640), make_split(320)
train_dataloader = DataLoader(training_data, batch_size=64)
test_dataloader = DataLoader(test_data, batch_size=64)

device = "cuda" if torch.cuda.is_available() else "cpu"


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28 * 28, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10)
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


model = NeuralNetwork().to(device)
init = np.random.default_rng(1)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.tensor(init.normal(0, 0.05, tuple(p.shape)), dtype=torch.float32))

loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)


def train(dataloader, model, loss_fn, optimizer):
    model.train()
    for X, y in dataloader:
        X, y = X.to(device), y.to(device)
        pred = model(X)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return loss.item()


def test(dataloader, model, loss_fn):
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    return test_loss / num_batches, correct / size


results = []
for _epoch in range(3):
    last_loss = train(train_dataloader, model, loss_fn, optimizer)
    results.append((last_loss, *test(test_dataloader, model, loss_fn)))

RESULT = {"epochs": results}
