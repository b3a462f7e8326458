"""The rules of a host's whole recorded state: Nova's init_host, metadata_forward and floating_forward_rules."""

from ansible_collections.novalite.compute.plugins.module_utils.network.nat import host_chains

NETWORK = {"uuid": "e011b388-163b-4080-a083-bb63ebed7f6a", "label": "private", "cidr": "10.1.0.0/16",
           "bridge": "br100", "dhcp_server": "10.1.0.3", "routing_source_ip": "192.168.96.80",
           "public_interface": "br100", "dmz_cidr": [], "force_snat_range": [], "metadata_port": 8775}
ASSOCIATION = {"address": "192.168.96.129", "fixed_ip": "10.1.0.2", "interface": "br100"}


def chains(networks=(NETWORK,), associations=()):
    document = {"networks": {n["uuid"]: n for n in networks},
                "floating_associations": {a["address"]: a for a in associations}}
    chain_set = host_chains(document)
    return chain_set, {(c.table, c.name): c for c in chain_set.chains}


def test_one_network_has_novas_snat_exceptions_metadata_dnat_and_no_masquerade():
    chain_set, found = chains()
    assert found["nat", "nova-network-POSTROUTING"].rules == [
        "-s 10.1.0.0/16 -d 10.1.0.3/32 -j ACCEPT",
        "-s 10.1.0.0/16 -d 10.1.0.0/16 -m conntrack ! --ctstate DNAT -j ACCEPT"]
    assert found["nat", "nova-network-snat"].rules == [
        "-j nova-network-float-snat", "-s 10.1.0.0/16 -o br100 -j SNAT --to-source 192.168.96.80"]
    assert found["nat", "nova-network-PREROUTING"].rules == [
        "-d 169.254.169.254/32 -i br100 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.1.0.3:8775"]
    assert found["filter", "nova-in-br100"].rules[-1] == "-d 10.1.0.3/32 -p tcp -m tcp --dport 8775 -j ACCEPT"
    assert not any("MASQUERADE" in rule for chain in chain_set.chains for rule in chain.rules)
    # POSTROUTING's own chain is declared before the snat chain: its hook ends up on top
    names = [c.name for c in chain_set.chains if c.table == "nat" and [h.builtin for h in c.hooks] == ["POSTROUTING"]]
    assert names == ["nova-network-POSTROUTING", "nova-network-snat"]
    assert found["nat", "nova-network-float-snat"].hooks == []


def test_dmz_force_snat_range_and_no_public_interface():
    network = dict(NETWORK, dmz_cidr=["10.128.0.0/24"], force_snat_range=["203.0.113.0/24", "198.51.100.7/32"],
                   public_interface="", metadata_port=8000)
    _chain_set, found = chains([network])
    assert found["nat", "nova-network-POSTROUTING"].rules[1] == "-s 10.1.0.0/16 -d 10.128.0.0/24 -j ACCEPT"
    assert found["nat", "nova-network-snat"].rules[1:] == [
        "-s 10.1.0.0/16 -d 203.0.113.0/24 -j SNAT --to-source 192.168.96.80",
        "-s 10.1.0.0/16 -d 198.51.100.7/32 -j SNAT --to-source 192.168.96.80"]
    assert found["nat", "nova-network-PREROUTING"].rules[0].endswith("--to-destination 10.1.0.3:8000")


def test_a_floating_ip_gets_novas_five_rules():
    _chain_set, found = chains(associations=[ASSOCIATION])
    assert found["nat", "nova-network-float-snat"].rules == [
        "-s 10.1.0.2/32 -d 10.1.0.2/32 -j SNAT --to-source 192.168.96.129",
        "-s 10.1.0.2/32 -o br100 -j SNAT --to-source 192.168.96.129"]
    assert found["nat", "nova-network-PREROUTING"].rules[1] == "-d 192.168.96.129/32 -j DNAT --to-destination 10.1.0.2"
    assert found["nat", "nova-network-OUTPUT"].rules == ["-d 192.168.96.129/32 -j DNAT --to-destination 10.1.0.2"]
    assert found["nat", "nova-network-POSTROUTING"].rules[-1] == (
        "-s 10.1.0.2/32 -m conntrack --ctstate DNAT -j SNAT --to-source 192.168.96.129")


def test_no_network_owns_everything_and_declares_nothing():
    chain_set, found = chains(networks=[])
    assert found == {}
    assert chain_set.owned("nat", "nova-network-snat") and chain_set.owned("filter", "nova-fwd-br101")
    assert not chain_set.owned("filter", "libvirt-FWO")


def test_a_network_recorded_before_egress_existed_gets_no_snat_until_a_present_run_records_it():
    legacy = {key: NETWORK[key] for key in ("uuid", "label", "cidr", "bridge", "dhcp_server")}
    _chain_set, found = chains([legacy])
    assert found["nat", "nova-network-snat"].rules == ["-j nova-network-float-snat"]


def test_two_networks_each_their_own_rules_in_bridge_order():
    other = dict(NETWORK, uuid="5f1c8f52-0d55-4a39-9b7e-0d6f3c1a2b3c", cidr="10.2.0.0/16", bridge="br099",
                 dhcp_server="10.2.0.3")
    _chain_set, found = chains([NETWORK, other])
    assert [r.split(" -i ")[1].split()[0] for r in found["nat", "nova-network-PREROUTING"].rules] == ["br099", "br100"]
    assert ("filter", "nova-fwd-br099") in found and ("filter", "nova-fwd-br100") in found
