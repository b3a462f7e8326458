"""Sample values as test inputs (an instance and its VIF as the flow makes them), and instance directories
made in tmp_path."""

import os

from ansible_collections.novalite.compute.plugins.module_utils.virt.guest import (
    HostSettings, build_guest, parse_instance)

SAMPLE_UUID = "b110ed3b-9cc3-4d30-b433-a71090166b2c"
SAMPLE_NAME = "instance-00000002"
SAMPLE_MAC = "fa:16:3e:47:ef:94"
SAMPLE_IP = "10.1.0.4"
M1_TINY = {"id": 4, "flavorid": "1", "name": "m1.tiny", "memory_mb": 512, "vcpus": 1, "root_gb": 0,
           "ephemeral_gb": 0, "swap": 0, "rxtx_factor": 1.0, "is_public": True, "disabled": False,
           "vcpu_weight": None, "extra_specs": {}}


def sample_vif(mac=SAMPLE_MAC, address=SAMPLE_IP, bridge="br100", dhcp_server="10.1.0.3"):
    """One VIF of network_info as nova_network returns it (with its empty second subnet)."""
    return {
        "id": "99a3c937-1a0f-48f7-8015-166d7644e9a0", "address": mac, "meta": {},
        "network": {
            "id": "e011b388-163b-4080-a083-bb63ebed7f6a", "label": "private", "bridge": bridge,
            "meta": {"tenant_id": None, "multi_host": True, "should_create_bridge": True, "bridge_interface": "eth0"},
            "subnets": [
                {"cidr": "10.1.0.0/16", "version": 4, "routes": [],
                 "ips": [{"address": address, "type": "fixed", "version": 4, "meta": {}, "floating_ips": []}],
                 "gateway": {"address": "10.1.0.1", "type": "gateway", "version": 4, "meta": {}},
                 "dns": [{"address": "8.8.4.4", "type": "dns", "version": 4, "meta": {}}],
                 "meta": {"dhcp_server": dhcp_server}},
                {"cidr": None, "version": None, "ips": [], "dns": [], "routes": [],
                 "gateway": {"address": None, "type": "gateway", "version": None, "meta": {}},
                 "meta": {"dhcp_server": dhcp_server}},
            ],
        },
    }


def make_instance(instances_path, name=SAMPLE_NAME, uuid=SAMPLE_UUID, vifs=None, **fields):
    """An AMI-style instance dir (disk, kernel, ramdisk) and the spec that describes it."""
    instance_dir = os.path.join(str(instances_path), name)
    os.makedirs(instance_dir, exist_ok=True)
    for filename in ("disk", "kernel", "ramdisk"):
        with open(os.path.join(instance_dir, filename), "wb") as handle:
            handle.write(b"x")
    spec = {"name": name, "uuid": uuid, "display_name": "my vm", "flavor": dict(M1_TINY),
            "kernel_id": "aki-1", "ramdisk_id": "ari-1", "network_info": [sample_vif()] if vifs is None else vifs}
    spec.update(fields)
    return spec


def sample_guest(instances_path, **fields):
    """The spec of a sample instance made in ``instances_path``, and its wanted guest config."""
    raw = make_instance(instances_path, **fields)
    spec = parse_instance(raw, 0, str(instances_path), with_definition=True)
    return spec, build_guest(spec, HostSettings(), SAMPLE_UUID)
