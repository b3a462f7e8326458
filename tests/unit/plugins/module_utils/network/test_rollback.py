import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.network.rollback import apply_or_undo


class Step:
    def __init__(self, name, journal, changed=True, fails=None, undo_fails=False):
        self.name, self.journal, self.changed = name, journal, changed
        self.fails, self.undo_fails = fails, undo_fails

    def apply(self):
        self.journal.append("apply " + self.name)
        if self.fails:
            raise self.fails

    def undo(self):
        self.journal.append("undo " + self.name)
        if self.undo_fails:
            raise NovaliteError("cannot undo")


def test_changed_steps_are_applied_in_order_and_nothing_is_undone():
    journal = []
    apply_or_undo([Step("a", journal), Step("b", journal, changed=False), Step("c", journal)])
    assert journal == ["apply a", "apply c"]


def test_a_novalite_error_undoes_the_applied_steps_and_reports_them():
    journal = []
    steps = [Step("a", journal, undo_fails=True), Step("b", journal, fails=NovaliteError("boom", rc=1)),
             Step("c", journal)]
    with pytest.raises(NovaliteError, match="^boom$") as caught:
        apply_or_undo(steps)
    assert journal == ["apply a", "apply b", "undo b", "undo a"]
    assert caught.value.details == {"rc": 1, "rolled_back": ["b", "a"], "rollback_failures": ["a: cannot undo"]}


@pytest.mark.parametrize("error", [RuntimeError("bug"), KeyboardInterrupt()])
def test_any_other_exception_still_undoes_the_applied_steps(error):
    journal = []
    with pytest.raises(type(error)) as caught:
        apply_or_undo([Step("a", journal), Step("b", journal, fails=error)])
    assert caught.value is error
    assert journal == ["apply a", "apply b", "undo b", "undo a"]


def test_an_undo_that_fails_with_a_bug_is_not_undone_twice():
    journal = []
    steps = [Step("a", journal, undo_fails=True), Step("b", journal, fails=RuntimeError("bug"))]
    steps[0].undo = lambda: (journal.append("undo a"), 1 / 0)
    with pytest.raises(ZeroDivisionError):
        apply_or_undo(steps)
    assert journal == ["apply a", "apply b", "undo b", "undo a"]
