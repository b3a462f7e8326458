"""The peer of bench/side_by_side.py does the job it is measured on.

bench/peer/ is the community.libvirt playbook the benchmark puts next to ours. On two sandbox
hosts reached over SSH, as the benchmark runs it: create count 2 leaves both domains running and
each guest with the static lease of its hosts line; delete leaves no domain, disk, console log
or hosts line. community.libvirt comes from the PyPI ``ansible`` package, installed into
bench/.state on first use (never into the venv).
"""

import os
import sys
import tempfile
from pathlib import Path

import pytest

from sandbox import Sandbox
from sandbox_ansible import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "bench"))
import side_by_side as bench  # noqa: E402

NAME, COUNT = "itpeer", 2


@pytest.fixture(scope="module")
def peer(guest_image):
    if os.geteuid() != 0:
        pytest.skip("the sandbox needs root")
    bench.ensure_peer_collection()
    box = Sandbox("bp%d" % os.getpid(), host_count=2, ssh=True)
    box.up(build_image=False)
    try:
        with tempfile.TemporaryDirectory(prefix="nl-bench-peer-") as logs:
            yield bench.Side("peer", box, Path(logs), "warm", bench.OURS_NAME_VARS)
    finally:
        box.down()


def peer_file(host, *parts):
    return host.state_dir.joinpath("lib", "libvirt", *parts)


def test_create_runs_every_domain_and_every_guest_gets_its_lease(peer):
    peer.play("create", "create_vm.yml", {"vm_name": NAME, "count": COUNT}, measured=False)
    # bench/peer/verify.yml: the hosts lines, the running domains, then a wait for every lease
    peer.verify_leases(NAME, COUNT)
    placed = bench.peer_vms(NAME, COUNT, [h.name for h in peer.box.hosts])
    assert sorted(len(vms) for vms in placed.values()) == [1, 1]  # one VM on each host
    for host in peer.box.hosts:
        lines = peer_file(host, "peer-dnsmasq", "hosts").read_text().splitlines()
        leases = peer_file(host, "peer-dnsmasq", "leases").read_text()
        running = peer.running_domains(host)
        for vm, mac, ip in placed[host.name]:
            assert "%s,%s,%s" % (mac, vm, ip) in lines
            assert vm in running
            assert " %s %s %s " % (mac, ip, vm) in leases  # dnsmasq gave the guest its static lease


def test_delete_leaves_nothing(peer):
    peer.play("delete", "delete_vm.yml", {"vm_name": NAME, "count": COUNT}, measured=False)
    for host in peer.box.hosts:
        assert peer.running_domains(host, "--all") == set()
        assert sorted(p.name for p in peer_file(host, "images").iterdir()) == ["base"]
        assert peer_file(host, "peer-dnsmasq", "hosts").read_text().strip() == ""
