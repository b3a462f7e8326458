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
