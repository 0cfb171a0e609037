"""The Tensor's whole API is declared in its class body (tensor.py), where readers, help(),
IDEs and type checkers see it; nothing is attached to the class from outside at import."""

import ast
import inspect
import re
from pathlib import Path

import scratchnn
import scratchnn.functional as F
from scratchnn.tensor import Tensor

SOURCE = Path(inspect.getsourcefile(Tensor)).read_text()


def class_body_names() -> set[str]:
    tree = ast.parse(SOURCE)
    body = next(node for node in tree.body if isinstance(node, ast.ClassDef)
                and node.name == "Tensor").body
    names = set()
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                for element in ast.walk(target):
                    if isinstance(element, ast.Name):
                        names.add(element.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_every_attribute_of_tensor_is_declared_in_its_class_body():
    assert scratchnn.functional is F  # everything is imported
    declared = class_body_names()
    slots = set(Tensor.__slots__)
    attached = sorted(name for name in vars(Tensor)
                      if name not in declared | slots and not name.startswith("__"))
    assert attached == []
    dunders = {name for name in vars(Tensor) if name.startswith("__")} - declared - {
        "__module__", "__doc__", "__slots__", "__weakref__", "__dict__", "__annotations__",
        "__firstlineno__", "__static_attributes__",
        "__slotnames__"} - set(Tensor.__slots__)  # copy/pickle caches __slotnames__
    assert dunders == set()


def test_every_method_calls_a_function_the_functional_api_has():
    called = set(re.findall(r"_functional\.(\w+)", SOURCE))
    assert called and sorted(name for name in called if not hasattr(F, name)) == []


def test_the_everyday_api_is_there_with_pytorchs_names():
    expected = """add sub mul div pow matmul exp log sqrt abs clamp clip relu sigmoid tanh softmax
    log_softmax sum mean max min amax amin argmax argmin prod std var norm cumsum any all
    reshape view view_as flatten squeeze unsqueeze permute transpose expand expand_as repeat t
    chunk split narrow flip sort argsort topk kthvalue masked_fill where gather clone contiguous
    log1p expm1 sin cos tan asin acos atan atan2 sinh cosh floor ceil round sign reciprocal
    rsqrt square erf isclose allclose isnan isinf isfinite nan_to_num equal numel item tolist
    new_zeros new_ones new_tensor to float double long int bool cpu detach backward
    requires_grad_ add_ sub_ mul_ div_ pow_ clamp_ zero_ fill_ copy_ normal_ uniform_
    register_post_accumulate_grad_hook""".split()
    missing = [name for name in expected if not callable(getattr(Tensor, name, None))]
    assert missing == []
