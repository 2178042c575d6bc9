"""The credentials a pushed delivery is checked with: found by the workspace's slug, never another's."""

from __future__ import annotations

from sqlalchemy import Engine

from reconbot.core.services.invoicing.sources import OWN, save_credentials, webhook_credentials
from reconbot.core.services.workspaces import open_workspace, workspace


def test_a_push_finds_the_credentials_of_the_workspace_its_address_names(engine: Engine, acme_workspace: int) -> None:
    other = open_workspace(engine, "bakery").id
    mine = save_credentials(engine, acme_workspace, OWN, {}, actor="test")
    theirs = save_credentials(engine, other, OWN, {}, actor="test")
    assert mine["webhook_secret"] != theirs["webhook_secret"]

    found = webhook_credentials(engine, workspace(engine, acme_workspace).slug, OWN)
    assert found is not None
    assert (found.workspace_id, found.values) == (acme_workspace, mine)
    bakery = webhook_credentials(engine, "bakery", OWN)
    assert bakery is not None and (bakery.workspace_id, bakery.values) == (other, theirs)


def test_no_credentials_for_an_unknown_workspace_or_a_system_it_did_not_set_up(
    engine: Engine, acme_workspace: int
) -> None:
    save_credentials(engine, acme_workspace, OWN, {}, actor="test")
    slug = workspace(engine, acme_workspace).slug
    assert webhook_credentials(engine, "no-such-workspace", OWN) is None
    assert webhook_credentials(engine, slug, "szamlazz") is None
    open_workspace(engine, "bakery")
    assert webhook_credentials(engine, "bakery", OWN) is None
