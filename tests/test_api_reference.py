"""The API reference covers every public module, and every public name has a docstring."""

import importlib
import inspect
import pathlib
import re

import pytest

import companion

API_PAGE = pathlib.Path(__file__).parents[1] / "book" / "appendix" / "api.md"
MODULES = [f"companion.{name}" for name in companion._SUBMODULES]


def public_names(module) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:
        pytest.fail(f"{module.__name__} must declare __all__ (explicit re-exports)")
    return list(names)


@pytest.mark.parametrize("module_name", MODULES)
def test_module_is_in_the_api_reference(module_name):
    documented = set(re.findall(r"\.\. automodule:: (\S+)", API_PAGE.read_text()))
    assert module_name in documented, f"add `.. automodule:: {module_name}` to {API_PAGE.name}"


@pytest.mark.parametrize("module_name", MODULES)
def test_public_names_have_docstrings(module_name):
    module = importlib.import_module(module_name)
    assert inspect.getdoc(module), f"{module_name} has no module docstring"
    missing = []
    for name in public_names(module):
        obj = getattr(module, name)
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        if not inspect.getdoc(obj):
            missing.append(name)
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr.startswith("_") or not callable(member):
                    continue
                if not inspect.getdoc(member):
                    missing.append(f"{name}.{attr}")
    assert not missing, f"public names without a docstring in {module_name}: {missing}"
