"""DOCUMENTATION of the modules without their own module test file, against their argument specs."""

import importlib
import re
from pathlib import Path

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


# --- every module: the action group, samples, contains, semantic markup --------------------------

ROOT = Path(__file__).resolve().parents[4]
MODULE_NAMES = sorted(path.stem for path in (ROOT / "plugins" / "modules").glob("*.py") if path.stem != "__init__")
# Literals that are spelled like an option or a return value of their module but name something else
# (a facts document section, a record's field, a key of a definition, a Nova name): C() is right for them.
LITERALS = {
    "compute_node_facts": {"ansible_facts"},  # Ansible's own return key, named in the description
    "floating_ip": {"floating_ips"},  # the facts section and each fixed IP's key in network_info
    "floating_ip_request": {"floating_ips"},  # Nova's table, the facts section, the ledger kind, the quota key
    "image_cache": {"images", "instances", "name"},  # the catalog mapping's key, the facts section, a record field
    "instance_record": {"instances", "host"},  # the facts section, the record's field
    "instance_request": {"name", "group"},  # a security group definition's key, Nova's scheduler hint
    "migration_request": {"flavor"},  # the instance record's field
    # facts keys, ipam_allocate's return key, network_info's key, and Nova's flags the options are named after
    "nova_network": {"dhcp_server", "instances", "network", "routing_source_ip", "public_interface", "dmz_cidr",
                     "force_snat_range", "metadata_port"},
    "schedule_instances": {"ignore_hosts"},  # Nova's filter property
}


def module_named(name):
    return importlib.import_module("ansible_collections.novalite.compute.plugins.modules." + name)


def test_the_compute_action_group_lists_every_module_sorted():
    group = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())["action_groups"]["compute"]
    assert group == MODULE_NAMES


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_every_return_value_has_a_sample_and_every_dict_says_what_it_contains(name):
    for where, entry in returned_values(yaml.safe_load(module_named(name).RETURN) or {}, name):
        assert entry.get("description"), where
        assert "sample" in entry, where + " has no sample"
        if (entry.get("type") == "dict" or entry.get("elements") == "dict") and not _always_empty(entry):
            assert entry.get("contains"), where + " is a dict without contains"


def _always_empty(entry):
    """A dict that is empty by design (network_info's VIF ``meta``, as Nova's was for FlatDHCP)."""
    return entry.get("sample") == {} and str(entry.get("description")).startswith("Empty")


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_documentation_uses_semantic_markup_and_stands_alone(name):
    module = module_named(name)
    text = module.DOCUMENTATION + module.RETURN
    assert not re.search(r"\bI\(", text), "options are O(...), values V(...), never I(...)"
    options = set(_option_paths(yaml.safe_load(module.DOCUMENTATION).get("options") or {}))
    returned = {where.split(".", 1)[1] for where, _entry in returned_values(yaml.safe_load(module.RETURN) or {}, name)}
    for literal in set(re.findall(r"\bC\(([a-z_.\[\]]+)\)", text)) - LITERALS.get(name, set()):
        assert literal not in options, "C(%s) names an option: O(%s)" % (literal, literal)
        assert literal not in returned, "C(%s) names a return value: RV(%s)" % (literal, literal)
    lowered = text.lower()
    assert "seed" not in lowered and "design.md" not in lowered and "nova-facts" not in lowered


def _option_paths(options, prefix=""):
    for key, option in options.items():
        yield prefix + key
        yield from _option_paths(option.get("suboptions") or {}, prefix + key + "[].")
