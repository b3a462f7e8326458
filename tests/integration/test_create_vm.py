"""Issue 6 acceptance: create_vm.yml and delete_vm.yml on two sandbox compute hosts.

The tests run in order on one sandbox: refusals first (nothing may be allocated), then three
instances across the hosts, their re-run, the inventory, the delete and the re-create that reuses
the addresses, and a spawn that breaks and is rolled back.
"""

import json
import re
import subprocess

import pytest
import yaml

from flow_helpers import CREATE_VM, DELETE_VM, console_log, fixed_ip, host_leftovers, instances_named, warnings
from guests import pings, wait_for_console
from sandbox_ansible import BIN, REPO_ROOT, ansible_env, host_facts, run_playbook

ADMIN_PASSWORD = "Adm1n-pass-never-shown"
KEY_DATA = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKnovaliteTestKeyOnly test@novalite"
# Each guest pings the first addresses of the pool and prints whom it reached (the others' IPs
# are not known before they exist).
REACH_SCRIPT = """#!/bin/sh
seen=""
for round in $(seq 1 60); do
  for i in 2 3 4 5 6 7 8 9; do
    case " $seen " in *" $i "*) continue;; esac
    if ping -c 1 -W 1 10.1.0.$i >/dev/null 2>&1; then echo "reached 10.1.0.$i"; seen="$seen $i"; fi
  done
  sleep 1
done
"""


@pytest.fixture(scope="module")
def box(flow_sandbox):
    return flow_sandbox


def nothing_allocated(box):
    leftovers = [host_leftovers(host) for host in box.hosts]
    return all(held["records"] == [] and held["fixed_ips"] == [] for held in leftovers)


def big_image_catalog(test_catalog, tmp_path):
    """The test catalog plus an image larger than m1.small's 20 GB root disk (never fetched)."""
    catalog = yaml.safe_load(test_catalog.read_text())
    huge = dict(catalog["images"][-1], id="0b0a0b0a-0000-4000-8000-000000000001", name="huge-image",
                size=30 * 1024 ** 3)
    catalog["images"].append(huge)
    path = tmp_path / "catalog.yml"
    path.write_text(yaml.safe_dump(catalog))
    return path


@pytest.mark.parametrize("extra_vars, cause", [
    ({"vm_name": "q", "novalite_quotas": {"instances": 0}}, "quota exceeded for instances in project default"),
    ({"vm_name": "f", "flavor": "m9.huge"}, "unknown flavor 'm9.huge'"),
    ({"vm_name": "i", "image": "no-such-image"}, "image 'no-such-image' is not in"),
    ({"vm_name": "r", "flavor": "m1.xlarge"}, "No valid host was found"),
], ids=["quota", "flavor", "image", "no-host"])
def test_refused_requests_allocate_nothing(box, extra_vars, cause):
    run = run_playbook(box, CREATE_VM, extra_vars, may_fail=True)
    assert run.rc != 0 and cause in run.output
    assert nothing_allocated(box)


def test_image_too_big_for_the_flavor_is_refused(box, guest_image, tmp_path):
    catalog = big_image_catalog(guest_image["catalog.yml"], tmp_path)
    run = run_playbook(box, CREATE_VM, {"vm_name": "big", "flavor": "m1.small", "image": "huge-image",
                                        "novalite_image_catalog": str(catalog)}, may_fail=True)
    assert run.rc != 0 and "larger than the 20 GB root disk of flavor m1.small" in run.output
    assert nothing_allocated(box)


@pytest.fixture(scope="module")
def trio(box):
    """Three instances across the two hosts, with a config drive (key, password, user data)."""
    run = run_playbook(box, CREATE_VM, {"vm_name": "trio", "count": 3, "key_data": KEY_DATA,
                                        "admin_password": ADMIN_PASSWORD, "user_data": REACH_SCRIPT})
    return run, instances_named(box, "trio")


def test_three_instances_spread_over_both_hosts_and_are_active(trio):
    _run, records = trio
    assert sorted(records) == ["trio-1", "trio-2", "trio-3"]
    assert {r["host"] for r in records.values()} == {"compute1", "compute2"}
    assert all(r["vm_state"] == "active" and r["launched_at"] for r in records.values())
    assert len({fixed_ip(r) for r in records.values()}) == 3


def test_each_instance_answers_at_its_address_and_reaches_the_others(box, trio):
    _run, records = trio
    for record in records.values():
        assert pings(box.host(record["host"]), fixed_ip(record), count=2)
    for record in records.values():
        for other in records.values():
            if other is not record:
                wait_for_console(console_log(box, record), r"reached %s\b" % re.escape(fixed_ip(other)), timeout=120)


def test_config_drive_reached_the_guest_and_the_password_never_shows(box, trio):
    run, records = trio
    for record in records.values():
        console = console_log(box, record)
        wait_for_console(console, r"config-drive uuid=%s hostname=%s" % (record["uuid"], record["hostname"]))
        wait_for_console(console, r"config-drive public_keys=1")
        wait_for_console(console, r"config-drive admin_pass=set")
        assert ADMIN_PASSWORD not in console.read_text(errors="replace")
    assert ADMIN_PASSWORD not in run.output
    assert all(ADMIN_PASSWORD not in json.dumps(host_facts(host)) for host in box.hosts)


def test_create_and_delete_print_no_warning(box, trio):
    run, _records = trio
    assert warnings(run) == []
    run_playbook(box, CREATE_VM, {"vm_name": "quiet", "wait_for": "running"})
    deleted = run_playbook(box, DELETE_VM, {"vm_name": "quiet"})
    assert warnings(deleted) == [] and "deleted quiet" in deleted.output


def test_the_old_name_variable_is_refused_with_a_hint(box):
    run = run_playbook(box, CREATE_VM, {"name": "old"}, may_fail=True)
    assert run.rc != 0 and "-e vm_name=NAME" in run.output
    assert instances_named(box, "old") == {}


def test_rerun_changes_nothing_and_costs_what_one_instance_costs(box, trio):
    first, _records = trio
    again = run_playbook(box, CREATE_VM, {"vm_name": "trio", "count": 3})
    assert again.changed == 0, again.output[-3000:]
    # batching: the host with two instances ran the tasks of the host with one; compute1, first in
    # the play, also carries the run-once controller allocation for the whole run
    assert first.recap["compute1"]["ok"] == first.recap["compute2"]["ok"] + 1


def test_inventory_plugin_lists_the_instances_with_their_addresses(box, trio, tmp_path):
    _run, records = trio
    config = tmp_path / "instances.novalite.yml"
    config.write_text(yaml.safe_dump({"plugin": "novalite.compute.instances"}))
    listed = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(config), "--list"], cwd=REPO_ROOT,
                            env=ansible_env(box), capture_output=True, text=True, check=True)
    inventory = json.loads(listed.stdout, object_hook=trusted)
    hostvars = inventory["_meta"]["hostvars"]
    for name, record in records.items():
        assert hostvars[name]["ansible_host"] == fixed_ip(record)
        assert name in inventory["compute_%s" % record["host"]]["hosts"]
    assert sorted(inventory["flavor_m1_tiny"]["hosts"]) == sorted(records)
    assert sorted(inventory["project_default"]["hosts"]) == sorted(records)


def trusted(value):
    """ansible-inventory marks values read from hosts' facts as untrusted: {"__ansible_unsafe": v}."""
    return value.get("__ansible_unsafe", value) if isinstance(value, dict) and len(value) == 1 else value


def test_delete_frees_everything_and_a_new_create_reuses_the_addresses(box, trio):
    _run, records = trio
    addresses = sorted(fixed_ip(r) for r in records.values())
    run_playbook(box, DELETE_VM, {"vm_name": "trio"})
    for host in box.hosts:
        assert host_leftovers(host) == {"records": [], "fixed_ips": [], "domains": [], "filters": [],
                                        "instance_dirs": [], "hosts_lines": []}
        rules = host.run(["iptables-save"]).stdout  # the host's own DHCP address stays (metadata DNAT)
        assert [a for a in addresses if re.search(r"\b%s(?![0-9])" % re.escape(a), rules)] == []
    again = run_playbook(box, DELETE_VM, {"vm_name": "trio"})
    assert again.changed == 0 and "nothing to delete" in again.output

    run_playbook(box, CREATE_VM, {"vm_name": "again", "count": 3, "wait_for": "running"})
    assert sorted(fixed_ip(r) for r in instances_named(box, "again").values()) == addresses
    run_playbook(box, DELETE_VM, {"vm_name": "again"})


def test_a_broken_spawn_is_rolled_back_and_names_its_step(box):
    run = run_playbook(box, CREATE_VM, {"vm_name": "broken", "spawn_wait_timeout": 1}, may_fail=True)
    assert run.rc != 0
    assert "failed at step spawn" in run.output
    for host in box.hosts:
        assert host_leftovers(host) == {"records": [], "fixed_ips": [], "domains": [], "filters": [],
                                        "instance_dirs": [], "hosts_lines": []}
