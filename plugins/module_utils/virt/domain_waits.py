# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting for a whole batch of guests at once: running, lease seen, TCP port open, or off.

Nova's _wait_for_boot polled for RUNNING without a timeout; here every wait has one, and all
guests of the call are polled in the same rounds, so a batch waits about as long as its slowest.
"""

from __future__ import annotations

import time

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.virt.domain_plan import ACTIVE_STATES, power_of
from ansible_collections.novalite.compute.plugins.module_utils.virt.guest_network import (
    neighbour_addresses, poke, tcp_port_open)
from ansible_collections.novalite.compute.plugins.module_utils.virt.qemu_log import qemu_log_tail

POLL_SECONDS = 0.5
WAIT_KINDS = ("none", "running", "lease", "port")


class GuestNotUp(NovaliteError):
    """A guest stopped, or did not come up within the timeout."""


def wait_for_all(items, is_done, timeout, clock=time.monotonic, sleep=time.sleep, new_round=lambda: None):
    """Poll ``is_done(item)`` for each item until every one is done; returns those still not done.

    ``new_round()`` runs before each round, so a check can share what it reads among the items of a round.
    """
    deadline = clock() + timeout
    pending = list(items)
    while True:
        new_round()
        pending = [item for item in pending if not is_done(item)]
        if not pending or clock() >= deadline:
            return pending
        sleep(POLL_SECONDS)


def is_off(plan):
    return power_of(plan) not in ACTIVE_STATES


class GuestWatch:
    """``watch(plan)`` is true once the guest is up in the sense of ``kind``.

    Pass ``watch.new_round`` to wait_for_all: the neighbour table is then read once per poll round.
    """

    def __init__(self, kind, port=None, poke_address=poke, seen_addresses=neighbour_addresses, port_open=tcp_port_open):
        self.kind = kind
        self.port = port
        self.poke_address = poke_address
        self.seen_addresses = seen_addresses
        self.port_open = port_open
        self._round_neighbours = None

    def new_round(self):
        self._round_neighbours = None

    def __call__(self, plan):
        power = power_of(plan)
        if power not in ("running", "blocked"):
            if power not in ACTIVE_STATES:
                raise GuestNotUp("%s stopped (state %s) while waiting for it to come up\nlast lines of the QEMU "
                                 "log:\n%s" % (plan.spec.name, power, qemu_log_tail(plan.spec.name)),
                                 instance=plan.spec.name)
            return False
        if self.kind == "lease":
            return self._lease_seen(plan)
        if self.kind == "port":
            return self.port_open(access_address(plan), self.port)
        return True

    def _neighbours(self):
        """The neighbour table, read at the first lease check of a round and shared by the round's guests."""
        if self._round_neighbours is None:
            self._round_neighbours = self.seen_addresses()
        return self._round_neighbours

    def _lease_seen(self, plan):
        seen = self._neighbours()
        plan.addresses = [{"mac": vif.mac, "address": _preferred(seen.get(vif.mac, []), vif.address)}
                          for vif in plan.spec.vifs]
        missing = [vif for vif in plan.spec.vifs if not seen.get(vif.mac)]
        for vif in missing:
            if vif.address:
                self.poke_address(vif.address)
        return not missing


def _preferred(addresses, expected):
    if expected in addresses:
        return expected
    return addresses[0] if addresses else None


def access_address(plan):
    """The first NIC's address: the one seen for its lease, else its fixed IP from network_info."""
    for entry in plan.addresses:
        if entry["address"]:
            return entry["address"]
    return next(vif.address for vif in plan.spec.vifs if vif.address)


def not_up_error(kind, timeout, plans):
    names = ", ".join(plan.spec.name for plan in plans)
    logs = "\n".join("%s QEMU log:\n%s" % (plan.spec.name, qemu_log_tail(plan.spec.name)) for plan in plans)
    return GuestNotUp("timed out after %ss waiting for %s of %s\n%s" % (timeout, kind, names, logs),
                      instances=[plan.spec.name for plan in plans])
