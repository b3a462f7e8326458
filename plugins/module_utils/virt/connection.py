# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt-python on the compute host: what the virt modules ask libvirt, and how it answers.

- the connection, lookups that may find nothing, and libvirt errors as messages;
- the Python libraries the virt modules need, checked once up front;
- ``virt_type: auto`` (kvm only when kvm can really run a guest here);
- a domain's power state, and the end of QEMU's log for a guest that would not run.

libvirt-python is imported guarded, so the parsers of ``guest.py`` and ``nwfilter.py`` (which
the controller's request step calls too) import without it.
"""

from __future__ import annotations

import contextlib
import os

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.virt import config

try:
    import libvirt
except ImportError:  # reported by require_libraries before any use
    libvirt = None


def require_libraries():
    """A host without one of them gets this message (with the Debian package) instead of a traceback."""
    found = ((libvirt is not None, "python3-libvirt (libvirt-python)"),
             (config.etree is not None, "python3-lxml (lxml)"),
             (validate.HAS_NETADDR, "python3-netaddr (netaddr)"))
    missing = [package for present, package in found if not present]
    if missing:
        raise NovaliteError("missing on this host: %s" % ", ".join(missing))


# --- the connection, lookups and errors -------------------------------------------------------

class LibvirtFailed(NovaliteError):
    """A libvirt call failed; the message carries libvirt's own."""


def _silence_default_handler(_context, _error):
    """libvirt prints every error to stderr by default; ours end up in the result instead."""


@contextlib.contextmanager
def libvirt_connection(uri, read_only=False):
    """A connection to ``uri``, closed on leaving; ``read_only`` for callers that only report."""
    libvirt.registerErrorHandler(_silence_default_handler, None)
    open_connection = libvirt.openReadOnly if read_only else libvirt.open
    try:
        conn = open_connection(uri)
    except libvirt.libvirtError as exc:
        raise LibvirtFailed("cannot connect to libvirt at %s: %s" % (uri, error_text(exc)), uri=uri) from exc
    try:
        yield conn
    finally:
        conn.close()


def error_text(exc):
    return exc.get_error_message() or str(exc)


def call(what, function, *args):
    """``function(*args)``, with a libvirt error turned into LibvirtFailed saying ``what`` failed."""
    try:
        return function(*args)
    except libvirt.libvirtError as exc:
        raise LibvirtFailed("%s: %s" % (what, error_text(exc)), libvirt_error_code=exc.get_error_code()) from exc


def _lookup(function, key, missing_code_name):
    try:
        return function(key)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == getattr(libvirt, missing_code_name):
            return None
        raise LibvirtFailed("looking up %s: %s" % (key, error_text(exc))) from exc


def find_domain(conn, name):
    return _lookup(conn.lookupByName, name, "VIR_ERR_NO_DOMAIN")


def find_domain_by_uuid(conn, uuid):
    return _lookup(conn.lookupByUUIDString, uuid, "VIR_ERR_NO_DOMAIN")


def find_nwfilter(conn, name):
    return _lookup(conn.nwfilterLookupByName, name, "VIR_ERR_NO_NWFILTER")


# --- power state ------------------------------------------------------------------------------

# libvirt's virDomainState values (stable ABI), named as libvirt_domain reports them.
POWER_STATES = {0: "nostate", 1: "running", 2: "blocked", 3: "paused", 4: "shutdown", 5: "shutoff",
                6: "crashed", 7: "pmsuspended"}
# States in which the guest still has a QEMU process (so it must be destroyed to be gone).
ACTIVE_STATES = ("running", "blocked", "paused", "shutdown", "pmsuspended")


def power_state(domain, name):
    """libvirt's power state of ``domain`` (named ``name`` in a failure)."""
    return POWER_STATES.get(call("reading the state of %s" % name, domain.state)[0], "nostate")


# --- virt_type: auto --------------------------------------------------------------------------
# /dev/kvm alone proves nothing: a paravirtual KVM (kvm_pvm) opens and answers ioctls, and a
# type='kvm' domain starts and burns CPU, but an ordinary guest kernel never runs. So auto asks
# for all three: the device opens read-write, the CPU offers hardware virtualization (vmx or
# svm), and libvirt itself reports kvm domains for this host (its capability probe).

VIRT_TYPES = ("auto", "qemu", "kvm")
KVM_DEVICE = "/dev/kvm"
CPUINFO = "/proc/cpuinfo"
HARDWARE_VIRT_FLAGS = {"vmx", "svm"}


def resolve_virt_type(requested, conn, kvm_device=KVM_DEVICE, cpuinfo=CPUINFO):
    """The domain type to use, and why (for the result)."""
    if requested != "auto":
        return requested, "forced"
    reasons = []
    if not _device_usable(kvm_device):
        reasons.append("%s cannot be opened read-write" % kvm_device)
    if not cpu_has_hardware_virt(cpuinfo):
        reasons.append("the CPU has no vmx/svm flag")
    if not reasons and not libvirt_offers_kvm(conn):
        reasons.append("libvirt reports no kvm domain capability")
    if reasons:
        return "qemu", "auto: " + "; ".join(reasons)
    return "kvm", "auto: %s usable, vmx/svm present, libvirt offers kvm" % kvm_device


def _device_usable(path):
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return False
    os.close(fd)
    return True


def cpu_has_hardware_virt(cpuinfo=CPUINFO):
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                name, _colon, value = line.partition(":")
                if name.strip() == "flags":
                    return bool(HARDWARE_VIRT_FLAGS & set(value.split()))
    except OSError:
        return False
    return False


def libvirt_offers_kvm(conn):
    try:
        conn.getDomainCapabilities(None, None, None, "kvm", 0)
    except libvirt.libvirtError:
        return False
    return True


# --- the QEMU log -----------------------------------------------------------------------------
# libvirt's error for a guest that would not start is often only "qemu unexpectedly closed the
# monitor"; the reason (a bad image, a missing kernel) is at the end of QEMU's own log.

QEMU_LOG_DIR = "/var/log/libvirt/qemu"
TAIL_LINES = 15
TAIL_BYTES = 16384


def qemu_log_tail(name, log_dir=None, lines=TAIL_LINES):
    """The last ``lines`` of ``<log_dir>/<name>.log``, or a note that there is none."""
    path = os.path.join(log_dir or QEMU_LOG_DIR, name + ".log")
    try:
        with open(path, "rb") as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(0, log.tell() - TAIL_BYTES))
            text = log.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return "(no %s)" % path
    return "\n".join(text.splitlines()[-lines:])
