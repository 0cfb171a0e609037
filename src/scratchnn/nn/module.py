"""``Module`` and ``Parameter``: how a model keeps track of its weights.

A model is a tree of modules. Assigning an attribute registers it, exactly as in PyTorch::

    self.fc1 = Linear(784, 128)     # a sub-module      -> self._modules["fc1"]
    self.scale = Parameter(w)       # a trainable array -> self._parameters["scale"]
    self.register_buffer("mean", m) # state, not trained -> self._buffers["mean"]

so ``model.parameters()`` can walk the tree and hand every weight to an optimizer, and
``state_dict()`` can name every array with a dotted path (``"fc1.weight"``) for saving.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple, Self

import numpy as np

from scratchnn.device import check_device, device
from scratchnn.functional.args import array_of
from scratchnn.tensor import Tensor

Buffer = Tensor | np.ndarray  # a buffer may be a Tensor or a plain array


class Parameter(Tensor):
    """A Tensor that a Module registers as a trainable weight (a leaf, float, requires grad).

    ``Parameter(Tensor)`` shares the tensor's array and keeps its dtype; any other data is
    converted like ``Tensor(data)`` (float64 becomes float32) and integer data becomes float32.
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty(0, dtype=np.float32)
        dtype = None
        if isinstance(data, Tensor):
            dtype = data.dtype  # keep the tensor's dtype (Tensor() would make float64 float32)
            data = data.data
        super().__init__(data, dtype=dtype)
        if not np.issubdtype(self.data.dtype, np.floating):
            self.data = self.data.astype(np.float32)
        self.requires_grad_(requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class StateDictError(ValueError):
    """``load_state_dict`` found missing, unexpected or mis-shaped keys (all listed)."""

    def __init__(
        self,
        message: str,
        missing_keys: list[str],
        unexpected_keys: list[str],
        shape_mismatches: list[tuple[str, tuple[int, ...], tuple[int, ...]]],
    ) -> None:
        super().__init__(message)
        self.missing_keys = missing_keys
        self.unexpected_keys = unexpected_keys
        self.shape_mismatches = shape_mismatches  # (key, shape given, shape expected)


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` returns: keys the model has but the dict lacked, and back."""

    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (
            f"IncompatibleKeys(missing_keys={self.missing_keys}, "
            f"unexpected_keys={self.unexpected_keys})"
        )

    __str__ = __repr__


def _add_indent(text: str, spaces: int) -> str:
    """Indent every line but the first (used to nest a child's repr inside its parent's)."""
    first, *rest = text.split("\n")
    if not rest:
        return text
    pad = " " * spaces
    return "\n".join([first] + [pad + line if line.strip() else "" for line in rest])


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


class Module:
    """Base class of every layer and model: subclass it, assign layers in ``__init__``, and
    write ``forward``. Calling the module (``model(x)``) runs ``forward``.

    ``training`` is True after construction; ``eval()`` / ``train()`` set it on the whole tree
    (Dropout and BatchNorm behave differently in the two modes).
    """

    training: bool
    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, Buffer | None]
    _modules: dict[str, Module | None]
    _non_persistent_buffers: set[str]

    def __init__(self) -> None:
        # object.__setattr__: our own __setattr__ needs these dicts to exist already.
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_non_persistent_buffers", set())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------ registration
    def _check_init_called(self, what: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {what} before Module.__init__() call "
                "(call super().__init__() first in your __init__)"
            )

    def _check_new_name(self, name: Any, store: dict[str, Any]) -> None:
        if not isinstance(name, str):
            raise TypeError(f"name should be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f'name can\'t be empty or contain ".", got {name!r}')
        if hasattr(self, name) and name not in store:
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (a Parameter, or None for "no such weight", e.g. no bias)."""
        self._check_init_called("parameters")
        self._check_new_name(name, self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                "(Parameter or None required)"
            )
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Buffer | None, persistent: bool = True) -> None:
        """Register non-trainable state (a Tensor or ndarray, e.g. BatchNorm's running mean).

        Persistent buffers are saved in ``state_dict``; non-persistent ones are not.
        """
        self._check_init_called("buffers")
        self._check_new_name(name, self._buffers)
        if tensor is not None and not isinstance(tensor, (Tensor, np.ndarray)):
            raise TypeError(
                f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                "(Tensor, ndarray or None required)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as a child called ``name``."""
        self._check_init_called("module")
        if module is not None and not isinstance(module, Module):
            hint = ""
            if isinstance(module, type) and issubclass(module, Module):
                hint = f" (you passed the class; did you mean {module.__name__}()?)"
            raise TypeError(f"{type(module).__name__} is not a Module subclass{hint}")
        self._check_new_name(name, self._modules)
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            self._check_init_called("parameters")
            self._forget(name, keep=self._parameters)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                    "(Parameter or None expected)"
                )
            params[name] = None
        elif isinstance(value, Module):
            self._check_init_called("module")
            self._forget(name, keep=self._modules)
            self._modules[name] = value
        elif d.get("_modules") is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' "
                    "(Module or None expected)"
                )
            d["_modules"][name] = None
        elif d.get("_buffers") is not None and name in d["_buffers"]:
            if value is not None and not isinstance(value, (Tensor, np.ndarray)):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                    "(Tensor, ndarray or None expected)"
                )
            d["_buffers"][name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str, keep: dict[str, Any]) -> None:
        """Remove ``name`` from every store but ``keep`` (where it is about to be registered,
        keeping its position there)."""
        self.__dict__.pop(name, None)
        for store in (self._parameters, self._buffers, self._modules):
            if store is not keep:
                store.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails. Read self.__dict__ directly: during copy or
        # unpickling the stores may not exist yet, and self._parameters would recurse.
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        keys = [*super().__dir__(), *self._parameters, *self._buffers, *self._modules]
        return sorted(set(keys))

    # --------------------------------------------------------------- traversal
    def named_modules(
        self, memo: set[Module] | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """``(dotted name, module)`` for this module (name ``prefix``) and all below, depth
        first; a module reachable by two paths is listed once (unless ``remove_duplicate``
        is False)."""
        if memo is None:
            memo = set()
        if self in memo:
            return
        if remove_duplicate:
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                yield from module.named_modules(memo, _join(prefix, name), remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct sub-modules, each once."""
        seen: set[Module] = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def _named_members(
        self, store: str, prefix: str, recurse: bool, remove_duplicate: bool
    ) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()  # ids: Tensor's == is elementwise, so no set of tensors
        if recurse:
            modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
        else:
            modules = iter([(prefix, self)])
        for module_prefix, module in modules:
            for name, value in getattr(module, store).items():
                if value is None or id(value) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(value))
                yield _join(module_prefix, name), value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` pairs, e.g. ``("0.weight", ...)``, ``("fc1.bias",
        ...)``. A parameter shared by two modules is listed once, under its first name."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter once (what you give an optimizer)."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Buffer]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Buffer]:
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    # -------------------------------------------------------------- state dict
    def _state_items(self, prefix: str = "") -> Iterator[tuple[str, Tensor | np.ndarray]]:
        """Everything ``state_dict`` saves, in PyTorch's order: a module's own parameters,
        then its persistent buffers, then each child's. Shared arrays appear under every name.
        """
        for name, param in self._parameters.items():
            if param is not None:
                yield prefix + name, param
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers:
                yield prefix + name, buffer
        for name, module in self._modules.items():
            if module is not None:
                yield from module._state_items(prefix + name + ".")

    def state_dict(self, prefix: str = "") -> OrderedDict[str, np.ndarray]:
        """An ordered dict ``dotted name -> np.ndarray`` (a copy) of every parameter and
        persistent buffer: what you save to disk (``np.savez(path, **model.state_dict())``)."""
        return OrderedDict(
            (name, np.array(array_of(value), copy=True))
            for name, value in self._state_items(prefix)
        )

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Copy the arrays of ``state_dict`` into this module's parameters and buffers, in place
        (cast to each target's dtype), so optimizers holding the parameters keep working.

        Everything is checked before anything is copied: a shape mismatch is always an error;
        missing and unexpected keys are errors when ``strict`` (the default). The error
        (:class:`StateDictError`, a ValueError) lists every problem at once. Returns
        ``(missing_keys, unexpected_keys)``.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"expected state_dict to be dict-like, got {type(state_dict).__name__}"
            )
        targets = dict(self._state_items())
        missing = [key for key in targets if key not in state_dict]
        unexpected = [key for key in state_dict if key not in targets]
        sources: dict[str, np.ndarray] = {}
        mismatches: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = []
        for key, target in targets.items():
            if key not in state_dict:
                continue
            source = array_of(state_dict[key])
            expected = array_of(target).shape
            if source.shape != expected:
                mismatches.append((key, source.shape, expected))
            sources[key] = source

        problems = state_dict_problems(missing, unexpected, mismatches, strict)
        if problems:
            message = f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
            raise StateDictError(message + "\n\t".join(problems), missing, unexpected, mismatches)

        for key, source in sources.items():
            np.copyto(array_of(targets[key]), source, casting="unsafe")
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ modes
    def train(self, mode: bool = True) -> Self:
        """Set training mode on this module and every sub-module; returns self."""
        if not isinstance(mode, bool):
            raise TypeError(f"training mode is expected to be a bool, got {type(mode).__name__}")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> Self:
        """``train(False)``: Dropout becomes the identity, BatchNorm uses running stats."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of every parameter (``None``, or zeros in place)."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad.data[...] = 0

    def requires_grad_(self, requires_grad: bool = True) -> Self:
        """Switch gradient tracking of every parameter on or off (e.g. to freeze layers)."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def to(self, *args: Any, **kwargs: Any) -> Self:
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``: convert every floating-point
        parameter and buffer to ``dtype`` in place (the Parameter objects stay the same, so an
        optimizer made earlier still holds them). The device can only be the CPU."""
        dtype = kwargs.pop("dtype", None)
        kwargs.pop("non_blocking", None)
        devices = [kwargs.pop("device")] if "device" in kwargs else []
        if kwargs:
            raise TypeError(f"Module.to: unexpected keyword arguments {sorted(kwargs)}")
        for arg in args:
            if isinstance(arg, str | device):
                devices.append(arg)
            elif isinstance(arg, Tensor):
                dtype = arg.dtype
            else:
                dtype = arg
        for place in devices:
            check_device(place)
        if dtype is None:
            return self
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"Module.to: parameters must stay floating point, got {dtype}")
        for module in self.modules():
            for param in module._parameters.values():
                if param is not None:
                    param.data = param.data.astype(dtype)
                    param.grad = None
            for name, buffer in module._buffers.items():
                if isinstance(buffer, Tensor) and buffer.dtype.kind == "f":
                    buffer.data = buffer.data.astype(dtype)
                elif isinstance(buffer, np.ndarray) and buffer.dtype.kind == "f":
                    module._buffers[name] = buffer.astype(dtype)
        return self

    def double(self) -> Self:
        return self.to(np.float64)

    def cpu(self) -> Self:
        """Nothing to move: scratchnn computes on the CPU."""
        return self

    def cuda(self, device: Any = None) -> Self:
        check_device("cuda")
        return self

    def float(self) -> Self:
        return self.to(np.float32)

    def apply(self, fn: Callable[[Module], Any]) -> Self:
        """Call ``fn`` on every sub-module (children first), then on self; returns self.
        Typical use: custom init, ``model.apply(init_weights)``."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------- repr
    def extra_repr(self) -> str:
        """The text inside ``Name(...)``; layers override it (e.g. ``in_features=...``)."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({name}): " + _add_indent(repr(module), 2) for name, module in self._modules.items()
        ]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if len(extra_lines) == 1 and not child_lines:
            text += extra_lines[0]
        elif lines:
            text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"


def state_dict_problems(missing: list[str], unexpected: list[str],
                        mismatches: list[tuple[str, Any, Any]], strict: bool) -> list[str]:
    """PyTorch's lines for keys a state dict lacks or has extra (only when ``strict``) and
    for entries whose shape differs from the model's, as ``load_state_dict`` reports them."""
    problems = []
    if strict and missing:
        problems.append("Missing key(s) in state_dict: " + _quoted(missing) + ".")
    if strict and unexpected:
        problems.append("Unexpected key(s) in state_dict: " + _quoted(unexpected) + ".")
    for key, given, expected in mismatches:
        problems.append(
            f"size mismatch for {key}: copying a param with shape {given} from checkpoint, "
            f"the shape in current model is {expected}."
        )
    return problems


def _quoted(keys: list[str]) -> str:
    return ", ".join(f'"{key}"' for key in keys)
