"""DOCUMENTATION of the modules without their own module test file, against their argument specs."""

import re

import pytest
import yaml

from ansible_collections.novalite.compute.plugins.modules import image_cache
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.module_harness import assert_documented


@pytest.mark.parametrize("module", [image_cache], ids=lambda module: module.__name__.rsplit(".", 1)[1])
def test_documentation_matches_the_argument_spec(module):
    assert_documented(module)


def returned_values(entries, where="RETURN"):
    for name, entry in entries.items():
        yield "%s.%s" % (where, name), entry
        yield from returned_values(entry.get("contains") or {}, "%s.%s" % (where, name))


def test_image_cache_return_values_have_samples_and_dicts_say_what_they_contain():
    returned = yaml.safe_load(image_cache.RETURN)
    for where, entry in returned_values(returned):
        assert entry.get("description"), where
        if where.count(".") == 1:  # a top-level value
            assert "sample" in entry, where
        if entry["type"] == "dict" or entry.get("elements") == "dict":
            assert entry.get("contains"), where


def test_image_cache_documentation_uses_semantic_markup_and_stands_alone():
    text = image_cache.DOCUMENTATION + image_cache.RETURN
    assert not re.search(r"\bI\(", text), "options are O(...), values V(...)"
    assert "seed" not in text.lower() and "DESIGN" not in text
    for option in re.findall(r"O\(([a-z_]+)", text):
        assert option in image_cache.ARGUMENT_SPEC, option


@pytest.mark.parametrize("name", ["instance_resize", "live_migration"])
def test_the_migration_modules_are_documented_with_samples_and_semantic_markup(name):
    module = __import__("ansible_collections.novalite.compute.plugins.modules." + name, fromlist=["main"])
    assert_documented(module)
    for where, entry in returned_values(yaml.safe_load(module.RETURN)):
        assert entry.get("description"), where
        if where.count(".") == 1:
            assert "sample" in entry, where
    text = module.DOCUMENTATION + module.RETURN
    assert not re.search(r"\bI\(", text) and "seed" not in text.lower()
    for option in re.findall(r"O\(([a-z_]+)", text):
        assert option in module.ARGUMENT_SPEC, option


def test_migration_request_documents_the_arguments_its_action_takes():
    from types import SimpleNamespace  # pylint: disable=import-outside-toplevel
    from ansible_collections.novalite.compute.plugins.action import migration_request as action  # pylint: disable=import-outside-toplevel
    from ansible_collections.novalite.compute.plugins.modules import migration_request  # pylint: disable=import-outside-toplevel
    assert_documented(SimpleNamespace(DOCUMENTATION=migration_request.DOCUMENTATION, ARGUMENT_SPEC=action.ARGUMENT_SPEC,
                                      EXAMPLES=migration_request.EXAMPLES, RETURN=migration_request.RETURN))
