"""The sandbox with SSH access (``sandbox.py up --ssh``): Ansible reaches the hosts over SSH as it
reaches real hosts, and the hosts reach each other as root over the management network, for
libvirt (qemu+ssh, peer-to-peer migration) and for QEMU's migration stream and NBD (TCP 49152+)."""

import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

import ssh_access
from guests import pings
from sandbox import HOST_PYTHON, Sandbox, sh
from sandbox_ansible import BIN, HERE, REPO_ROOT, TIMEOUT, ansible_env
from tcp_probe import probe_command, probe_server

MIGRATION_PORTS = (49152, 49215)  # libvirt's migration_port_min/max: the stream and the NBD server
MACHINE_PORT = 50022  # a probe server on the machine's end of the management link
PROBE_DOMAIN = """<domain type='qemu'>
  <name>nl-migration-probe</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices>
</domain>
"""


@pytest.fixture(scope="module")
def box(guest_image):
    if os.geteuid() != 0:
        pytest.skip("the sandbox needs root")
    sandbox = Sandbox("ss%d" % os.getpid(), host_count=2, ssh=True)
    sandbox.up(build_image=False)
    try:
        yield sandbox
    finally:
        sandbox.down()


def ansible_over_ssh(box, module, args=None):
    """``ansible compute -m MODULE`` with the SSH inventory: {host: its result}."""
    with tempfile.TemporaryDirectory(prefix="nl-ssh-module-") as workdir:
        results = Path(workdir) / "results.json"
        command = [str(BIN / "ansible"), "compute", "-i", str(box.ssh_inventory_path), "-m", module]
        command += ["-a", json.dumps(args)] if args else []
        env = ansible_env(box, NOVALITE_TEST_RESULTS=str(results), ANSIBLE_STDOUT_CALLBACK="module_results",
                          ANSIBLE_CALLBACK_PLUGINS=str(HERE / "callback_plugins"), ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
        run = subprocess.run(command, check=False, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT)
        assert results.exists(), "ansible gave no result (rc=%d):\n%s%s" % (run.returncode, run.stdout, run.stderr)
        return json.loads(results.read_text())


def test_the_ssh_inventory_reaches_each_host_on_its_management_address(box):
    inventory = yaml.safe_load(box.ssh_inventory_path.read_text())["all"]["children"]["compute"]
    group = inventory["vars"]
    assert group["ansible_connection"] == "ssh" and group["ansible_user"] == "root"
    assert group["ansible_python_interpreter"] == "/usr/bin/python3"
    assert group["ansible_ssh_private_key_file"] == str(box.ssh_key_path)
    assert group["novalite_migration_uri"] == box.migration_uri
    for host in box.hosts:
        assert inventory["hosts"][host.name] == {"ansible_host": host.mgmt_address,
                                                 "novalite_host_address": host.address,
                                                 "novalite_migration_address": host.mgmt_address}
    # the default inventory stays the local connection, and knows the migration addresses too
    local = yaml.safe_load(box.inventory_path.read_text())["all"]["children"]["compute"]
    assert {h["ansible_connection"] for h in local["hosts"].values()} == {"local"}
    assert local["hosts"]["compute2"]["novalite_migration_address"] == box.host("compute2").mgmt_address


def test_ansible_ping_over_ssh(box):
    results = ansible_over_ssh(box, "ansible.builtin.ping")
    assert {name: (r["failed"], r.get("ping")) for name, r in results.items()} == {
        "compute1": (False, "pong"), "compute2": (False, "pong")}
    for host in box.hosts:  # really over SSH: each host's sshd let the machine in with the run's key
        log = (host.state_dir / "run" / "sshd.log").read_text()
        assert "Accepted publickey for root from %s" % box.controller_address in log


def test_a_novalite_module_runs_inside_each_host_over_ssh(box):
    results = ansible_over_ssh(box, "novalite.compute.compute_node_info")
    for name in ("compute1", "compute2"):
        node = results[name]["ansible_facts"]["novalite_compute_node"]
        assert node["hypervisor_hostname"] == name  # that host's own libvirtd
        assert node["hypervisor_type"] == "QEMU"


def test_sshd_lets_root_in_by_key_only_on_the_management_address(box):
    host, other = box.hosts
    config = host.run(["/usr/sbin/sshd", "-T"]).stdout.splitlines()
    for setting in ("permitrootlogin without-password", "passwordauthentication no",
                    "kbdinteractiveauthentication no", "authenticationmethods publickey",
                    "listenaddress %s:22" % host.mgmt_address):
        assert setting in config
    listening = {line.split()[3] for line in host.run(["ss", "-ltnH"]).stdout.splitlines()}
    assert {addr for addr in listening if addr.endswith(":22")} == {"%s:22" % host.mgmt_address}
    # nothing answers ssh on the provider network
    assert other.run(probe_command(host.address, 22), check=False).returncode != 0
    # a key the run did not make gets nowhere
    with tempfile.TemporaryDirectory(prefix="nl-ssh-stranger-") as workdir:
        stranger = Path(workdir) / "id_ed25519"
        ssh_access.make_key(stranger, "stranger")
        denied = subprocess.run(["ssh", "-F", "none", "-i", str(stranger), "-o", "IdentitiesOnly=yes",
                                 "-o", "BatchMode=yes", "-o", "UserKnownHostsFile=%s" % box.known_hosts_path,
                                 "-o", "GlobalKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=yes",
                                 "root@%s" % host.mgmt_address, "true"], capture_output=True, text=True, check=False)
    assert denied.returncode == 255 and "Permission denied" in denied.stderr


def test_plain_ssh_lands_inside_the_host(box):
    for host in box.hosts:
        session = subprocess.run(host.ssh_command(["sh", "-c", "hostname; %s -c 'import libvirt, lxml, netaddr'"
                                                   % HOST_PYTHON]), capture_output=True, text=True, check=False)
        assert (session.returncode, session.stdout.strip()) == (0, host.name), session.stderr


@pytest.mark.parametrize("source, target", [("compute1", "compute2"), ("compute2", "compute1")])
def test_a_host_reaches_the_other_hosts_libvirtd_over_qemu_ssh(box, source, target):
    uri = box.migration_uri % box.host(target).mgmt_address
    answer = box.host(source).run(["virsh", "-c", uri, "hostname"], timeout=60)
    assert answer.stdout.strip() == target


def test_libvirtd_migrates_a_guest_peer_to_peer_over_the_management_network(box):
    """libvirtd on compute1 opens the qemu+ssh connection itself (no terminal, no prompt) and QEMU's
    stream goes to the address compute2's libvirtd advertises (its management address)."""
    source, target = box.hosts
    definition = source.state_dir / "migration-probe.xml"
    definition.write_text(PROBE_DOMAIN)
    try:
        source.run(["virsh", "-c", "qemu:///system", "create", definition])
        uri = box.migration_uri % target.mgmt_address
        migrated = source.run(["virsh", "-c", "qemu:///system", "migrate", "--live", "--p2p", "nl-migration-probe",
                               uri], check=False, timeout=120)
        assert migrated.returncode == 0, migrated.stderr
        assert "running" in target.run(["virsh", "-c", "qemu:///system", "domstate", "nl-migration-probe"]).stdout
        assert source.run(["virsh", "-c", "qemu:///system", "domstate", "nl-migration-probe"], check=False).returncode
    finally:
        for host in box.hosts:
            host.run(["virsh", "-c", "qemu:///system", "destroy", "nl-migration-probe"], check=False)


def test_tcp_flows_between_hosts_on_the_migration_ports(box):
    source, target = box.hosts
    with probe_server(target.enter_command, target.mgmt_address, MIGRATION_PORTS):
        for port in MIGRATION_PORTS:
            answer = source.run(probe_command(target.mgmt_address, port)).stdout.split()
            assert answer == [target.name, str(port), "probe"]


def test_hosts_resolve_each_other_by_name_on_the_management_network(box):
    compute1, compute2 = box.hosts
    assert compute1.run(["getent", "hosts", "compute2"]).stdout.split() == [compute2.mgmt_address, "compute2"]
    assert compute2.run(["ssh", "compute1", "hostname"], timeout=30).stdout.strip() == "compute1"


def test_hosts_only_answer_the_machine(box):
    """The machine reaches the hosts; a host opens nothing towards the machine, not even a port that
    listens on the machine's management address."""
    listen_here = list  # the machine's own namespace: the argv as it is
    with probe_server(listen_here, box.controller_address, [MACHINE_PORT]):
        assert subprocess.run(probe_command(box.controller_address, MACHINE_PORT), check=False).returncode == 0
        for host in box.hosts:
            assert subprocess.run(["ping", "-c", "1", "-W", "2", host.mgmt_address], check=False).returncode == 0
            assert not pings(host, box.controller_address)
            assert host.run(probe_command(box.controller_address, MACHINE_PORT, timeout=1), check=False).returncode


def test_a_second_sandbox_never_gets_the_same_subnet(box):
    """Claiming is creating the machine's link, so a sandbox of the same name (the same first choice)
    coming up now moves on to another 169.254.X.0/24, and none is ever 169.254.169.0/24."""
    probe_netns = box.prefix + "-probe"  # under the sandbox's prefix: `down` would remove it too
    sh("ip", "netns", "add", probe_netns)
    try:
        octet = ssh_access.claim_subnet(sh, box.name, probe_netns, "uplink")
        try:
            assert octet != box.mgmt_octet
        finally:
            sh("ip", "link", "del", ssh_access.MACHINE_LINK % octet)
    finally:
        sh("ip", "netns", "del", probe_netns)
    candidates = ssh_access.subnet_candidates(box.name)
    assert sorted(candidates) == [x for x in range(1, 255) if x != 169]


def test_a_sandbox_object_finds_the_running_one_with_its_ssh(box):
    assert Sandbox(box.name).is_up()  # host count, ssh and subnet come from the state dir
    assert Sandbox(box.name).mgmt_network == box.mgmt_network
    assert not Sandbox(box.name, ssh=False).is_up()  # asked without ssh: `up` would rebuild it
