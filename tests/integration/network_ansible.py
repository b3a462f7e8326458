"""nova_network on the sandbox: the private network 10.1.0.0/16 on br100, the network playbooks, and a host's network state."""

from pathlib import Path

from sandbox_ansible import FACTS, host_facts, run_module

PLAYBOOKS = Path(__file__).resolve().parent / "playbooks" / "network"

PRIVATE_NETWORK = {"uuid": "e011b388-163b-4080-a083-bb63ebed7f6a", "label": "private", "cidr": "10.1.0.0/16",
                   "dns1": "8.8.4.4", "bridge": "br100", "bridge_interface": "eth0", "multi_host": True}


def host_state(host):
    """What a failed or check-mode call must leave alone: facts, links, addresses, routes, chains, files."""
    iptables = host.run(["iptables-save", "-t", "filter"]).stdout
    return {
        "facts": host.run(["cat", FACTS], check=False).stdout,
        "addresses": host.run(["ip", "-br", "addr"]).stdout,
        "links": host.run(["ip", "-br", "link"]).stdout,
        "routes": host.run(["ip", "route"]).stdout,
        "iptables": [line for line in iptables.splitlines() if not line.startswith("#")],
        "networks_dir": host.run(["ls", "-la", "/var/lib/novalite/networks"], check=False).stdout,
        "ip_forward": host.run(["cat", "/proc/sys/net/ipv4/ip_forward"]).stdout,
    }


def take_network_down(sandbox, network=None):
    """Release every instance of the network on every host, then take it down with the bridge."""
    network = network or PRIVATE_NETWORK
    for host in sandbox.hosts:
        holders = [{"instance_uuid": r["instance_uuid"]} for r in host_facts(host)["fixed_ips"].values()
                   if r["network_id"] == network["uuid"]]
        if holders:
            released = run_module(sandbox, host.name, "nova_network",
                                  {"network": network, "state": "absent", "instances": holders})
            assert not released.get("failed"), released
        down = run_module(sandbox, host.name, "nova_network",
                          {"network": network, "state": "absent", "remove_bridge": True})
        assert not down.get("failed"), down
