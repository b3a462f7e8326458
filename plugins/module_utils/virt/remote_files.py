# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sending an instance's files to another compute host through its libvirtd.

Nova's resize copied the instance's disks to the destination with ``scp`` or ``rsync`` over
SSH between compute hosts (``libvirt_utils.copy_image``), which needed SSH trust of its own.
Here the source uses the connection a migration needs anyway: the target's libvirtd at the
migration URI (``qemu+ssh://...``, or TLS). The instance directory on the target becomes a
libvirt ``dir`` storage pool for the time of the copy (defined, built when the directory is
missing, started); each file is a volume uploaded through a libvirt stream; then the pool is
stopped and undefined again, leaving the files. ``undo`` deletes what was sent, and the
directory when the pool made it.
"""

from __future__ import annotations

import os
import uuid as uuid_module

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.virt import config
from ansible_collections.novalite.compute.plugins.module_utils.virt.connection import (
    LibvirtFailed, call, error_text, libvirt)

POOL_PREFIX = "novalite-copy-"
DIRECTORY_MODE = "0755"
FILE_MODE = "0644"
CHUNK_BYTES = 4 * 1024 * 1024


def pool_xml(name, path):
    pool = config.etree.Element("pool", type="dir")
    config.etree.SubElement(pool, "name").text = name
    target = config.etree.SubElement(pool, "target")
    config.etree.SubElement(target, "path").text = path
    permissions = config.etree.SubElement(target, "permissions")
    config.etree.SubElement(permissions, "mode").text = DIRECTORY_MODE
    return config.etree.tostring(pool, encoding="unicode")


def volume_xml(name, size):
    volume = config.etree.Element("volume", type="file")
    config.etree.SubElement(volume, "name").text = name
    config.etree.SubElement(volume, "capacity", unit="bytes").text = str(size)
    config.etree.SubElement(volume, "allocation", unit="bytes").text = "0"
    target = config.etree.SubElement(volume, "target")
    config.etree.SubElement(target, "format", type="raw")  # the bytes as they are, never interpreted
    permissions = config.etree.SubElement(target, "permissions")
    config.etree.SubElement(permissions, "mode").text = FILE_MODE
    return config.etree.tostring(volume, encoding="unicode")


class RemoteDirectory:
    """A directory on the host behind ``conn`` that files are sent into (a context manager).

    ``sent`` lists the remote paths written; ``made_directory`` says whether the pool created the
    directory. Both survive the block, for the caller's undo (``remove_sent``).
    """

    def __init__(self, conn, path, what, create=True):
        self.conn = conn
        self.path = path
        self.what = what  # who the copy is for, in messages ("instance-00000001 to compute2")
        self.create = create  # make the directory when it is missing; else leave it missing
        self.pool = None
        self.sent = []
        self.made_directory = False
        self.missing = False

    def __enter__(self):
        name = POOL_PREFIX + str(uuid_module.uuid4())
        self.pool = call("defining a storage pool for %s on the target" % self.what,
                         self.conn.storagePoolDefineXML, pool_xml(name, self.path), 0)
        try:
            # building is making the directory; a directory that exists already is left as it is
            self.missing = not self._exists()
            if self.missing and not self.create:
                return self
            if self.missing:
                call("creating %s on the target for %s" % (self.path, self.what), self.pool.build, 0)
                self.made_directory, self.missing = True, False
            call("opening %s on the target for %s" % (self.path, self.what), self.pool.create, 0)
        except BaseException:
            self._forget_pool()
            raise
        return self

    def __exit__(self, *exc_info):
        self._forget_pool()

    def _exists(self):
        """Whether the directory is there already: a pool over a missing directory does not start."""
        try:
            self.pool.create(0)
        except libvirt.libvirtError:
            return False
        self.pool.destroy()
        return True

    def _forget_pool(self):
        pool, self.pool = self.pool, None
        if pool is None:
            return
        try:
            if pool.isActive():
                pool.destroy()
        finally:
            pool.undefine()

    def send(self, local_path, remote_name):
        """Upload ``local_path`` as ``<path>/<remote_name>``, replacing a file of that name."""
        size = os.stat(local_path).st_size
        remote_path = os.path.join(self.path, remote_name)
        what = "sending %s to %s on the target (%s)" % (local_path, remote_path, self.what)
        call(what, self.pool.refresh, 0)
        old = self._volume(remote_name)
        if old is not None:
            call(what, old.delete, 0)
        volume = call(what, self.pool.createXML, volume_xml(remote_name, size), 0)
        self.sent.append(remote_path)
        stream = call(what, self.conn.newStream, 0)
        try:
            call(what, volume.upload, stream, 0, size, 0)
            with open(local_path, "rb") as source:
                call(what, stream.sendAll, _reader, source)
            call(what, stream.finish)
        except BaseException:
            try:
                stream.abort()
            except libvirt.libvirtError:
                pass
            raise
        return {"source": local_path, "target": remote_path, "bytes": size}

    def _volume(self, name):
        try:
            return self.pool.storageVolLookupByName(name)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_VOL:
                return None
            raise LibvirtFailed("looking up %s in %s on the target: %s" % (name, self.path, error_text(exc))) from exc


def _reader(_stream, nbytes, source):
    return source.read(min(nbytes, CHUNK_BYTES))


def remove_sent(conn, path, sent, made_directory, what):
    """Delete the files ``sent`` into ``path`` on the target (and ``path`` if the copy made it)."""
    with RemoteDirectory(conn, path, what, create=False) as directory:
        if directory.missing:
            return
        call("refreshing %s on the target" % path, directory.pool.refresh, 0)
        for remote_path in sent:
            volume = directory._volume(os.path.basename(remote_path))  # pylint: disable=protected-access
            if volume is not None:
                call("deleting %s on the target" % remote_path, volume.delete, 0)
        pool = directory.pool
        if made_directory:
            pool.destroy()
            try:
                call("removing %s on the target" % path, pool.delete, 0)
            except LibvirtFailed as exc:
                raise NovaliteError("%s (it is not empty: something else wrote there)" % exc.msg) from exc
