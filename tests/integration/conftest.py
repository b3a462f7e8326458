"""Integration tests run on real sandbox hosts: root, libvirtd, qemu (TCG), dnsmasq.

One sandbox per test session (``sandbox`` fixture), torn down at the end even when tests
fail. Tests that change a host clean up after themselves so later tests see a fresh host.
"""

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "sandbox"))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # shared test plumbing (guests.py)

from sandbox import IMAGE_DIR, Sandbox, build_guest_image  # noqa: E402


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.sandbox)


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
