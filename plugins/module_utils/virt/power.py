# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What Nova's libvirt driver did to a domain for each power action (``nova/virt/libvirt/driver.py``),
for the instance_power module.

- stop: ``power_off`` with ``_clean_shutdown``: the ACPI power button, the guest given
  ``shutdown_timeout`` seconds (Nova's ``shutdown_timeout``, 60), then ``destroy``; a paused guest
  cannot see the button and is destroyed at once;
- start: ``power_on`` (``createWithFlags``);
- reboot soft: ``_soft_reboot``: the power button, the state checked every second for up to
  ``reboot_timeout`` seconds (120), then the domain created again; a guest that does not power
  off in time gets a hard reboot instead;
- reboot hard: ``_hard_reboot``: destroy, any saved state discarded, the definition written to
  ``libvirt.xml`` again, create;
- pause / unpause: ``suspend`` / ``resume`` (the vCPUs stop; QEMU keeps the memory);
- suspend / resume: ``managedSave(0)`` / ``createWithFlags`` (which restores the saved state).

A domain's *condition* is what matters for these: up, paused, off, saved (off with a managed
save image), asleep (pmsuspended) or crashed; ``steps_to`` says what takes it from one to another.
Every step records its undo (``restore``: back to the condition it was in), so a batch that fails
half-way is put back as it was (common/rollback.py).
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.common.files import read_text, write_atomic
from ansible_collections.novalite.compute.plugins.module_utils.compute.instance_record import (
    CRASHED, NOSTATE, POWER_PAUSED, POWER_SUSPENDED, RUNNING, SHUTDOWN)
from ansible_collections.novalite.compute.plugins.module_utils.virt.connection import (
    LibvirtFailed, call, libvirt, power_state, qemu_log_tail)
from ansible_collections.novalite.compute.plugins.module_utils.virt.waits import is_off, wait_for_all

# nova/virt/libvirt/driver.py LIBVIRT_POWER_STATE, by the names connection.POWER_STATES gives
# libvirt's states. A suspended (managed-saved) domain is shut off: power state SHUTDOWN, as in Nova.
LIBVIRT_POWER_STATE = {"nostate": NOSTATE, "running": RUNNING, "blocked": RUNNING, "paused": POWER_PAUSED,
                       "shutdown": SHUTDOWN, "shutoff": SHUTDOWN, "crashed": CRASHED,
                       "pmsuspended": POWER_SUSPENDED}

UP, HELD, OFF, SAVED, ASLEEP, CRASHED_DOMAIN = "up", "paused", "off", "saved", "asleep", "crashed"
# the condition each power action leaves the domain in
WANTED_CONDITION = {"stop": OFF, "start": UP, "reboot": UP, "unpause": UP, "resume": UP, "pause": HELD,
                    "suspend": SAVED}

CREATE, DESTROY, SHUTDOWN_STEP, RESUME, PAUSE, SAVE, DISCARD_SAVE, WAKE_UP = (
    "create", "destroy", "shutdown", "resume", "pause", "managed save", "discard saved state", "wake up")
SOFT_REBOOT, HARD_REBOOT = "soft reboot", "hard reboot"
BUTTON_STEPS = (SHUTDOWN_STEP, SOFT_REBOOT)  # the steps that press the ACPI power button and wait
# the power state a domain has in each condition once a step took it there
PREDICTED_POWER = {UP: RUNNING, HELD: POWER_PAUSED, OFF: SHUTDOWN, SAVED: SHUTDOWN}

_STEPS = {
    UP: {UP: [], HELD: [RESUME], OFF: [CREATE], SAVED: [CREATE], ASLEEP: [WAKE_UP], CRASHED_DOMAIN: [DESTROY, CREATE]},
    HELD: {UP: [PAUSE], HELD: []},
    OFF: {UP: [SHUTDOWN_STEP], HELD: [DESTROY], OFF: [], SAVED: [DISCARD_SAVE], ASLEEP: [DESTROY],
          CRASHED_DOMAIN: [DESTROY]},
    SAVED: {UP: [SAVE], HELD: [SAVE], SAVED: []},
}


def condition(domain, name):
    """The domain's condition: up, paused, off, saved, asleep or crashed."""
    state = power_state(domain, name)
    if state in ("running", "blocked", "shutdown"):  # "shutdown": on its way off, still running
        return UP
    if state == "paused":
        return HELD
    if state == "pmsuspended":
        return ASLEEP
    if state == "crashed":
        return CRASHED_DOMAIN
    saved = call("reading the saved state of %s" % name, domain.hasManagedSaveImage, 0)
    return SAVED if saved else OFF


def nova_power_state(domain, name):
    """Nova's power state of the domain (the record's ``power_state``)."""
    return LIBVIRT_POWER_STATE[power_state(domain, name)]


def steps_to(now, wanted, name, action):
    """The steps that take a domain from condition ``now`` to ``wanted``; refused when none do."""
    steps = _STEPS[wanted].get(now)
    if steps is None:
        raise InvalidInput("cannot %s %s: its domain is %s in libvirt, and %s needs it %s"
                           % (action, name, now, action, "running" if wanted == HELD else "running or paused"),
                           instance=name, libvirt_condition=now)
    return list(steps)


def reboot_steps(now, reboot_type, name):
    """A soft reboot needs a running guest (it is refused otherwise); a hard one works from any condition."""
    if reboot_type == "soft":
        if now != UP:
            raise InvalidInput("cannot soft reboot %s: its domain is %s in libvirt; use reboot_type=hard" % (name, now),
                               instance=name, libvirt_condition=now)
        return [SOFT_REBOOT]
    return [HARD_REBOOT]


# --- the steps, each with its undo ---------------------------------------------------------------

class DomainPower:
    """One domain of the batch: its condition before the run and the steps applied to it."""

    def __init__(self, name, domain, before, steps, libvirt_xml=None, vifs=()):
        self.name = name
        self.domain = domain
        self.before = before
        self.steps = steps
        self.libvirt_xml = libvirt_xml  # the instance directory's libvirt.xml (hard reboot)
        self.vifs = list(vifs)  # guest.Vif, for the waits
        self.addresses = []  # filled by waits.GuestWatch
        self.done = []  # what really happened, e.g. "ACPI shutdown", "destroy"

    @property
    def spec(self):
        """The waits (virt/waits.py) read ``plan.spec.name`` and ``plan.spec.vifs``: this is both."""
        return self

    def do(self, what, function, *args):
        call("%s %s" % (what, self.name), function, *args)
        self.done.append(what)


def restore(item):
    """Bring the domain back to the condition it was in before the run, without waiting for the guest."""
    now, name, domain = condition(item.domain, item.name), item.name, item.domain
    if now == item.before:
        return
    if item.before == SAVED and now not in (UP, HELD):
        raise LibvirtFailed("%s: its saved state is gone and cannot be put back" % name)
    if now in (UP, HELD, ASLEEP, CRASHED_DOMAIN) and item.before in (OFF, CRASHED_DOMAIN):
        call("destroying %s" % name, domain.destroy)
    elif now == SAVED and item.before == OFF:
        call("discarding the saved state of %s" % name, domain.managedSaveRemove, 0)
    elif item.before == SAVED:
        call("saving %s" % name, domain.managedSave, 0)
    elif item.before in (UP, HELD):
        if now == HELD:
            call("resuming %s" % name, domain.resume)
        elif now in (OFF, SAVED):
            call("starting %s" % name, domain.createWithFlags, 0)
        if item.before == HELD:
            call("pausing %s" % name, domain.suspend)


def immediate(item, step):
    """The steps that need no waiting for the guest."""
    domain = item.domain
    if step == RESUME:
        item.do("resume", domain.resume)
    elif step == PAUSE:
        item.do("pause", domain.suspend)
    elif step == SAVE:
        item.do("managed save", domain.managedSave, 0)
    elif step == DISCARD_SAVE:
        item.do("discard saved state", domain.managedSaveRemove, 0)
    elif step == WAKE_UP:
        item.do("wake up", domain.pmWakeup, 0)
    elif step == DESTROY:
        destroy(item)


def destroy(item, what="destroy"):
    try:
        item.do(what, item.domain.destroy)
    except LibvirtFailed as exc:  # it may have powered off by itself between the check and the call
        if exc.details.get("libvirt_error_code") != libvirt.VIR_ERR_OPERATION_INVALID:
            raise


def press_power_button(items):
    for item in items:
        item.do("ACPI shutdown", item.domain.shutdownFlags, libvirt.VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN)


def wait_until_off(items, timeout, **clock):
    """The items still running after ``timeout`` seconds (all polled in the same rounds)."""
    return wait_for_all(items, is_off, timeout, **clock)


def hard_power_off(item):
    """The first half of Nova's _hard_reboot: destroy, discard any saved state, write the definition
    to libvirt.xml again; ``create`` is the second half."""
    if condition(item.domain, item.name) not in (OFF, SAVED):
        destroy(item)
    if condition(item.domain, item.name) == SAVED:
        item.do("discard saved state", item.domain.managedSaveRemove, 0)
    if item.libvirt_xml:
        definition = call("reading %s" % item.name, item.domain.XMLDesc, libvirt.VIR_DOMAIN_XML_INACTIVE)
        if read_text(item.libvirt_xml) != definition:
            write_atomic(item.libvirt_xml, definition)
            item.done.append("write libvirt.xml")


def create(item):
    try:
        item.do("create", item.domain.createWithFlags, 0)
    except LibvirtFailed as exc:
        raise LibvirtFailed("%s\nlast lines of the QEMU log:\n%s" % (exc.msg, qemu_log_tail(item.name)),
                            instance=item.name, **exc.details) from exc


def condition_after(item):
    """The domain's condition once its steps are done."""
    if not item.steps:
        return item.before
    last = item.steps[-1]
    if last in (CREATE, RESUME, WAKE_UP, SOFT_REBOOT, HARD_REBOOT):
        return UP
    return {PAUSE: HELD, SAVE: SAVED}.get(last, OFF)
