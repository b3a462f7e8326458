"""Ansible callback for the benchmarks: how many module calls each play made, per host and module.

A result is counted once per task and host, or once per loop item; skipped tasks and items are
counted apart, since they cost no module call. A result counts as remote when it ran on an
inventory host (not ``localhost``, not delegated to it) and its action is not one that Ansible
runs on the controller (``set_fact``, ``debug``, ``assert``, ...). Over SSH each remote call costs
a round trip or more, which is what makes the count worth watching; an action plugin that runs
several modules per task (``template``, ``copy``: a ``stat`` first) still counts once.

Enabled with ``ANSIBLE_CALLBACKS_ENABLED=module_calls`` and ``ANSIBLE_CALLBACK_PLUGINS`` pointing
here; writes JSON to the file named by ``NOVALITE_BENCH_CALLS`` at the end of the run:
``{"plays": [{"name", "remote", "controller", "skipped", "hosts": {host: {module: {ok, changed,
failed, skipped}}}, "tasks": [[task name, seconds from its start to the next task's]]}],
"remote": total}`` (outcomes that did not happen are left out). Ad-hoc
``ansible`` also needs ``ANSIBLE_LOAD_CALLBACK_PLUGINS=1``. It sits in a directory of its own because Ansible
imports every file of a callback plugin directory.
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase

CONTROLLER_ACTIONS = frozenset((
    "add_host", "assert", "debug", "fail", "group_by", "include_role", "include_tasks",
    "include_vars", "import_role", "import_tasks", "meta", "noop", "pause", "set_fact", "set_stats",
    "validate_argument_spec",
))
LOCAL_TARGETS = frozenset(("localhost", "127.0.0.1", "::1"))


def short_action(task):
    action = getattr(task, "resolved_action", None) or task.action
    for prefix in ("ansible.builtin.", "ansible.legacy."):
        if action.startswith(prefix):
            return action[len(prefix):]
    return action


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "module_calls"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.plays = []
        self.task = None  # [name, started] of the task running now

    def _end_task(self):
        if self.task is not None:
            name, started = self.task
            self.plays[-1]["tasks"].append([name, round(time.monotonic() - started, 2)])
            self.task = None

    def v2_playbook_on_play_start(self, play):
        if self.plays:
            self._end_task()
        self.plays.append({"name": play.get_name(), "remote": 0, "controller": 0, "skipped": 0, "hosts": {},
                           "tasks": []})

    def v2_playbook_on_task_start(self, task, is_conditional):
        if not self.plays:
            self.v2_playbook_on_play_start(_Unnamed())
        self._end_task()
        self.task = [task.get_name(), time.monotonic()]

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    def _count(self, result, outcome, item=False):
        task = result._task
        if not item and task.loop is not None and "results" in result._result:
            return  # the loop's items were counted one by one
        if not self.plays:
            self.v2_playbook_on_play_start(_Unnamed())
        play = self.plays[-1]
        host = result._host.get_name()
        module = short_action(task)
        counts = play["hosts"].setdefault(host, {}).setdefault(module, {})
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome == "ok" and result._result.get("changed"):
            counts["changed"] = counts.get("changed", 0) + 1
        if outcome == "skipped":
            play["skipped"] += 1
            return
        target = task.delegate_to or host
        remote = target not in LOCAL_TARGETS and module not in CONTROLLER_ACTIONS
        play["remote" if remote else "controller"] += 1

    def v2_runner_on_ok(self, result):
        self._count(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._count(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._count(result, "skipped")

    def v2_runner_item_on_ok(self, result):
        self._count(result, "ok", item=True)

    def v2_runner_item_on_failed(self, result):
        self._count(result, "failed", item=True)

    def v2_runner_item_on_skipped(self, result):
        self._count(result, "skipped", item=True)

    def v2_playbook_on_stats(self, stats):
        if self.plays:
            self._end_task()
        path = os.environ.get("NOVALITE_BENCH_CALLS")
        if not path:
            return
        with open(path, "w") as out:
            json.dump({"plays": self.plays, "remote": sum(p["remote"] for p in self.plays)}, out, indent=1)


class _Unnamed:
    @staticmethod
    def get_name():
        return ""
