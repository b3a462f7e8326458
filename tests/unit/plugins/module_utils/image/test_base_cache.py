"""Which ``_base`` file a disk is backed by: the one rule the plan and the cache share."""

from types import SimpleNamespace

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.image.base_cache import GIB, disk_base_name
from ansible_collections.novalite.compute.plugins.module_utils.image.naming import root_base_name

from .conftest import IMAGE_ID

DISK_IMAGE = SimpleNamespace(id=IMAGE_ID, disk_format="qcow2")


@pytest.mark.parametrize("virtual_size, root_gb, expected", [
    (GIB, 0, root_base_name(IMAGE_ID)),
    (None, 0, root_base_name(IMAGE_ID)),
    (2 * GIB, 2, root_base_name(IMAGE_ID)),
    (GIB, 2, root_base_name(IMAGE_ID) + "_2"),
    (None, 2, root_base_name(IMAGE_ID) + "_2"),  # size not known before the fetch
])
def test_disk_base_name_is_the_original_unless_a_larger_disk_is_wanted(virtual_size, root_gb, expected):
    assert disk_base_name(DISK_IMAGE, virtual_size, root_gb) == expected
