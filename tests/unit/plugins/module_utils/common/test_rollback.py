import threading

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.common.rollback import (
    Rollback, apply_steps, apply_together, undo_on_failure)


class Step:
    def __init__(self, name, log, changed=True, fail=None, undo_fails=False):
        self.name, self.log, self.changed, self.fail, self.undo_fails = name, log, changed, fail, undo_fails

    def apply(self):
        self.log.append("apply " + self.name)
        if self.fail:
            raise self.fail

    def undo(self):
        self.log.append("undo " + self.name)
        if self.undo_fails:
            raise OSError("cannot undo " + self.name)


def test_success_keeps_everything():
    log = []
    with undo_on_failure() as rollback:
        apply_steps(rollback, [Step("a", log), Step("b", log, changed=False)])
    assert log == ["apply a"]


@pytest.mark.parametrize("error", [NovaliteError("boom"), OSError(28, "No space left on device"),
                                   KeyError("bug")])
def test_any_exception_undoes_newest_first_and_names_the_step(error):
    log = []
    with pytest.raises(NovaliteError) as caught:
        with undo_on_failure() as rollback:
            apply_steps(rollback, [Step("a", log), Step("b", log), Step("c", log, fail=error)])
    assert log == ["apply a", "apply b", "apply c", "undo c", "undo b", "undo a"]
    failure = caught.value
    assert failure.msg.startswith("c: ")
    assert failure.details["failed_step"] == "c"
    assert failure.details["rolled_back"] == ["c", "b", "a"]
    assert failure.details["rollback_failures"] == []


def test_failed_undo_is_reported_and_the_rest_still_undone():
    log = []
    with pytest.raises(NovaliteError) as caught:
        with undo_on_failure() as rollback:
            apply_steps(rollback, [Step("a", log), Step("b", log, undo_fails=True),
                                   Step("c", log, fail=NovaliteError("boom"))])
    assert log[-3:] == ["undo c", "undo b", "undo a"]
    assert caught.value.details["rollback_failures"] == ["b: OSError: cannot undo b"]
    assert "rollback incomplete" in caught.value.msg


def test_recorded_undos_and_nested_steps():
    undone = []
    with pytest.raises(NovaliteError) as caught:
        with undo_on_failure() as rollback:
            with rollback.step("define domains"):
                rollback.record("undefine vm1", lambda: undone.append("vm1"))
                with rollback.step("define vm2"):
                    raise OSError(13, "Permission denied")
    assert undone == ["vm1"]
    assert caught.value.details["failed_step"] == "define vm2"
    assert caught.value.msg == "define vm2: Permission denied"
    assert "exception" in caught.value.details  # the traceback, for -vvv


def test_interrupt_still_undoes_and_propagates():
    undone = []
    with pytest.raises(KeyboardInterrupt):
        with undo_on_failure() as rollback:
            rollback.record("x", lambda: undone.append("x"))
            raise KeyboardInterrupt
    assert undone == ["x"]


def test_rollback_reused_by_caller():
    rollback = Rollback()
    rollback.record("x", lambda: None)
    with undo_on_failure(rollback):
        pass
    assert rollback.undo() == ([], [])  # forgotten after success


def test_apply_together_runs_the_calls_at_once_and_records_each_undo_in_item_order():
    together, log = threading.Barrier(3, timeout=5), []  # broken unless the three calls overlap
    with undo_on_failure() as rollback:
        apply_together(rollback, ["a", "b", "c"], lambda item: "start " + item, lambda item: together.wait(),
                       undo=lambda item: ("undo " + item, lambda: log.append("undo " + item)))
        assert [description for description, _undo in rollback._undos] == ["undo a", "undo b", "undo c"]
    assert log == []


def test_apply_together_undoes_the_calls_that_succeeded_and_names_the_first_failed_item():
    log = []

    def start(item):
        if item in ("b", "c"):
            raise NovaliteError("cannot start " + item)
        log.append("start " + item)
    with pytest.raises(NovaliteError) as caught:
        with undo_on_failure() as rollback:
            apply_together(rollback, ["a", "b", "c", "d"], lambda item: "start " + item, start,
                           undo=lambda item: ("undo " + item, lambda: log.append("undo " + item)))
    assert sorted(log[:2]) == ["start a", "start d"]
    assert log[2:] == ["undo d", "undo a"]
    assert caught.value.details["failed_step"] == "start b"
    assert caught.value.details["rolled_back"] == ["undo d", "undo a"]
