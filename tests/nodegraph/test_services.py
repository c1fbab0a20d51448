"""registry.services: what packs offer the editor, the CLI and the server, one typed field per service."""

from __future__ import annotations

from dataclasses import fields

import pytest

from nodegraph import Graph, NodeRegistry, ValidationError, default_registry
from nodegraph.quality import check_options
from nodegraph.services import Services


def test_the_built_in_packs_provide_every_service():
    services = default_registry().services
    assert services.provided() == [f.name for f in fields(Services)]
    assert all(callable(getattr(services, name)) for name in services.provided())


def test_a_pack_provides_a_service_by_setting_its_field():
    def register(registry):
        registry.services.describe_credentials = lambda path: f"signed: {path}"

    registry = NodeRegistry()
    assert registry.services.describe_credentials is None and registry.services.provided() == []
    registry.load_pack(register, "credentials")
    assert registry.services.describe_credentials("a.mp4") == "signed: a.mp4"
    assert registry.services.provided() == ["describe_credentials"]


def test_a_misspelt_service_fails_where_the_pack_sets_it():
    with pytest.raises(AttributeError, match="check_qualty"):
        Services().check_qualty = print


def test_a_missing_service_names_the_pack_to_install():
    with pytest.raises(ValidationError, match="--contact-sheet needs the input/output node pack, which is not "
                                              "installed"):
        Services().require("contact_sheet", "--contact-sheet")
    with pytest.raises(ValidationError, match="checking quality needs the evaluation node pack, which is not "
                                              "installed"):
        check_options(NodeRegistry(), Graph(), [], {}, 0)
