"""The roles' declared data: real defaults in the argument specs, the novalite_* fallbacks in one
place (the role inventory_defaults), no role reading another role's results through hostvars,
and every inventory variable a role reads documented in the README."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = ROOT / "roles"
INVENTORY_DEFAULTS = yaml.safe_load((ROLES / "inventory_defaults" / "defaults" / "main.yml").read_text())
NOVALITE_VARIABLE = re.compile(r"\bnovalite_[a-z_]+\b")
ONLY_A_VARIABLE = re.compile(r"^\{\{ *(novalite_[a-z_]+) *\}\}$")
# read per host by the schedule_instances action (documented there), not by a role
PER_HOST_SCHEDULER_VARIABLES = {"novalite_compute_enabled", "novalite_availability_zone"}
# names the scheduler facts, the host state fact, the build group, the lifecycle actions' group and the migrations' groups use;
# not inventory variables
NOT_INVENTORY = {"novalite_compute_node", "novalite_host_state", "novalite_build_hosts", "novalite_action_hosts"} | {
    "novalite_%s_%s" % (step, side) for step in ("resize", "live", "confirm", "revert") for side in ("sources", "targets")}


def role_names():
    return sorted(path.name for path in ROLES.iterdir() if path.is_dir())


def role_text(role):
    return "\n".join(path.read_text() for path in sorted((ROLES / role).rglob("*.y*ml")) + sorted(
        (ROLES / role).rglob("*.j2")))


def variables_read(text):
    return set(NOVALITE_VARIABLE.findall(text)) - NOT_INVENTORY


def readme_inventory_table():
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("Inventory variables that shape the flow"):readme.index("## The flow, step by step")]
    return set(NOVALITE_VARIABLE.findall(table))


def test_every_novalite_variable_a_role_or_playbook_reads_has_its_default_in_one_place_and_is_documented():
    read = set()
    for role in role_names():
        if role != "inventory_defaults":
            read |= variables_read(role_text(role))
    for playbook in (ROOT / "playbooks").glob("*.yml"):
        read |= variables_read(playbook.read_text())
    assert read - PER_HOST_SCHEDULER_VARIABLES <= set(INVENTORY_DEFAULTS)
    assert read | set(INVENTORY_DEFAULTS) <= readme_inventory_table()


@pytest.mark.parametrize("role", [r for r in role_names() if r != "inventory_defaults"])
def test_a_role_that_reads_a_novalite_variable_depends_on_inventory_defaults_and_repeats_no_fallback(role):
    text = role_text(role)
    if variables_read(text):
        meta = yaml.safe_load((ROLES / role / "meta" / "main.yml").read_text())
        assert {"role": "novalite.compute.inventory_defaults"} in meta["dependencies"]
    assert not re.search(r"novalite_[a-z_]+ *\| *default\(", text), "a novalite_* fallback outside inventory_defaults"
    assert "hostvars" not in text, "roles take parameters; they do not read other roles' results"


def spec_options(role):
    path = ROLES / role / "meta" / "argument_specs.yml"
    specs = yaml.safe_load(path.read_text())["argument_specs"] if path.exists() else {}
    return {name: option for entry in specs.values() for name, option in (entry.get("options") or {}).items()}


@pytest.mark.parametrize("role", [r for r in role_names() if r != "inventory_defaults"])
def test_argument_spec_defaults_are_the_real_ones(role):
    defaults_file = ROLES / role / "defaults" / "main.yml"
    defaults = (yaml.safe_load(defaults_file.read_text()) or {}) if defaults_file.exists() else {}
    options = spec_options(role)
    assert set(defaults) <= set(options), "defaults without an argument spec"
    for name, value in defaults.items():
        match = ONLY_A_VARIABLE.match(value) if isinstance(value, str) else None
        real = INVENTORY_DEFAULTS[match.group(1)] if match else value
        if isinstance(real, str) and "{{" in real:
            assert "default" not in options[name], "%s: a computed default is described, not stated" % name
            continue
        if name in ("request_networks", "floating_ip_networks"):  # the big private network: described in the spec
            continue
        assert options[name].get("default") == real, name


@pytest.mark.parametrize("role", [r for r in role_names() if (ROLES / r / "meta" / "argument_specs.yml").exists()])
def test_every_role_option_is_described_and_says_what_unset_means(role):
    """A description for every option; one that is neither required nor defaulted says what unset means
    (a computed default is described: "default ...", "by default ...", "unset, ...")."""
    specs = yaml.safe_load((ROLES / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    for entry_point, entry in specs.items():
        assert entry.get("short_description"), entry_point
        for name, option in (entry.get("options") or {}).items():
            where = "%s:%s.%s" % (role, entry_point, name)
            description = option.get("description")
            text = " ".join(description) if isinstance(description, list) else str(description or "")
            assert text, where + " has no description"
            if not option.get("required") and "default" not in option:
                assert re.search(r"\b(default|unset|else|none|left out)\b", text, re.I), \
                    where + ": neither required nor defaulted, and unset is not described"
