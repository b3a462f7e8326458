# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a network's guests leave the host: the settings of Nova's ``init_host`` and ``add_snat_rule``.

Nova's flags ``routing_source_ip`` (default ``my_ip``, the address the host reaches the world
from), ``public_interface``, ``dmz_cidr``, ``force_snat_range`` and ``metadata_port``, here options
of nova_network, checked before anything changes and recorded in the network's record of the
host's facts, so that every later run (a delete, a floating IP change) rebuilds the same rules
from the record without being told them again.

Defaults come from the host's own routing, as Nova's ``_get_my_ip`` asked the kernel which
address and device reach 8.8.8.8 (``ip -j route get``, no packet is sent): the routing source
address is that source address and the public interface that device, or, when that device is
the bridge_interface a network enslaves (``eth0``), the network's bridge, which holds the
address from then on.
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.network import linux_net
from ansible_collections.novalite.compute.plugins.module_utils.network.metadata import DEFAULT_PORT

PROBE_DESTINATION = "8.8.8.8"  # Nova's _get_my_ip
EGRESS_FIELDS = ("routing_source_ip", "public_interface", "dmz_cidr", "force_snat_range", "metadata_port")
EGRESS_SPEC = {
    "routing_source_ip": {"type": "str"},
    "public_interface": {"type": "str"},
    "dmz_cidr": {"type": "list", "elements": "str", "default": []},
    "force_snat_range": {"type": "list", "elements": "str", "default": []},
    "metadata_port": {"type": "int", "default": DEFAULT_PORT},
}


class EgressOptions:
    """The options as given, checked; ``None`` for routing_source_ip or public_interface means "the default
    route's" and ``""`` for public_interface "no -o" (Nova's empty public_interface)."""

    def __init__(self, params):
        self.routing_source_ip = validate.optional_ipv4_address(params.get("routing_source_ip"), "routing_source_ip")
        interface = params.get("public_interface")
        self.public_interface = interface if interface in (None, "") else validate.device_name(
            interface, "public_interface")
        self.dmz_cidr = [str(validate.ipv4_network(v, "dmz_cidr[%d]" % i))
                         for i, v in enumerate(validate.sequence(params.get("dmz_cidr"), "dmz_cidr"))]
        self.force_snat_range = [str(validate.ipv4_network(v, "force_snat_range[%d]" % i))
                                 for i, v in enumerate(validate.sequence(params.get("force_snat_range"),
                                                                         "force_snat_range"))]
        self.metadata_port = validate.port(params.get("metadata_port") or DEFAULT_PORT, "metadata_port")


def default_route(run_command):
    """(device, source address) the kernel would use towards PROBE_DESTINATION, or (None, None)."""
    rc, out, _err = run_command(["ip", "-j", "-4", "route", "get", PROBE_DESTINATION])
    routes = linux_net.parsed_json(out, ["ip", "route", "get"]) if rc == 0 else []
    route = routes[0] if routes else {}
    return route.get("dev"), route.get("prefsrc")


def resolve(options, run_command, enslaved):
    """The egress settings to record: ``options`` with the defaults filled in, every device checked.

    ``enslaved`` maps each bridge_interface of this host's networks (recorded, or being set up)
    to its bridge. Raises InvalidInput, before anything changes, for a device that does not
    exist and for defaults that cannot be found (no default route).
    """
    device, source = default_route(run_command)
    interface = options.public_interface
    if interface is None:
        if device is None:
            raise InvalidInput("public_interface: the host has no route to %s to take it from; set "
                               "public_interface (\"\" for none) and routing_source_ip" % PROBE_DESTINATION)
        interface = enslaved.get(device, device)
    routing_source_ip = options.routing_source_ip or source
    if not routing_source_ip:
        raise InvalidInput("routing_source_ip: the host has no route to %s to take it from; set it"
                           % PROBE_DESTINATION)
    if interface and interface not in enslaved.values() and not linux_net.probe_device(run_command, interface).exists:
        raise InvalidInput("public_interface %s does not exist on this host" % interface, value=interface)
    return {"routing_source_ip": routing_source_ip, "public_interface": interface,
            "dmz_cidr": options.dmz_cidr, "force_snat_range": options.force_snat_range,
            "metadata_port": options.metadata_port}


def enslaved_interfaces(networks):
    """{bridge_interface: bridge} of network records (with fields bridge and bridge_interface)."""
    return {record["bridge_interface"]: record["bridge"] for record in networks if record.get("bridge_interface")}
