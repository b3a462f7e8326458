import random

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.network.mac_address import generate_macs, normalize_mac


def test_normalizes_to_lower_case_colons():
    assert normalize_mac("FA-16-3E-5A-F4-23") == "fa:16:3e:5a:f4:23"
    assert normalize_mac("fa:16:3e:5a:f4:23") == "fa:16:3e:5a:f4:23"


@pytest.mark.parametrize("value", ["fa:16:3e:5a:f4", "fa:16:3e:5a:f4:23:01:02", "zz:16:3e:5a:f4:23",
                                   "fa:16:3e:5a:f4:23\n", "fa:16:3e:5a:f4:23,x"])
def test_malformed_macs_are_refused(value):
    with pytest.raises(InvalidInput, match="is not a MAC address"):
        normalize_mac(value, "instances[0].mac")


@pytest.mark.parametrize("value", ["01:00:5e:00:00:01", "ff:ff:ff:ff:ff:ff", "fb:16:3e:00:00:01"])
def test_multicast_macs_are_refused(value):
    with pytest.raises(InvalidInput, match="is a multicast MAC address"):
        normalize_mac(value)


def test_generated_macs_are_novas_unique_and_avoid_taken():
    rng = random.Random(1)
    taken = set(generate_macs(500, (), random.Random(2)))
    macs = generate_macs(2000, taken, rng)
    assert len(set(macs)) == 2000
    assert not taken & set(macs)
    assert all(mac.startswith("fa:16:3e:") and normalize_mac(mac) == mac for mac in macs)


def test_gives_up_when_every_try_collides():
    class Stuck(random.Random):
        def randint(self, a, b):
            return 0
    with pytest.raises(NovaliteError, match="could not find a free fa:16:3e MAC"):
        generate_macs(1, {"fa:16:3e:00:00:00"}, Stuck())
