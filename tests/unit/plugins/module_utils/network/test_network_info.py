from ansible_collections.novalite.compute.plugins.module_utils.network.network_info import network_info


def test_seed_vif_shape(network):
    fixed_ip = {"instance_uuid": "90844617-d71f-474f-9cdf-35e244c846b0", "address": "10.1.0.2",
                "mac": "fa:16:3e:5a:f4:23", "vif_id": "99a3c937-1a0f-48f7-8015-166d7644e9a0"}
    assert network_info(network, "10.1.0.3", [fixed_ip]) == {"90844617-d71f-474f-9cdf-35e244c846b0": [{
        "id": "99a3c937-1a0f-48f7-8015-166d7644e9a0",
        "address": "fa:16:3e:5a:f4:23",
        "meta": {},
        "network": {
            "id": "e011b388-163b-4080-a083-bb63ebed7f6a", "label": "private", "bridge": "br100",
            "meta": {"tenant_id": None, "multi_host": True, "should_create_bridge": True, "bridge_interface": "eth0"},
            "subnets": [
                {"cidr": "10.1.0.0/16", "version": 4, "routes": [], "meta": {"dhcp_server": "10.1.0.3"},
                 "ips": [{"address": "10.1.0.2", "type": "fixed", "version": 4, "meta": {}, "floating_ips": []}],
                 "gateway": {"address": "10.1.0.1", "type": "gateway", "version": 4, "meta": {}},
                 "dns": [{"address": "8.8.4.4", "type": "dns", "version": 4, "meta": {}}]},
                {"cidr": None, "version": None, "ips": [], "dns": [], "routes": [],
                 "meta": {"dhcp_server": "10.1.0.3"},
                 "gateway": {"address": None, "type": "gateway", "version": None, "meta": {}}}]}}]}
