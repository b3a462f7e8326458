"""instance_power's service against a fake libvirt and a real facts document: every action, its
states in the records, idempotence, check mode, refusals before anything changes, and the undo."""

import json

import pytest

from ansible_collections.novalite.compute.plugins.doc_fragments.instance_host import ModuleDocFragment as InstanceHost
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.common.facts_store import FactsStore
from ansible_collections.novalite.compute.plugins.module_utils.virt.power_service import PowerService
from ansible_collections.novalite.compute.plugins.modules.instance_power import ARGUMENT_SPEC
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.fake_libvirt import (
    PAUSED, RUNNING, SHUTOFF, libvirt_error)

UUIDS = ["11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"]
NAMES = ["instance-00000001", "instance-00000002"]


def record(index, vm_state="active", power_state=1, task_state=None):
    return {"uuid": UUIDS[index], "name": NAMES[index], "display_name": "web-%d" % (index + 1),
            "vm_state": vm_state, "power_state": power_state, "task_state": task_state, "network_info": []}


@pytest.fixture
def facts(tmp_path):
    return FactsStore(str(tmp_path / "novalite.fact"))


@pytest.fixture
def host(conn, facts, instances_path):
    """Two running instances, recorded active."""
    with facts.transaction() as transaction:
        for index in range(2):
            transaction.document["instances"][UUIDS[index]] = record(index)
    for index in range(2):
        conn.defineXML("<domain type='qemu'><name>%s</name><uuid>%s</uuid><memory>131072</memory><vcpu>1</vcpu>"
                       "<os><type>hvm</type></os><devices/></domain>" % (NAMES[index], UUIDS[index]))
        conn.domains[NAMES[index]].state_code = RUNNING
        (instances_path / NAMES[index]).mkdir()
    return conn


def run(facts, instances_path, action, indexes=(0, 1), check_mode=False, **options):
    params = {name: spec.get("default") for name, spec in ARGUMENT_SPEC.items()}
    params.update(instances=[{"uuid": UUIDS[i]} for i in indexes], action=action, facts_path=facts.path,
                  instances_path=str(instances_path), wait_for="none")
    params.update(options)
    return PowerService(params, run_command=None).ensure(check_mode, diff=True)


def stored(facts, index):
    return facts.load()["instances"][UUIDS[index]]


def states(facts, index):
    found = stored(facts, index)
    return found["vm_state"], found["power_state"], found["task_state"]


def test_stop_presses_the_button_records_stopped_and_a_rerun_is_no_change(host, facts, instances_path):
    result = run(facts, instances_path, "stop")
    assert result["changed"] and [i["done"] for i in result["instances"]] == [["ACPI shutdown"]] * 2
    assert all(domain.state_code == SHUTOFF for domain in host.domains.values())
    assert states(facts, 0) == states(facts, 1) == ("stopped", 4, None)
    for check_mode in (True, False):
        again = run(facts, instances_path, "stop", check_mode=check_mode)
        assert again["changed"] is False and again["diff"] == []


def test_a_guest_that_ignores_the_button_is_destroyed_after_the_timeout(host, facts, instances_path):
    host.domains[NAMES[0]].obeys_acpi = False
    result = run(facts, instances_path, "stop", indexes=(0,), shutdown_timeout=0)
    assert result["instances"][0]["done"] == ["ACPI shutdown", "destroy after 0s"]
    assert host.domains[NAMES[0]].state_code == SHUTOFF and states(facts, 0) == ("stopped", 4, None)


def test_check_mode_reports_the_change_with_a_diff_and_changes_nothing(host, facts, instances_path):
    before = (host.snapshot(), json.dumps(facts.load(), sort_keys=True))
    result = run(facts, instances_path, "pause", check_mode=True)
    assert result["changed"] and result["records"][0]["vm_state"] == "paused"
    assert "vm_state: active" in result["diff"][0]["before"] and "vm_state: paused" in result["diff"][0]["after"]
    assert (host.snapshot(), json.dumps(facts.load(), sort_keys=True)) == before


def test_pause_and_unpause(host, facts, instances_path):
    run(facts, instances_path, "pause")
    assert host.domains[NAMES[0]].state_code == PAUSED and states(facts, 0) == ("paused", 3, None)
    assert run(facts, instances_path, "pause")["changed"] is False
    run(facts, instances_path, "unpause")
    assert host.domains[NAMES[0]].state_code == RUNNING and states(facts, 0) == ("active", 1, None)


def test_suspend_saves_the_memory_and_resume_restores_it(host, facts, instances_path):
    run(facts, instances_path, "suspend")
    domain = host.domains[NAMES[0]]
    assert domain.state_code == SHUTOFF and domain.managed_save
    assert states(facts, 0) == ("suspended", 4, None)  # shut off with its memory saved, as Nova recorded it
    assert run(facts, instances_path, "suspend")["changed"] is False
    run(facts, instances_path, "resume")
    assert domain.state_code == RUNNING and not domain.managed_save and states(facts, 0) == ("active", 1, None)


@pytest.mark.parametrize("action, vm_state, message", [
    ("pause", "stopped", "cannot pause web-1 (instance-00000001, uuid %s): its vm_state is stopped; pause needs "
                         "vm_state active" % UUIDS[0]),
    ("resume", "active", "its vm_state is active; resume needs vm_state suspended"),
    ("unpause", "active", "its vm_state is active; unpause needs vm_state paused"),
    ("start", "paused", "its vm_state is paused; start needs vm_state stopped"),
    ("reboot", "stopped", "a hard reboot is allowed in active, stopped, paused, suspended, error"),
])
def test_an_action_not_allowed_in_the_state_is_refused_before_anything_changes(host, facts, instances_path,
                                                                               action, vm_state, message):
    with facts.transaction() as transaction:
        transaction.document["instances"][UUIDS[0]]["vm_state"] = vm_state
    before = (host.snapshot(), json.dumps(facts.load(), sort_keys=True))
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        run(facts, instances_path, action)  # web-2 could do it: nothing happens to it either
    assert (host.snapshot(), json.dumps(facts.load(), sort_keys=True)) == before


def test_a_task_in_progress_refuses_everything_but_a_hard_reboot(host, facts, instances_path):
    with facts.transaction() as transaction:
        transaction.document["instances"][UUIDS[0]]["task_state"] = "powering-off"
    with pytest.raises(InvalidInput, match="its task_state is powering-off"):
        run(facts, instances_path, "stop", indexes=(0,))
    result = run(facts, instances_path, "reboot", indexes=(0,), reboot_type="hard")
    assert result["instances"][0]["reboot"] == "hard" and states(facts, 0) == ("active", 1, None)


def test_an_unknown_instance_is_refused(host, facts, instances_path):
    params_uuid = "33333333-3333-4333-8333-333333333333"
    with pytest.raises(InvalidInput, match="instance %s is not recorded on this host" % params_uuid):
        PowerService(dict({name: spec.get("default") for name, spec in ARGUMENT_SPEC.items()},
                          instances=[{"uuid": params_uuid}], action="stop", facts_path=facts.path,
                          wait_for="none"), None).ensure(False, False)


def test_reboot_always_acts_soft_and_falls_back_to_hard(host, facts, instances_path):
    host.domains[NAMES[1]].obeys_acpi = False
    result = run(facts, instances_path, "reboot", reboot_timeout=0)
    assert [i["reboot"] for i in result["instances"]] == ["soft", "hard (no power off within 0s)"]
    assert result["instances"][1]["done"] == ["ACPI shutdown", "destroy after 0s", "create"]
    assert all(domain.state_code == RUNNING for domain in host.domains.values())
    assert run(facts, instances_path, "reboot", check_mode=True)["changed"] is True


def test_a_hard_reboot_discards_a_saved_state_and_rewrites_libvirt_xml(host, facts, instances_path):
    run(facts, instances_path, "suspend", indexes=(0,))
    result = run(facts, instances_path, "reboot", indexes=(0,), reboot_type="hard")
    assert result["instances"][0]["done"] == ["discard saved state", "write libvirt.xml", "create"]
    assert (instances_path / NAMES[0] / "libvirt.xml").read_text() == host.domains[NAMES[0]].XMLDesc()
    assert states(facts, 0) == ("active", 1, None)


def test_records_and_libvirt_that_disagree_are_brought_to_the_target(host, facts, instances_path):
    host.domains[NAMES[0]].state_code = SHUTOFF  # powered off from inside; the record still says active
    result = run(facts, instances_path, "start", indexes=(0,))
    assert result["changed"] and host.domains[NAMES[0]].state_code == RUNNING
    host.domains[NAMES[0]].state_code = SHUTOFF
    assert run(facts, instances_path, "stop", indexes=(0,))["instances"][0]["steps"] == []
    assert states(facts, 0) == ("stopped", 4, None)


def test_a_failure_half_way_puts_every_domain_and_record_back(host, facts, instances_path):
    host.domains[NAMES[1]].save_error = libvirt_error(1, "no space left for the saved state")
    with pytest.raises(NovaliteError) as failure:
        run(facts, instances_path, "suspend")
    assert "managed save instance-00000002" in failure.value.msg and "no space left" in failure.value.msg
    assert host.domains[NAMES[0]].state_code == RUNNING and not host.domains[NAMES[0]].managed_save
    assert states(facts, 0) == states(facts, 1) == ("active", 1, None)
    assert failure.value.details["rollback_failures"] == []


def test_a_domain_that_cannot_be_put_back_leaves_its_instance_in_error(host, facts, instances_path):
    host.domains[NAMES[0]].start_error = libvirt_error(1, "cannot allocate memory")
    with pytest.raises(NovaliteError, match="rollback incomplete") as failure:
        run(facts, instances_path, "reboot", indexes=(0,), reboot_type="hard")
    assert failure.value.msg.startswith("starting instance-00000001: create instance-00000001: cannot allocate")
    assert host.domains[NAMES[0]].state_code == SHUTOFF
    found = stored(facts, 0)
    assert (found["vm_state"], found["power_state"], found["task_state"]) == ("error", 4, None)
    assert "could not be put back" in found["fault"]


def test_the_module_documentation_matches_its_argument_spec():
    from ansible_collections.novalite.compute.plugins.modules import instance_power
    from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.module_harness import (
        assert_documented)
    assert_documented(instance_power, fragments=[InstanceHost])
