# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The changes nova_network makes on a host, each computed once from what is and what should be.

A step knows its ``before``/``after`` (the diff), whether it ``changed``, how to ``apply`` itself
and how to ``undo`` that if a later step fails (Nova's remove_path_on_error, for a host).
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_checked
from ansible_collections.novalite.compute.plugins.module_utils.common.files import exclusive_lock
from ansible_collections.novalite.compute.plugins.module_utils.network.bridge_layout import (
    apply_transition, transition)
from ansible_collections.novalite.compute.plugins.module_utils.network.iptables_chains import (
    apply_restore, probe_filter_table, restore_lines)

IP_FORWARD = "/proc/sys/net/ipv4/ip_forward"


class BridgeStep:
    """ensure_bridge + initialize_gateway_device (or their teardown) as one ``ip -batch``."""

    name = "bridge"

    def __init__(self, run_command, probe, current, target):
        self.run_command = run_command
        self.probe = probe  # () -> Layout as the host is now, for undo
        self.current, self.target = current, target
        self.commands = transition(current, target)
        self.changed = bool(self.commands)
        self.before, self.after = current.describe(), target.describe()

    def apply(self):
        apply_transition(self.run_command, self.commands)

    def undo(self):
        apply_transition(self.run_command, transition(self.probe(), self.current))


class ForwardingStep:
    """``sysctl -w net.ipv4.ip_forward=1``, as initialize_gateway_device runs it."""

    name = "ip_forward"

    def __init__(self, run_command, read_file):
        self.run_command = run_command
        self.before = (read_file(IP_FORWARD) or "0").strip()
        self.after = "1"
        self.changed = self.before != self.after

    def apply(self):
        self._set(self.after)

    def undo(self):
        self._set(self.before)

    def _set(self, value):
        run_checked(self.run_command, ["sysctl", "-w", "net.ipv4.ip_forward=%s" % value])


class ChainsStep:
    """Owned iptables chains to a target: ``present`` (rules + one hook) or removed."""

    name = "iptables"

    def __init__(self, run_command, chains, present, lock_path):
        self.run_command = run_command
        self.chains = chains
        self.lock_path = lock_path
        table = probe_filter_table(run_command)
        self.current = {c.name: table.state_of(c) for c in chains}
        self.target = {c.name: (c.rules, 1) if present else (None, 0) for c in chains}
        self.lines = self._lines(self.current, self.target)
        self.changed = bool(self.lines)
        self.before, self.after = _rules_by_chain(self.current), _rules_by_chain(self.target)

    def apply(self):
        self._restore(self.current, self.target)

    def undo(self):
        table = probe_filter_table(self.run_command)
        self._restore({c.name: table.state_of(c) for c in self.chains}, self.current)

    def _lines(self, current, target):
        return [line for c in self.chains for line in restore_lines(c, current[c.name], target[c.name])]

    def _restore(self, current, target):
        with exclusive_lock(self.lock_path):  # Nova's external "iptables" lock, for other writers
            apply_restore(self.run_command, self._lines(current, target))


def _rules_by_chain(states):
    return {name: rules for name, (rules, hooks) in states.items() if rules is not None and hooks}
