"""compute/instance_actions.py: which action is allowed in which state, what is a no-op, and the
records' own fields changed under the facts lock."""

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.common.facts_store import FactsStore
from ansible_collections.novalite.compute.plugins.module_utils.compute.instance_actions import (
    ActionRefused, check_action, find_action, finished, rebuilt_vm_state, update_records)

STATES = ("active", "stopped", "paused", "suspended", "error", "building")
# (action, reboot_type): {vm_state: True (acts) / False (already there)}; the other states are refused
ALLOWED = {
    ("stop", "soft"): {"active": True, "error": True, "stopped": False},
    ("start", "soft"): {"stopped": True, "active": False},
    ("pause", "soft"): {"active": True, "paused": False},
    ("unpause", "soft"): {"paused": True},
    ("suspend", "soft"): {"active": True, "suspended": False},
    ("resume", "soft"): {"suspended": True},
    ("reboot", "soft"): {"active": True},
    ("reboot", "hard"): {"active": True, "stopped": True, "paused": True, "suspended": True, "error": True},
    ("rebuild", "soft"): {"active": True, "stopped": True, "error": True},
    ("snapshot", "soft"): {"active": True, "stopped": True, "paused": True, "suspended": True},
}


@pytest.mark.parametrize("key", sorted(ALLOWED), ids="-".join)
@pytest.mark.parametrize("vm_state", STATES)
def test_each_action_in_each_state(key, vm_state):
    action = find_action(*key)
    record = {"uuid": "u", "name": "instance-00000001", "display_name": "web", "vm_state": vm_state}
    if vm_state in ALLOWED[key]:
        assert check_action(record, action) is ALLOWED[key][vm_state]
    else:
        with pytest.raises(ActionRefused, match="cannot .* web .*its vm_state is %s" % vm_state):
            check_action(record, action)


def test_a_task_in_progress_is_refused_except_for_a_hard_reboot():
    record = {"display_name": "web", "vm_state": "active", "task_state": "image_snapshot"}
    with pytest.raises(ActionRefused, match="its task_state is image_snapshot"):
        check_action(record, find_action("stop"))
    assert check_action(record, find_action("reboot", "hard")) is True


def test_unknown_actions_and_reboot_types_are_refused():
    with pytest.raises(InvalidInput, match="unknown action 'migrate'"):
        find_action("migrate")
    with pytest.raises(InvalidInput, match="reboot_type 'warm'"):
        find_action("reboot", "warm")


def test_the_record_after_an_action_and_a_rebuild():
    done = finished({"fault": "x", "task_state": "pausing"}, "paused", 3)
    assert done == {"vm_state": "paused", "power_state": 3, "task_state": None}
    assert rebuilt_vm_state({"vm_state": "stopped"}) == "stopped" and rebuilt_vm_state({"vm_state": "error"}) == "active"


def test_update_records_changes_only_the_given_fields_of_the_given_records(tmp_path):
    store = FactsStore(str(tmp_path / "novalite.fact"))
    with store.transaction() as transaction:
        transaction.document["instances"].update(a={"uuid": "a", "vm_state": "active", "name": "x"},
                                                 b={"uuid": "b", "vm_state": "active"})
    before, after = update_records(store, {"a": {"vm_state": "stopped"}, "gone": {"vm_state": "stopped"}})
    assert after["a"] == {"uuid": "a", "vm_state": "stopped", "name": "x"} and after["gone"] is None
    assert store.load()["instances"]["b"]["vm_state"] == "active" and before["a"]["vm_state"] == "active"
    update_records(store, {"b": {"vm_state": "paused"}}, write=False)
    assert store.load()["instances"]["b"]["vm_state"] == "active"
