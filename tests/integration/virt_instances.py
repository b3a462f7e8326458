"""Instance directories on a sandbox host as the image step leaves them, and cleaning up after.

The disk is a qcow2 overlay on the test image (Nova's Qcow2 backend), kernel and ramdisk are
copies (its Raw backend), and the optional config drive carries the test's user_data.
"""

import contextlib
import json
import shutil
import subprocess
import uuid as uuid_lib

import libvirt

from guests import libvirt_connection, make_config_drive, remove_guest
from virt_network import BRIDGE, DHCP_SERVER

from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.virt_samples import sample_vif

FLAVOR = {"name": "m1.test", "memory_mb": 256, "vcpus": 1, "root_gb": 0}


def prepare_instance(host, image, name, mac, address, user_data=None, display_name=None, config_drive=True):
    """Create the instance's files on ``host``; returns its spec for libvirt_domain."""
    uuid = str(uuid_lib.uuid4())
    directory = host.instance_dir(name)
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(image["disk.qcow2"]),
                    str(directory / "disk")], check=True)
    shutil.copyfile(image["vmlinuz"], directory / "kernel")
    shutil.copyfile(image["initrd.img"], directory / "ramdisk")
    hostname = name.replace("instance-", "vm-")
    if config_drive:
        meta = {"uuid": uuid, "name": display_name or name, "hostname": hostname}
        make_config_drive(directory, json.dumps(meta), user_data)
    return {"name": name, "uuid": uuid, "display_name": display_name or hostname, "flavor": dict(FLAVOR),
            "kernel_id": "aki-test", "ramdisk_id": "ari-test", "config_drive": config_drive,
            "network_info": [sample_vif(mac=mac, address=address, bridge=BRIDGE, dhcp_server=DHCP_SERVER)]}


@contextlib.contextmanager
def host_libvirt(host):
    """A libvirt connection to ``host``, quiet on stderr (a missing domain is expected here)."""
    libvirt.registerErrorHandler(lambda _context, _error: None, None)
    conn = libvirt_connection(host)
    try:
        yield conn
    finally:
        conn.close()


def remove_instances(host, names):
    """Destroy, undefine and delete what the tests made, whatever state a failure left it in."""
    with host_libvirt(host) as conn:
        for name in names:
            remove_guest(conn, name)
            shutil.rmtree(host.instance_dir(name), ignore_errors=True)


def remove_nova_filters(host):
    """Every nova-* nwfilter, the ones referencing others first."""
    with host_libvirt(host) as conn:
        names = [f.name() for f in conn.listAllNWFilters() if f.name().startswith("nova-")]
        for prefix in ("nova-instance-", "nova-secgroup-", "nova-"):
            for name in [n for n in names if n.startswith(prefix)]:
                names.remove(name)
                conn.nwfilterLookupByName(name).undefine()


def domain_names(host):
    with host_libvirt(host) as conn:
        return sorted(domain.name() for domain in conn.listAllDomains())


def filter_names(host):
    with host_libvirt(host) as conn:
        return sorted(f.name() for f in conn.listAllNWFilters() if f.name().startswith("nova-"))


def inactive_xml(host, name):
    with host_libvirt(host) as conn:
        return conn.lookupByName(name).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
