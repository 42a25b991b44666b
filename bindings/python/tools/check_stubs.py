"""Compare the stubs of ``trustline._native`` with the built module.

Every public name of the module and of its classes must be in ``_native.pyi`` and the
reverse, and each function's parameters (names, kinds, which have defaults) must match
the signature pyo3 records in ``__text_signature__``. Exits 1 and lists each mismatch.

Usage: python bindings/python/tools/check_stubs.py [path/to/_native.pyi]
"""

from __future__ import annotations

import ast
import inspect
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

STUB = Path(__file__).resolve().parents[1] / "python" / "trustline" / "_native.pyi"
# Names every extension module has, and aliases that exist only in the stub.
MODULE_DUNDERS = {"__doc__", "__file__", "__loader__", "__name__", "__package__", "__spec__", "__all__"}

Params = List[Tuple[str, str, bool]]


def stub_params(function: ast.FunctionDef) -> Params:
    """Return (name, kind, has_default) for each parameter, without self/cls."""
    arguments = function.args
    params: Params = []
    positional = arguments.posonlyargs + arguments.args
    first_default = len(positional) - len(arguments.defaults)
    for index, argument in enumerate(positional):
        params.append((argument.arg, "positional", index >= first_default))
    if arguments.vararg:
        params.append((arguments.vararg.arg, "var_positional", False))
    for argument, default in zip(arguments.kwonlyargs, arguments.kw_defaults):
        params.append((argument.arg, "keyword_only", default is not None))
    if arguments.kwarg:
        params.append((arguments.kwarg.arg, "var_keyword", False))
    decorators = {ast.unparse(decorator) for decorator in function.decorator_list}
    if "staticmethod" not in decorators and params and params[0][0] in ("self", "cls"):
        params = params[1:]
    return params


KINDS = {
    inspect.Parameter.POSITIONAL_ONLY: "positional",
    inspect.Parameter.POSITIONAL_OR_KEYWORD: "positional",
    inspect.Parameter.VAR_POSITIONAL: "var_positional",
    inspect.Parameter.KEYWORD_ONLY: "keyword_only",
    inspect.Parameter.VAR_KEYWORD: "var_keyword",
}


def runtime_params(obj: Any) -> Params:
    signature = inspect.signature(obj)
    params: Params = []
    for parameter in signature.parameters.values():
        if parameter.name in ("self", "cls", "$self", "$type"):
            continue
        has_default = parameter.default is not inspect.Parameter.empty
        params.append((parameter.name, KINDS[parameter.kind], has_default))
    return params


def stub_definitions(tree: ast.Module) -> Tuple[Dict[str, Any], Dict[str, Dict[str, Any]]]:
    """Return the module-level names and, per class, its member definitions."""
    names: Dict[str, Any] = {}
    classes: Dict[str, Dict[str, Any]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names[node.name] = node
            classes[node.name] = {
                member.name: member for member in node.body if isinstance(member, ast.FunctionDef)
            }
        elif isinstance(node, ast.FunctionDef):
            names[node.name] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = node
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    names[target.id] = node
    return names, classes


def compare(module: Any, stub_path: Path) -> List[str]:
    tree = ast.parse(stub_path.read_text())
    names, classes = stub_definitions(tree)
    problems: List[str] = []

    runtime_names = {name for name in dir(module) if name not in MODULE_DUNDERS}
    stub_only_aliases = {name for name, node in names.items() if isinstance(node, ast.Assign)}
    for name in sorted(runtime_names - set(names)):
        problems.append(f"{name}: in the module but not in the stub")
    for name in sorted(set(names) - runtime_names - stub_only_aliases):
        problems.append(f"{name}: in the stub but not in the module")

    for name in sorted(runtime_names & set(names)):
        obj = getattr(module, name)
        node = names[name]
        if isinstance(node, ast.FunctionDef):
            expected, actual = stub_params(node), runtime_params(obj)
            if expected != actual:
                problems.append(f"{name}(): stub {expected} != module {actual}")
        if isinstance(node, ast.ClassDef):
            problems.extend(compare_class(name, obj, classes[name]))
    return problems


def compare_class(name: str, cls: type, members: Dict[str, ast.FunctionDef]) -> List[str]:
    problems: List[str] = []
    runtime_members = {member for member in vars(cls) if not member.startswith("__")}
    for member in sorted(runtime_members - set(members)):
        problems.append(f"{name}.{member}: in the module but not in the stub")
    for member in sorted(set(members) - runtime_members - {"__new__"}):
        problems.append(f"{name}.{member}: in the stub but not in the module")

    for member in sorted(runtime_members & set(members)):
        node = members[member]
        decorators = {ast.unparse(decorator) for decorator in node.decorator_list}
        if "property" in decorators:
            if not inspect.isdatadescriptor(vars(cls)[member]):
                problems.append(f"{name}.{member}: a property in the stub but not in the module")
            continue
        expected, actual = stub_params(node), runtime_params(getattr(cls, member))
        if expected != actual:
            problems.append(f"{name}.{member}(): stub {expected} != module {actual}")

    if "__new__" in members:
        if cls.__text_signature__ is None and sys.version_info < (3, 10):  # type: ignore[attr-defined]
            # An abi3 class on Python 3.9 carries no constructor signature to compare.
            return problems
        # pyo3 records the constructor's signature on the class.
        expected, actual = stub_params(members["__new__"]), runtime_params(cls)
        if expected != actual:
            problems.append(f"{name}(): stub {expected} != module {actual}")
    elif cls.__text_signature__ is not None:  # type: ignore[attr-defined]
        problems.append(f"{name}: the module has a constructor but the stub has no __new__")
    return problems


def main() -> int:
    import trustline._native as native

    stub_path = Path(sys.argv[1]) if len(sys.argv) > 1 else STUB
    problems = compare(native, stub_path)
    for problem in problems:
        print(f"stub mismatch: {problem}")
    if not problems:
        print(f"{stub_path.name} matches {native.__file__}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
