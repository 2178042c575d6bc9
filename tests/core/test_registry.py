"""One registry for bank providers and invoicing systems: look-up by name, lazy import, a clear unknown-name error."""

from __future__ import annotations

import pytest

from reconbot.core.banks.provider import PROVIDERS, BankProvider, provider_class
from reconbot.core.banks.sandbox import SandboxProvider
from reconbot.core.errors import ProviderError
from reconbot.core.invoicing.source import SOURCES, InvoiceSource, source_class
from reconbot.core.registry import Registry


def test_both_registries_read_as_mappings_of_names() -> None:
    assert list(PROVIDERS) == ["sandbox", "enable-banking", "gocardless"]
    assert list(SOURCES) == ["billingo", "fakturownia", "szamlazz"]
    assert "sandbox" in PROVIDERS and "own" not in SOURCES and len(SOURCES) == 3


def test_every_entry_loads_a_class_of_the_interface() -> None:
    assert provider_class("sandbox") is SandboxProvider
    for name in PROVIDERS:
        loaded = provider_class(name)
        assert issubclass(loaded, BankProvider) and loaded.name == name
    for name in SOURCES:
        found = source_class(name)
        assert issubclass(found, InvoiceSource) and found.name == name


@pytest.mark.parametrize(
    ("registry", "name", "message"),
    [
        (PROVIDERS, "revolut", "unknown bank provider 'revolut'; choose one of: sandbox, enable-banking, gocardless"),
        (SOURCES, "own", "unknown invoicing system 'own'; choose one of: billingo, fakturownia, szamlazz"),
    ],
)
def test_an_unknown_name_is_a_permanent_error_naming_the_choices(
    registry: Registry[object], name: str, message: str
) -> None:
    with pytest.raises(ProviderError) as raised:
        registry.load(name)
    assert str(raised.value) == message and raised.value.permanent


def test_an_entry_naming_no_subclass_of_the_interface_is_a_registry_mistake() -> None:
    wrong: Registry[BankProvider] = Registry(
        "bank provider", BankProvider, {"odd": "reconbot.core.banks.model:Balance"}
    )
    with pytest.raises(TypeError, match=r"odd.*is not a BankProvider"):
        wrong.load("odd")
