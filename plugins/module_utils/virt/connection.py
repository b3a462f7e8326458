# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt-python: the connection, lookups that may find nothing, and errors as messages."""

from __future__ import annotations

import contextlib

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError

try:
    import libvirt
except ImportError:  # reported by virt.libraries.require_libraries before any use
    libvirt = None


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
