"""Fixtures shared by the virt unit tests here (through conftest.py) and the module tests in
tests/unit/plugins/modules (through ``pytest_plugins``).

PYTEST_DONT_REWRITE: conftest.py imports it before pytest_plugins names it; it holds no asserts.
"""

import libvirt
import pytest

from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.fake_libvirt import FakeConnection


@pytest.fixture
def conn(monkeypatch):
    """The fake libvirt behind libvirt.open."""
    fake = FakeConnection()
    monkeypatch.setattr(libvirt, "open", lambda uri: fake)
    return fake


@pytest.fixture
def instances_path(tmp_path):
    path = tmp_path / "instances"
    path.mkdir()
    return path
