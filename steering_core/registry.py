"""One registry per plug-in kind (samplers, models, generators, synthetic users).

A registry lists every plug-in from a table of lazy "module:Class" entries, so listing names
imports nothing (diffusers' lazy module does the same); the module is imported on `get`, and
its class registers itself with the decorator, which refuses duplicate names.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

from steering_core.errors import InvalidInput

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps registered names to plug-in classes; refuses duplicates and unknown names.

    `lazy`: name -> "module:Class" for every plug-in of the kind, imported on first `get`.
    `check`: called with each class as it registers (a contract the registry enforces).
    """

    def __init__(
        self,
        kind: str,
        lazy: Mapping[str, str] | None = None,
        check: Callable[[T], None] | None = None,
    ) -> None:
        self.kind = kind
        self.lazy: dict[str, str] = dict(lazy or {})
        self._check = check
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def decorate(cls: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            target = self.lazy.get(name)
            where = f"{cls.__module__}:{cls.__qualname__}"  # type: ignore[attr-defined]
            if target is not None and target != where:
                raise ValueError(f"{self.kind} {name!r} is declared as {target}, not {where}")
            if self._check is not None:
                self._check(cls)
            self._entries[name] = cls
            cls.registered_name = name  # type: ignore[attr-defined]
            return cls

        return decorate

    def get(self, name: str) -> T:
        if name not in self._entries and name in self.lazy:
            importlib.import_module(self.lazy[name].partition(":")[0])
        try:
            return self._entries[name]
        except KeyError:
            if name in self.lazy:
                raise LookupError(
                    f"{self.kind} {name!r}: {self.lazy[name]} did not register it"
                ) from None
            raise InvalidInput(
                f"unknown {self.kind} {name!r}; allowed: {', '.join(self.names())}"
            ) from None

    def names(self) -> list[str]:
        """Every plug-in of the kind, imported or not."""
        return sorted({*self._entries, *self.lazy})

    def __contains__(self, name: object) -> bool:
        return name in self._entries or name in self.lazy
