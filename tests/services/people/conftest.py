"""Fixtures of the sign-in account tests: the first owner of the workspace "Kert"."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from reconbot.core.persistence.tables import Language
from reconbot.core.services.people.sign_in import first_run
from tests.support.people import PASSWORD


@pytest.fixture
def owner(engine: Engine) -> int:
    """Return the login account of Anna, who set reconbot up and owns the workspace "Kert"."""
    return first_run(engine, email="Anna@Kert.test", password=PASSWORD, owner_name="Anna", workspace_name="Kert",
                     country="HU", timezone="Europe/Budapest", currency="HUF", language=Language.HU)  # fmt: skip
