"""Integrations by name: each name points at a ``"module:Class"`` string, imported on first use.

Bank providers (``reconbot.core.banks.provider.PROVIDERS``) and invoicing systems
(``reconbot.core.invoicing.source.SOURCES``) are registered this way, so a command pays the import
of only the integration it uses. A registry reads as a mapping of the names: ``name in PROVIDERS``,
``list(SOURCES)``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar, cast

from reconbot.core.errors import ProviderError

T = TypeVar("T")


class Registry(Mapping[str, str], Generic[T]):
    """The implementations of one interface (``interface``, the ``T`` of ``Registry[T]``) by the name users
    type; ``kind`` is what the error for an unknown name calls them ("bank provider", "invoicing system")."""

    # ``interface`` is a plain ``type``: an abstract class is refused where mypy expects ``type[T]``.
    def __init__(self, kind: str, interface: type, entries: Mapping[str, str]) -> None:
        self.kind = kind
        self._interface = interface
        self._entries = dict(entries)

    def __getitem__(self, name: str) -> str:
        return self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def load(self, name: str) -> type[T]:
        """Return the class registered as ``name``, importing its module now.

        Raises ``ProviderError`` (permanent) naming the choices for an unknown name, and TypeError when
        the entry does not name a subclass of the interface (a mistake in the registry itself).
        """
        if name not in self._entries:
            choices = ", ".join(self._entries)
            raise ProviderError(f"unknown {self.kind} {name!r}; choose one of: {choices}", permanent=True)
        module, _, attribute = self._entries[name].partition(":")
        found = getattr(importlib.import_module(module), attribute)
        if not (isinstance(found, type) and issubclass(found, self._interface)):
            raise TypeError(f"{self.kind} {name!r}: {self._entries[name]} is not a {self._interface.__name__}")
        return cast("type[T]", found)
