# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the network modules change a host: plan under the facts lock, then report or apply.

``converge_host`` opens the host's facts document (under its lock for the whole run, or without one
in check mode),
lets a planner change the document and return its steps, and then either reports them (check
mode) or applies them through common/rollback (any exception undoes the steps already applied,
newest first) and writes the facts last. The result's diff has the facts the planner names and
every changed step's before and after.
"""

from __future__ import annotations

import contextlib
import os

from ansible_collections.novalite.compute.plugins.module_utils.common.facts_store import FactsStore, dump_document
from ansible_collections.novalite.compute.plugins.module_utils.common.files import exclusive_lock, write_atomic
from ansible_collections.novalite.compute.plugins.module_utils.common.rollback import apply_steps, undo_on_failure
from ansible_collections.novalite.compute.plugins.module_utils.network import floating, linux_net
from ansible_collections.novalite.compute.plugins.module_utils.network.iptables import IPTABLES_LOCK, IptablesStep
from ansible_collections.novalite.compute.plugins.module_utils.network.metadata import METADATA_ADDRESS
from ansible_collections.novalite.compute.plugins.module_utils.network.nat import host_chains


class HostPlan:
    """The steps (``apply_steps`` protocol), the module's results, and ``facts_view(document)``:
    the part of the facts the diff shows."""

    def __init__(self, steps, outputs, facts_view):
        self.steps = steps
        self.outputs = outputs
        self.facts_view = facts_view


def converge_host(facts_path, planner, check_mode):
    """``planner(document)`` -> HostPlan; returns the module's result (outputs, changed, diff) and the HostPlan."""
    store = FactsStore(facts_path)
    # the facts lock for the whole run (check mode takes none and creates nothing); the document is
    # saved below, as the last step of the apply, so a failed save undoes the steps too
    held = contextlib.nullcontext() if check_mode else exclusive_lock(store.lock_path, timeout=store.lock_timeout)
    with held, store.transaction(write=False) as transaction:
        plan = planner(transaction.document)
        if not check_mode:
            with undo_on_failure() as rollback:
                apply_steps(rollback, plan.steps)
                if transaction.changed:
                    with rollback.step("facts"):
                        write_atomic(store.path, dump_document(transaction.document))
    changed_steps = [step for step in plan.steps if step.changed]
    before, after = {}, {}
    facts_before, facts_after = plan.facts_view(transaction.before), plan.facts_view(transaction.document)
    if facts_before != facts_after:
        before["facts"], after["facts"] = facts_before, facts_after
    for step in changed_steps:
        before[step.name], after[step.name] = step.before, step.after
    result = dict(plan.outputs, changed=transaction.changed or bool(changed_steps),
                  diff={"before": before, "after": after})
    return result, plan


def host_steps(run_command, find_optional, locks_path, document, bound=(), unbound=()):
    """The steps of the host's whole recorded state, for every network and floating IP run alike.

    Nova's ``ensure_metadata_ip`` (169.254.169.254/32 on lo while the host serves a network), the
    rules of network/nat.py (one iptables-restore per changed table), the /32s of the floating IPs
    ``bound`` and ``unbound`` by this run (with the gratuitous ARP) and ``conntrack -D`` for the unbound.
    """
    serving = bool(document["networks"])
    metadata_ip = [linux_net.HostAddress(METADATA_ADDRESS, "lo", "link")]
    remaining = list(document.get(floating.ASSOCIATIONS, {}).values())
    return [linux_net.HostAddressStep(run_command, metadata_ip if serving else [], [] if serving else metadata_ip,
                                      "metadata address"),
            IptablesStep(run_command, host_chains(document), os.path.join(locks_path, IPTABLES_LOCK)),
            floating.address_step(run_command, list(bound), list(unbound), remaining, find_optional("arping")),
            floating.ConntrackStep(run_command, find_optional("conntrack"), list(unbound))]
