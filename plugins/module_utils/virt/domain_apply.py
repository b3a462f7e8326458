# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Carrying out domain plans, one phase for the whole batch at a time (define, start, wait, stop).

Defining and starting record their undo in a Rollback, so a failed start or a guest that
never comes up leaves the host as it was (Nova's _reschedule_or_reraise -> _shutdown_instance).
Stopping and removing come last and are not undone.
"""

from __future__ import annotations

import errno
import os
import shutil

from ansible_collections.novalite.compute.plugins.module_utils.common.files import write_atomic
from ansible_collections.novalite.compute.plugins.module_utils.common.instance_dir import create_empty_console_log
from ansible_collections.novalite.compute.plugins.module_utils.virt.connection import LibvirtFailed, call, libvirt
from ansible_collections.novalite.compute.plugins.module_utils.virt.domain_plan import (
    AUTOSTART_OFF, AUTOSTART_ON, DEFINE, DESTROY, REDEFINE, REMOVE_DIR, RESUME, START, SHUTDOWN, UNDEFINE, WRITE_XML)
from ansible_collections.novalite.compute.plugins.module_utils.virt.qemu_log import qemu_log_tail


def define_all(conn, plans, rollback):
    for plan in plans:
        if plan.has(WRITE_XML, DEFINE, REDEFINE):
            _prepare_instance_dir(plan, rollback)
        if plan.has(DEFINE, REDEFINE):
            _define(conn, plan, rollback)
        if plan.has(AUTOSTART_ON, AUTOSTART_OFF):
            _set_autostart(plan, plan.has(AUTOSTART_ON), rollback)


def _prepare_instance_dir(plan, rollback):
    """The instance dir, libvirt.xml written atomically (as Nova's to_xml) and an empty console.log."""
    spec = plan.spec
    if not os.path.isdir(spec.instance_dir):
        os.makedirs(spec.instance_dir)
        rollback.add("remove %s" % spec.instance_dir, lambda: os.rmdir(spec.instance_dir))
    if plan.has(WRITE_XML):
        previous = _read_bytes(spec.libvirt_xml_path)
        write_atomic(spec.libvirt_xml_path, plan.wanted_xml)
        rollback.add("restore %s" % spec.libvirt_xml_path, lambda: _restore_file(spec.libvirt_xml_path, previous))
    if not os.path.exists(spec.console_log_path):
        create_empty_console_log(spec.console_log_path)
        rollback.add("remove %s" % spec.console_log_path, lambda: os.unlink(spec.console_log_path))


def _define(conn, plan, rollback):
    name = plan.spec.name
    plan.domain = call("defining %s" % name, conn.defineXML, plan.wanted_xml)
    if plan.current_xml is None:
        domain = plan.domain
        rollback.add("undefine %s" % name, lambda: call("undefining %s" % name, domain.undefine))
    else:
        previous = plan.current_xml
        rollback.add("restore the definition of %s" % name,
                     lambda: call("restoring the definition of %s" % name, conn.defineXML, previous))


def _set_autostart(plan, enabled, rollback):
    name, domain = plan.spec.name, plan.domain
    call("setting autostart of %s" % name, domain.setAutostart, int(enabled))
    rollback.add("reset autostart of %s" % name,
                 lambda: call("resetting autostart of %s" % name, domain.setAutostart, int(not enabled)))


def start_all(plans, rollback):
    """Start (or resume) every planned domain; a failure carries libvirt's error and QEMU's log."""
    for plan in plans:
        if plan.has(RESUME):
            _resume(plan, rollback)
        elif plan.has(START):
            _start(plan, rollback)


def _resume(plan, rollback):
    name, domain = plan.spec.name, plan.domain
    call("resuming %s" % name, domain.resume)
    rollback.add("pause %s" % name, lambda: call("pausing %s" % name, domain.suspend))


def _start(plan, rollback):
    name, domain = plan.spec.name, plan.domain
    try:
        call("starting %s" % name, domain.createWithFlags, 0)
    except LibvirtFailed as exc:
        raise LibvirtFailed("%s\nlast lines of the QEMU log:\n%s" % (exc.msg, qemu_log_tail(name)),
                            instance=name, **exc.details) from exc
    rollback.add("destroy %s" % name, lambda: call("destroying %s" % name, domain.destroy))


def request_shutdown(plans):
    """Press the ACPI power button of each (Nova's clean shutdown); the caller waits."""
    for plan in plans:
        if plan.has(SHUTDOWN):
            call("shutting down %s" % plan.spec.name, plan.domain.shutdownFlags,
                 libvirt.VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN)


def destroy(plan):
    try:
        call("destroying %s" % plan.spec.name, plan.domain.destroy)
    except LibvirtFailed as exc:
        # It may have powered off by itself between the check and the call.
        if exc.details.get("libvirt_error_code") != libvirt.VIR_ERR_OPERATION_INVALID:
            raise


def remove_all(plans):
    for plan in plans:
        if plan.has(DESTROY):
            destroy(plan)
        if plan.has(UNDEFINE):
            flags = libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
            call("undefining %s" % plan.spec.name, plan.domain.undefineFlags, flags)
        if plan.has(REMOVE_DIR):
            shutil.rmtree(plan.spec.instance_dir)


def _read_bytes(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _restore_file(path, content):
    if content is not None:
        write_atomic(path, content)
        return
    try:
        os.unlink(path)
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise
