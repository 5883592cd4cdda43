"""Every module's docstring examples run (sqlglot's habit: examples cannot rot)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import ducksets

MODULES = sorted(
    name
    for _, name, _ in pkgutil.iter_modules(ducksets.__path__, "ducksets.")
    if name != "ducksets.__main__"
)


@pytest.mark.parametrize("module_name", MODULES)
def test_doctests(module_name: str) -> None:
    module = importlib.import_module(module_name)
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert failures == 0
