# Everyday tensor habits: creation, shapes, indexing, reductions that return (values, indices),
# sorting, masking, in-place updates, dtypes, and gradients through a mix of them.
import numpy as np
import torch

out = {}
a = torch.arange(12, dtype=torch.float32).reshape(3, 4)
out["zeros_like"] = torch.zeros_like(a)
out["full_like"] = torch.full_like(a, 2.5)
out["new_ones"] = a.new_ones((2, 2))
out["new_zeros"] = a.new_zeros(2, 3)
out["linspace"] = torch.linspace(0, 1, 5)
out["logspace"] = torch.logspace(0, 2, 3)
out["eye"] = torch.eye(3)
out["from_numpy"] = torch.from_numpy(np.array([[1, 2], [3, 4]]))
out["as_tensor"] = torch.as_tensor([1.5, 2.5])
out["t"] = a.t()
out["view_as"] = torch.ones(12).view_as(a)
out["expand"] = torch.tensor([[1.0], [2.0]]).expand(2, 3)
out["repeat"] = torch.tensor([1.0, 2.0]).repeat(2, 2)
out["chunk"] = torch.cat([c.sum(0, keepdim=True) for c in a.chunk(2, dim=1)])
out["split"] = torch.stack([s.sum() for s in a.split([1, 3], dim=1)])
out["narrow"] = a.narrow(1, 1, 2)
out["flip"] = a.flip(0)
out["squeeze"] = a.unsqueeze(0).squeeze(0)
out["permute"] = a.reshape(3, 2, 2).permute(2, 0, 1)
values, indices = a.max(dim=1)
out["max_values"], out["max_indices"] = values, indices
out["min_dim"] = a.min(dim=0).indices
sorted_values, order = torch.tensor([3.0, 1.0, 2.0]).sort(descending=True)
out["sort"] = sorted_values
out["sort_indices"] = order
out["argsort"] = torch.tensor([3.0, 1.0, 2.0]).argsort()
out["topk"] = a.flatten().topk(3).values
out["kthvalue"] = torch.tensor([5.0, 1.0, 4.0, 2.0]).kthvalue(2).values
out["masked_fill"] = a.masked_fill(a > 5, -1.0)
out["where"] = torch.where(a > 5, a, torch.zeros_like(a))
out["one_hot"] = torch.nn.functional.one_hot(torch.tensor([0, 2, 1]), num_classes=3)
out["norm"] = a.norm()
out["std"] = a.std(dim=1)
out["var"] = a.var()
out["prod"] = torch.tensor([1.0, 2.0, 3.0]).prod()
out["cumsum"] = a.cumsum(dim=1)
b = torch.tensor([0.5, -0.25, 0.75])
for name in ["log1p", "expm1", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh",
             "floor", "ceil", "round", "sign", "reciprocal", "square", "erf", "abs"]:
    out[name] = getattr(torch, name)(b)
out["rsqrt"] = torch.rsqrt(b.abs())
out["atan2"] = torch.atan2(b, torch.tensor([1.0, -1.0, 0.5]))
out["isnan"] = torch.isnan(torch.tensor([1.0, float("nan")]))
out["isinf"] = torch.tensor([1.0, float("inf")]).isinf()
out["isfinite"] = torch.isfinite(torch.tensor([1.0, float("-inf")]))
out["nan_to_num"] = torch.nan_to_num(torch.tensor([float("nan"), 1.0]), nan=0.0)
out["allclose"] = torch.allclose(a, a + 1e-9)
out["equal"] = torch.equal(a, a.clone())
out["numel"] = a.numel()
out["item"] = a[1, 2].item()
out["tolist"] = a[0].tolist()
out["randint_shape"] = list(torch.randint(5, (2, 3)).shape)
draws = torch.randint(3, 7, (100,))
out["randint_range"] = bool(((draws >= 3) & (draws < 7)).all())
out["dtypes"] = [str(t.dtype).split(".")[-1] for t in
                 (a.long(), a.double(), a.bool(), a.int(), torch.tensor([1, 2]))]
out["index"] = a[0, [1, 3]]
out["index2"] = torch.arange(24).reshape(2, 3, 4)[0, :, [1, 2]]
out["bool_index"] = a[a > 8]

c = a.clone()
c[c > 8] = 0
c[:, 0] += 100
c.clamp_(max=50)
out["inplace"] = c

x = torch.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
y = (x.sin() * x.exp()).sum() + x.norm() + x.std() + (x ** 2).prod() + x.cumsum(1).sum()
y = y + x.max(dim=1).values.sum() + x.sort(dim=0).values[0].sum() + x.t().flip(0)[0, 1]
y.backward()
out["grad"] = x.grad
out["y"] = y

RESULT = {key: (value.detach().numpy().tolist() if isinstance(value, torch.Tensor) else value)
          for key, value in out.items()}
