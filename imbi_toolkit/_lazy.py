"""Lazy public names for packages whose import must stay cheap (PEP 562)."""

from __future__ import annotations

import importlib
import sys
import typing
from collections import abc


def exports(
    package: str, names: abc.Mapping[str, str], public: abc.Iterable[str]
) -> tuple[abc.Callable[[str], typing.Any], abc.Callable[[], list[str]]]:
    """Return a package's ``__getattr__`` and ``__dir__``.

    Args:
        package: The package's ``__name__``.
        names: Public name -> module that defines it; the module is imported
            the first time the name is read, and the value is then cached in
            the package so later reads cost nothing.
        public: The package's ``__all__``.

    Returns:
        The two functions, to assign to ``__getattr__`` and ``__dir__``.
    """
    listed = frozenset(public)

    def __getattr__(name: str) -> typing.Any:  # noqa: N807
        module = names.get(name)
        if module is None:
            raise AttributeError(f'module {package!r} has no attribute {name!r}')
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:  # noqa: N807
        return sorted({*vars(sys.modules[package]), *listed})

    return __getattr__, __dir__
