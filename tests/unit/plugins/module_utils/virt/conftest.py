"""Fixtures for the virt unit tests (defined in virt_fixtures, shared with the module tests)."""

from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.virt_fixtures import (  # noqa: F401 pylint: disable=unused-import
    conn, instances_path)
