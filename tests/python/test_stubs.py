"""The stubs of the native module match the built module, and the package ships py.typed."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import trustline
import trustline._native

TOOL = Path(__file__).resolve().parents[2] / "bindings" / "python" / "tools" / "check_stubs.py"


def load_checker():
    spec = importlib.util.spec_from_file_location("check_stubs", TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_stubs"] = module
    spec.loader.exec_module(module)
    return module


def test_stubs_match_built_module():
    checker = load_checker()

    assert checker.compare(trustline._native, checker.STUB) == []


def test_checker_reports_drift(tmp_path):
    checker = load_checker()
    drifted = checker.STUB.read_text()
    drifted = drifted.replace("def verify(self, token: str)", "def verify(self, jwt: str)")
    drifted = drifted.replace("def _after_fork_in_child() -> None: ...", "")
    drifted += "\ndef removed_function() -> None: ...\n"
    stub = tmp_path / "_native.pyi"
    stub.write_text(drifted)

    problems = checker.compare(trustline._native, stub)

    assert any(problem.startswith("Guard.verify()") for problem in problems)
    assert "_after_fork_in_child: in the module but not in the stub" in problems
    assert "removed_function: in the stub but not in the module" in problems


def test_package_is_typed():
    package = Path(trustline.__file__).parent

    assert (package / "py.typed").exists()
    assert (package / "_native.pyi").exists()


def test_public_names_are_exported():
    for name in trustline.__all__:
        assert hasattr(trustline, name), name
