import random

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.compute import naming


def test_instance_name_is_nova_template():
    assert naming.instance_name(10) == "instance-0000000a"
    assert naming.instance_name(42) == "instance-0000002a"


def test_reservation_id_shape():
    rid = naming.new_reservation_id(random.Random(1))
    assert rid.startswith("r-") and len(rid) == 10 and rid[2:].isalnum() and rid[2:].islower()


@pytest.mark.parametrize("display, hostname", [
    ("test", "test"), ("My Web_Server", "my-web-server"), ("-x.y-", "x-y"), ("a<b>&c", "abc")])
def test_sanitize_hostname(display, hostname):
    assert naming.sanitize_hostname(display) == hostname


def test_name_without_usable_characters_is_refused():
    with pytest.raises(InvalidInput, match="no usable hostname"):
        naming.sanitize_hostname("***")


def test_display_names_for_a_batch():
    assert naming.display_names("web", 1) == ["web"]
    assert naming.display_names("web", 3) == ["web-1", "web-2", "web-3"]
