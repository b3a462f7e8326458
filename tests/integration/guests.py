"""Test-only plumbing for booting the test guest by hand on a sandbox host.

Deliberately independent of the collection's modules: it proves the sandbox and the image
work, so a failing module test can be told apart from a broken sandbox.
"""

import re
import subprocess
import tempfile
import time
from pathlib import Path

import libvirt
from lxml import etree
from lxml.builder import E

GUEST_MEMORY_MIB = 128


def world_readable_dir(prefix):
    """A temp dir others can read: dnsmasq reads its files after dropping to user dnsmasq, so
    nothing it reads may sit under pytest's 0700 tmp_path."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


def libvirt_connection(host):
    socket = host.state_dir / "run" / "libvirt" / "libvirt-sock"
    return libvirt.open("qemu+unix:///system?socket=%s" % socket)


def setup_flat_bridge(host, bridge, dhcp_address):
    """br100 over eth0 with the host's DHCP-server address, as nova-network would leave it."""
    for args in (["ip", "link", "add", bridge, "type", "bridge", "forward_delay", "0", "stp_state", "0"],
                 ["ip", "link", "set", "eth0", "master", bridge],
                 ["ip", "addr", "add", dhcp_address + "/16", "dev", bridge],
                 ["ip", "link", "set", bridge, "up"]):
        host.run(args)


def remove_flat_bridge(host, bridge):
    host.run(["ip", "link", "del", bridge], check=False)


def start_dnsmasq(host, workdir, listen_address, dhcp_hosts):
    """dnsmasq in Nova's static mode; returns its pid (the test stops it by that pid)."""
    workdir.mkdir(parents=True, exist_ok=True)
    hostsfile, pidfile = workdir / "dhcp-hosts", workdir / "dnsmasq.pid"
    hostsfile.write_text("".join("%s,%s.novalocal,%s\n" % entry for entry in dhcp_hosts))
    host.run(["dnsmasq", "--strict-order", "--bind-interfaces", "--conf-file=", "--domain=novalocal",
              "--pid-file=%s" % pidfile, "--listen-address=%s" % listen_address, "--except-interface=lo",
              "--dhcp-range=set:private,10.1.0.2,static,255.255.0.0,120s", "--dhcp-lease-max=65536",
              "--dhcp-hostsfile=%s" % hostsfile, "--leasefile-ro", "--no-hosts", "--no-resolv"])
    return int(pidfile.read_text())


def make_config_drive(workdir, meta_data_json, user_data=None, network_data_json=None):
    """A Nova-style config drive ISO (volume config-2), workdir/disk.config."""
    root = workdir / "config-drive"
    latest = root / "openstack" / "latest"
    latest.mkdir(parents=True, exist_ok=True)
    (latest / "meta_data.json").write_text(meta_data_json)
    if network_data_json:
        (latest / "network_data.json").write_text(network_data_json)
    if user_data:
        (latest / "user_data").write_text(user_data)
    iso = workdir / "disk.config"
    subprocess.run(["genisoimage", "-o", str(iso), "-ldots", "-allow-lowercase", "-allow-multidot", "-l",
                    "-quiet", "-J", "-r", "-V", "config-2", str(root)], check=True)
    return iso


def domain_xml(name, files, nic=None, config_drive=None):
    """A TCG guest booted AMI-style from ``files`` (host paths of its kernel, ramdisk, qcow2 disk and
    console_log), with a virtio NIC on a bridge if ``nic`` is (mac, bridge)."""
    devices = [E.disk(E.driver(name="qemu", type="qcow2"), E.source(file=str(files["disk"])),
                      E.target(dev="vda", bus="virtio"), type="file", device="disk")]
    if config_drive:
        devices.append(E.disk(E.driver(name="qemu", type="raw"), E.source(file=str(config_drive)),
                              E.target(dev="hdb", bus="ide"), E.readonly(), type="file", device="cdrom"))
    if nic:
        mac, bridge = nic
        devices.append(E.interface(E.mac(address=mac), E.source(bridge=bridge), E.model(type="virtio"),
                                   type="bridge"))
    domain = E.domain(
        E.name(name),
        E.memory(str(GUEST_MEMORY_MIB), unit="MiB"),
        E.vcpu("1"),
        E.os(E.type("hvm", arch="x86_64"), E.kernel(str(files["kernel"])), E.initrd(str(files["ramdisk"])),
             E.cmdline("root=/dev/vda console=ttyS0")),
        E.features(E.acpi()),
        E.devices(*devices, E.serial(E.source(path=str(files["console_log"])), type="file")),
        type="qemu")
    return etree.tostring(domain, encoding="unicode")


def boot_guest(conn, host, name, image, mac, bridge="br100", meta_data_json=None, user_data=None):
    """Define and start a TCG guest on ``host``; returns its console log path (root-ns view)."""
    instance_dir = Path("/var/lib/novalite/instances") / name  # as the host sees it
    local_dir = host.instance_dir(name)  # as we see it
    local_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(image["disk.qcow2"]),
                    str(local_dir / "disk")], check=True)
    config_drive = None
    if meta_data_json:
        make_config_drive(local_dir, meta_data_json, user_data)
        config_drive = instance_dir / "disk.config"
    files = {"kernel": image["vmlinuz"], "ramdisk": image["initrd.img"], "disk": instance_dir / "disk",
             "console_log": instance_dir / "console.log"}
    domain = conn.defineXML(domain_xml(name, files, nic=(mac, bridge), config_drive=config_drive))
    domain.create()
    return local_dir / "console.log"


def wait_for_console(console_log, pattern, timeout=120):
    """The first match of ``pattern`` in the guest's serial console, waiting for it."""
    regex = re.compile(pattern)
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = console_log.read_text(errors="replace") if console_log.exists() else ""
        match = regex.search(text)
        if match:
            return match
        time.sleep(0.5)
    raise AssertionError("no %r on the console within %ss; console ends with:\n%s"
                         % (pattern, timeout, text[-2000:]))


def remove_guest(conn, name):
    try:
        domain = conn.lookupByName(name)
    except libvirt.libvirtError:
        return
    if domain.isActive():
        domain.destroy()
    domain.undefine()


def pings(host, address, count=1):
    return host.run(["ping", "-c", str(count), "-W", "2", address], check=False).returncode == 0
