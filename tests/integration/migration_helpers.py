"""What resize and migration tests look at on an SSH sandbox: the playbooks run as users run them
(over SSH, or the local inventory when a fault takes a host's sshd away), records against libvirt on
every host, what an instance has on a host, the guest's own view on its console, a ping watch during
a live migration, and the faults injected mid-way."""

import contextlib
import json
import re
import subprocess
import threading
import time

from flow_helpers import fixed_ip, read_only  # noqa: F401 pylint: disable=unused-import
from sandbox_ansible import BIN, TIMEOUT, AnsibleProcess, ansible_env, host_facts, recap

RESIZE_VM, MIGRATE_VM, CREATE_VM, DELETE_VM = ("playbooks/resize_vm.yml", "playbooks/migrate_vm.yml",
                                               "playbooks/create_vm.yml", "playbooks/delete_vm.yml")
FLAVORS = {"novalite_flavors": {"t1.bigger": {"memory_mb": 768, "vcpus": 2, "root_gb": 1}}}
MIGRATION_PORTS = "49152:49215"  # libvirt's migration_port_min:max (the stream and the NBD server)


class Run:
    """A finished ansible-playbook: rc, output, recap, seconds."""

    def __init__(self, sandbox, playbook, extra_vars, ssh=True, check=False, diff=False):
        inventory = sandbox.ssh_inventory_path if ssh else sandbox.inventory_path
        command = [str(BIN / "ansible-playbook"), "-i", str(inventory), playbook, "-e", json.dumps(extra_vars)]
        command += (["--check"] if check else []) + (["--diff"] if diff else [])
        started = time.monotonic()
        process = AnsibleProcess(command, ansible_env(sandbox))
        stdout, stderr = process.wait(TIMEOUT)
        self.seconds = time.monotonic() - started
        self.rc, self.output, self.recap = process.process.returncode, stdout + stderr, recap(stdout)
        self.playbook, self.extra_vars = playbook, extra_vars

    @property
    def changed(self):
        return sum(host["changed"] for host in self.recap.values())


def play(sandbox, playbook, extra_vars, may_fail=False, **options):
    run = Run(sandbox, playbook, dict(FLAVORS, **extra_vars), **options)
    if run.rc != 0 and not may_fail:
        raise AssertionError("%s %s failed (rc=%d):\n%s" % (playbook, extra_vars, run.rc, run.output[-6000:]))
    return run


def record_of(sandbox, display_name):
    """(host, record) of the instance named ``display_name``; AssertionError when it is on no host or two."""
    found = [(host.name, r) for host in sandbox.hosts for r in host_facts(host)["instances"].values()
             if r["display_name"] == display_name]
    assert len(found) == 1, "%s is recorded on %s" % (display_name, [name for name, _r in found])
    return found[0]


def virsh(host, *args, check=True):
    return host.run(["virsh", "-q", "-c", "qemu:///system"] + list(args), check=check).stdout


def records_agree_with_libvirt(sandbox):
    """On every host: a domain for each record and a record for each domain, running as recorded, with the
    record's flavor (memory and vcpus); no migration record without its <dir>_resize."""
    for host in sandbox.hosts:
        facts = host_facts(host)
        records = {r["name"]: r for r in facts["instances"].values()}
        domains = virsh(host, "list", "--all", "--name").split()
        assert sorted(domains) == sorted(records), "%s: domains %s, records %s" % (host.name, domains, sorted(records))
        for name, record in records.items():
            info = dict(re.findall(r"^([^:]+):\s+(.*)$", virsh(host, "dominfo", name), re.MULTILINE))
            assert (info["State"] == "running") == (record["power_state"] == 1), (host.name, name, info["State"])
            assert info["Max memory"] == "%d KiB" % (record["flavor"]["memory_mb"] * 1024), (host.name, name)
            assert info["CPU(s)"] == str(record["flavor"]["vcpus"]), (host.name, name)
        for migration in (facts.get("migrations") or {}).values():
            assert host.instance_dir(migration["instance_name"] + "_resize").is_dir(), (host.name, migration)


def held_on(host, record):
    """What ``host`` has of the instance: its record, domain, filter, directories, fixed IP, hosts line,
    migration record. Empty on a host it never was on or left cleanly."""
    facts = host_facts(host)
    mac = record["network_info"][0]["address"]
    held = {
        "record": record["uuid"] in facts["instances"],
        "domain": record["name"] in virsh(host, "list", "--all", "--name").split(),
        "filter": "nova-instance-%s-%s" % (record["name"], mac.replace(":", "")) in virsh(host, "nwfilter-list"),
        "directory": host.instance_dir(record["name"]).exists(),
        "resize directory": host.instance_dir(record["name"] + "_resize").exists(),
        "fixed ip": any(f["instance_uuid"] == record["uuid"] for f in facts["fixed_ips"].values()),
        "hosts line": mac in host.run(["sh", "-c", "cat /var/lib/novalite/networks/*.conf 2>/dev/null"],
                                      check=False).stdout,
        "migration": record["uuid"] in (facts.get("migrations") or {}),
    }
    return sorted(key for key, present in held.items() if present)


EVERYTHING = ["directory", "domain", "filter", "fixed ip", "hosts line", "record"]


def console(sandbox, host_name, record):
    return sandbox.host(host_name).instance_dir(record["name"]) / "console.log"


def guest_view(sandbox, host_name, record, timeout=180):
    """The guest's memory (kB), vcpus, disk and filesystem size, from its console once it has booted and leased."""
    path = console(sandbox, host_name, record)
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = path.read_text(errors="replace") if path.exists() else ""
        memory = re.search(r"^memory (\d+) kB vcpus=(\d+)\r?$", text, re.MULTILINE)
        disk = re.search(r"^disk \S+ size=(\d+)\r?$", text, re.MULTILINE)
        fs = re.search(r"^disk-fs size=(\d+)\r?$", text, re.MULTILINE)
        if memory and disk and fs and re.search(r"^novalite-guest ready\r?$", text, re.MULTILINE):
            return {"memory_kb": int(memory.group(1)), "vcpus": int(memory.group(2)), "disk": int(disk.group(1)),
                    "filesystem": int(fs.group(1)), "console": text}
        time.sleep(1)
    raise AssertionError("%s did not come up on %s within %ss; console ends with:\n%s"
                         % (record["display_name"], host_name, timeout, text[-2000:]))


def answers(sandbox, record, timeout=120):
    """The guest answers ping and HTTP on port 80 at its fixed IP (from its host's bridge)."""
    host_name, record = record_of(sandbox, record["display_name"])
    host, address = sandbox.host(host_name), fixed_ip(record)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pinged = host.run(["ping", "-c", "1", "-W", "2", address], check=False).returncode == 0
        page = host.run(["curl", "-s", "-m", "5", "http://%s/" % address], check=False).stdout
        if pinged and address in page:
            return page
        time.sleep(2)
    raise AssertionError("%s does not answer at %s on %s" % (record["display_name"], address, host_name))


class PingWatch:
    """``ping -i 0.1`` at the guest from the switch namespace (an observer on the flat network that is
    neither host), through a block; counts the replies lost and the longest gap between replies."""

    OBSERVER = "10.1.255.250/16"

    def __init__(self, sandbox, address):
        self.sandbox, self.address = sandbox, address
        self.process, self.lines = None, []

    def __enter__(self):
        self.sandbox.switch_run(["ip", "addr", "add", self.OBSERVER, "dev", "sw0"])
        self.process = subprocess.Popen(self.sandbox.switch_command(["ping", "-n", "-D", "-i", "0.1", "-W", "1",
                                                                     self.address]),
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        return self

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line)

    def __exit__(self, *exc_info):
        self.process.terminate()
        self.process.wait(10)
        self.reader.join(10)
        self.sandbox.switch_run(["ip", "addr", "del", self.OBSERVER, "dev", "sw0"], check=False)

    def figures(self):
        replies = [(float(stamp), int(seq)) for stamp, seq in
                   re.findall(r"^\[(\d+\.\d+)\] \d+ bytes from \S+ icmp_seq=(\d+)", "".join(self.lines), re.MULTILINE)]
        sent = max(seq for _stamp, seq in replies) if replies else 0
        gaps = [b[0] - a[0] for a, b in zip(replies, replies[1:])]
        return {"sent": sent, "received": len(replies), "lost": sent - len(replies),
                "longest_gap_s": round(max(gaps), 3) if gaps else None}


@contextlib.contextmanager
def sshd_stopped(sandbox, host):
    """The host's sshd down for the block (other hosts' libvirtds cannot reach it over qemu+ssh)."""
    import ssh_access  # pylint: disable=import-outside-toplevel
    host.stop_sshd()
    try:
        yield
    finally:
        ssh_access.start_sshd(host, host.mgmt_address)


@contextlib.contextmanager
def migration_ports_refused(host):
    """QEMU's migration stream and NBD server refused on the host (a firewall between the hosts)."""
    rule = ["INPUT", "-i", "mgmt0", "-p", "tcp", "--dport", MIGRATION_PORTS, "-j", "REJECT", "--reject-with",
            "tcp-reset"]
    host.run(["iptables", "-I"] + rule)
    try:
        yield
    finally:
        host.run(["iptables", "-D"] + rule)
