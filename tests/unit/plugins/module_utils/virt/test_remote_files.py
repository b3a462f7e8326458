"""virt/remote_files.py: files sent into a directory on another host through a storage pool of its
libvirtd, the pool gone afterwards, and what was sent removed again (with the directory it made)."""

import os

import pytest

import libvirt
from lxml import etree

from ansible_collections.novalite.compute.plugins.module_utils.virt import remote_files
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.fake_libvirt import libvirt_error


class FakeVolume:
    def __init__(self, pool, name):
        self.pool, self.name = pool, name

    def upload(self, stream, offset, length, flags):
        stream.target = os.path.join(self.pool.path, self.name)

    def delete(self, flags):
        os.unlink(os.path.join(self.pool.path, self.name))


class FakeStream:
    def __init__(self, fail):
        self.target, self.fail, self.aborted = None, fail, False

    def sendAll(self, handler, opaque):
        with open(self.target, "wb") as out:
            while True:
                chunk = handler(self, 1024, opaque)
                if not chunk:
                    break
                if self.fail:
                    raise libvirt_error(libvirt.VIR_ERR_SYSTEM_ERROR, "stream: connection reset")
                out.write(chunk)

    def finish(self):
        pass

    def abort(self):
        self.aborted = True


class FakePool:
    def __init__(self, conn, xml):
        root = etree.fromstring(xml)
        self.conn, self.path, self.active = conn, root.findtext("target/path"), False
        assert root.findtext("target/permissions/mode") == "0755"

    def create(self, flags):
        if not os.path.isdir(self.path):
            raise libvirt_error(libvirt.VIR_ERR_OPERATION_FAILED, "cannot open directory %s" % self.path)
        self.active = True

    def build(self, flags):
        os.makedirs(self.path)

    def destroy(self):
        self.active = False

    def isActive(self):
        return self.active

    def undefine(self):
        self.conn.pools.remove(self)

    def delete(self, flags):
        os.rmdir(self.path)

    def refresh(self, flags):
        pass

    def storageVolLookupByName(self, name):
        if not os.path.exists(os.path.join(self.path, name)):
            raise libvirt_error(libvirt.VIR_ERR_NO_STORAGE_VOL, "no volume %s" % name)
        return FakeVolume(self, name)

    def createXML(self, xml, flags):
        name = etree.fromstring(xml).findtext("name")
        open(os.path.join(self.path, name), "wb").close()
        return FakeVolume(self, name)


class FakeConn:
    def __init__(self, fail_streams=False):
        self.pools, self.fail_streams = [], fail_streams

    def storagePoolDefineXML(self, xml, flags):
        self.pools.append(FakePool(self, xml))
        return self.pools[-1]

    def newStream(self, flags):
        return FakeStream(self.fail_streams)


@pytest.fixture
def files(tmp_path):
    disk = tmp_path / "disk"
    disk.write_bytes(b"qcow2 bytes" * 1000)
    return {"disk": disk, "target": tmp_path / "target" / "instance-00000001"}


def test_files_are_sent_into_a_directory_the_pool_makes_and_the_pool_goes(files):
    conn = FakeConn()
    with remote_files.RemoteDirectory(conn, str(files["target"]), "test") as directory:
        sent = directory.send(str(files["disk"]), "disk.migrated")
        again = directory.send(str(files["disk"]), "disk.migrated")  # replaces it
    assert directory.made_directory and conn.pools == []
    assert sent["bytes"] == again["bytes"] == 11000
    assert (files["target"] / "disk.migrated").read_bytes() == files["disk"].read_bytes()
    remote_files.remove_sent(conn, str(files["target"]), directory.sent, directory.made_directory, "test")
    assert not files["target"].exists() and conn.pools == []


def test_a_missing_directory_is_left_missing_when_asked(files):
    conn = FakeConn()
    with remote_files.RemoteDirectory(conn, str(files["target"]), "test", create=False) as directory:
        assert directory.missing
    assert not files["target"].exists() and conn.pools == []
    remote_files.remove_sent(conn, str(files["target"]), [], False, "test")  # nothing there: nothing to do


def test_a_broken_stream_is_aborted_and_named(files):
    conn = FakeConn(fail_streams=True)
    with pytest.raises(remote_files.LibvirtFailed, match="sending .*disk to .*disk.migrated on the target"):
        with remote_files.RemoteDirectory(conn, str(files["target"]), "test") as directory:
            directory.send(str(files["disk"]), "disk.migrated")
    assert directory.sent == [str(files["target"] / "disk.migrated")] and conn.pools == []


def test_the_volume_is_raw_bytes_with_the_file_size():
    volume = etree.fromstring(remote_files.volume_xml("disk.migrated", 1234))
    assert volume.findtext("capacity") == "1234" and volume.find("target/format").get("type") == "raw"
