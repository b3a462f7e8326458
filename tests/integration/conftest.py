"""Integration tests run on real sandbox hosts: root, libvirtd, qemu (TCG), dnsmasq.

One sandbox per test session (``sandbox`` fixture), torn down at the end even when tests
fail. Tests that change a host clean up after themselves so later tests see a fresh host.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "sandbox"))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # shared test plumbing (guests.py)

from sandbox import IMAGE_DIR, Sandbox, build_guest_image  # noqa: E402
from virt_instances import remove_instances, remove_nova_filters  # noqa: E402
from virt_network import flat_network  # noqa: E402


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.sandbox)


@pytest.fixture(scope="session")
def installed_collection(tmp_path_factory):
    """The collection built with ``ansible-galaxy collection build`` and installed from the tarball:
    {"tarball": path, "collections": the ANSIBLE_COLLECTIONS_PATH it was installed into}."""
    workdir = tmp_path_factory.mktemp("collection")
    galaxy = str(Path(sys.executable).parent / "ansible-galaxy")
    # outside the checkout: its ansible.cfg would show the collection as installed already
    subprocess.run([galaxy, "collection", "build", str(REPO_ROOT), "--output-path", str(workdir)],
                   check=True, capture_output=True, cwd=workdir)
    tarball = next(workdir.glob("novalite-compute-*.tar.gz"))
    collections = workdir / "collections"
    subprocess.run([galaxy, "collection", "install", "--force", str(tarball), "-p", str(collections)],
                   check=True, capture_output=True, cwd=workdir)
    return {"tarball": tarball, "collections": collections}


@pytest.fixture(scope="session")
def guest_image():
    """Paths of the test guest's kernel, ramdisk, disk and catalog (built if needed)."""
    build_guest_image()
    return {name: IMAGE_DIR / name for name in ("vmlinuz", "initrd.img", "disk.qcow2", "catalog.yml")}


def running_sandbox(prefix):
    """A 2-host sandbox of its own for the session, torn down at the end even when tests fail."""
    if os.geteuid() != 0:
        pytest.skip("the sandbox needs root")
    box = Sandbox("%s%d" % (prefix, os.getpid()), host_count=2)
    box.up(build_image=False)
    try:
        yield box
    finally:
        box.down()


@pytest.fixture(scope="session")
def sandbox(guest_image):
    yield from running_sandbox("it")


@pytest.fixture(scope="session")
def flow_sandbox(guest_image):
    """For the playbook-level tests: the flow leaves networks wired (as nova-network does), which
    would stand in the way of tests that build br100 by hand."""
    yield from running_sandbox("fl")


@pytest.fixture(scope="module")
def guest_sandbox(guest_image):
    """For test_guest_network.py: a sandbox of its own, whose guests probe its network for a whole module."""
    yield from running_sandbox("gn")


@pytest.fixture(scope="module")
def host(sandbox, request):
    """compute1 with br100 and a dnsmasq serving the test module's GUESTS [(name, mac, ip)]; their
    instances and every nova-* filter are removed afterwards."""
    guests = request.module.GUESTS
    compute1 = sandbox.host("compute1")
    with flat_network(compute1, [(mac, name.replace("instance-", "vm-"), ip) for name, mac, ip in guests]):
        try:
            yield compute1
        finally:
            remove_instances(compute1, [name for name, _mac, _ip in guests])
            remove_nova_filters(compute1)
