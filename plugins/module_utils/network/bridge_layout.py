# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova's ``ensure_bridge`` + ``initialize_gateway_device`` as a target layout and a transition.

ensure_bridge: create the bridge (forward delay 0, STP off, up), enslave bridge_interface, and
move its IPv4 addresses and gateway routes onto the bridge. initialize_gateway_device: the
DHCP-server address first on the bridge ("the ip for dnsmasq has to be the first address").
Both become one target (bridge + interface); ``transition`` lists the ``ip`` commands that get
there from what is, and the same function undoes a failed run or takes the network down.
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_checked
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.network.ip_devices import Device, InetAddress
from ansible_collections.novalite.compute.plugins.module_utils.network.netaddr_import import IPNetwork


class Layout:
    def __init__(self, bridge, interface):
        self.bridge = bridge
        self.interface = interface

    def describe(self):
        return {"bridge": self.bridge.describe(), "bridge_interface": self.interface.describe()}


def gateway_address(network, dhcp_server):
    return InetAddress(dhcp_server, network.network.prefixlen, network.broadcast)


def check_usable(current, network):
    """Refuse what ensure_bridge cannot fix, before anything is changed."""
    bridge, interface = current.bridge, current.interface
    if bridge.exists and bridge.kind != "bridge":
        raise InvalidInput("device %s exists and is not a bridge (it is a %s)" % (bridge.name, bridge.kind),
                           value=bridge.name)
    if network.bridge_interface is None:
        return
    if not interface.exists:
        raise InvalidInput("network.bridge_interface %s does not exist on this host" % interface.name,
                           value=interface.name)
    if interface.master not in (None, bridge.name):
        raise InvalidInput("network.bridge_interface %s is already a port of %s, not of %s"
                           % (interface.name, interface.master, bridge.name), value=interface.name)


def present_target(current, address):
    """The bridge up with ``address`` first, then its own and the interface's addresses and routes."""
    bridge, interface = current.bridge, current.interface
    addresses = [address] + [a for a in bridge.addresses if a.local != address.local]
    addresses += [a for a in interface.addresses if a not in addresses]
    routes = bridge.routes + [r for r in interface.routes if r not in bridge.routes]
    target_bridge = Device(bridge.name, True, "bridge", True, bridge.master, addresses, routes)
    target_interface = interface
    if interface.exists:
        target_interface = Device(interface.name, True, interface.kind, True, bridge.name)
    return Layout(target_bridge, target_interface)


def teardown_target(current, address, remove_bridge):
    """Without the DHCP-server address (None: unknown); with ``remove_bridge`` the interface gets the rest."""
    bridge, interface = current.bridge, current.interface
    if not bridge.exists:
        return current
    kept = [a for a in bridge.addresses if address is None or a.local != address.local]
    if not remove_bridge:
        return Layout(Device(bridge.name, True, bridge.kind, bridge.up, bridge.master, kept, bridge.routes), interface)
    target_interface = interface
    if interface.exists:
        target_interface = Device(interface.name, True, interface.kind, True, None,
                                  interface.addresses + kept, interface.routes + bridge.routes)
    return Layout(Device(bridge.name), target_interface)


def transition(current, target):
    """``ip`` commands (argument lists without "ip") from ``current`` to ``target``."""
    bridge, target_bridge = current.bridge, target.bridge
    interface, target_interface = current.interface, target.interface
    commands = []
    if target_bridge.exists and not bridge.exists:
        commands.append(["link", "add", bridge.name, "type", "bridge", "forward_delay", "0", "stp_state", "0"])
    if target_bridge.up and not bridge.up:
        commands.append(["link", "set", bridge.name, "up"])
    if target_interface.exists and target_interface.master == bridge.name and interface.master != bridge.name:
        commands.append(["link", "set", interface.name, "master", bridge.name])
    if target_interface.exists and target_interface.up and not interface.up:
        commands.append(["link", "set", interface.name, "up"])
    pairs = [(d, t) for d, t in ((bridge, target_bridge), (interface, target_interface)) if d.exists or t.exists]
    commands += _address_commands(pairs, lambda: _unlink_commands(current, target))
    return commands


def _address_commands(pairs, unlink):
    """Addresses and gateway routes to their target devices; ``unlink`` in between (nomaster, del)."""
    rewritten = [(d, t) for d, t in pairs if d.addresses != t.addresses]
    routes_kept = all(d.routes == t.routes for d, t in pairs)
    if len(rewritten) == 1 and routes_kept and _only_removals(*rewritten[0]):
        device, wanted = rewritten[0]  # taking the DHCP address away must not flap the host's own
        return [["addr", "del"] + a.args() + ["dev", device.name]
                for a in reversed(device.addresses) if a not in wanted.addresses] + unlink()
    commands = []
    if rewritten or not routes_kept:  # gateway routes go with their addresses: out first, back in last
        commands += [["route", "del"] + r.args(d.name) for d, _t in pairs for r in d.routes]
    for device, _wanted in rewritten:  # secondaries before their primary
        commands += [["addr", "del"] + a.args() + ["dev", device.name] for a in reversed(device.addresses)]
    commands += unlink()
    for device, wanted in rewritten:
        if wanted.exists:
            commands += [["addr", "add"] + a.args() + ["dev", device.name] for a in wanted.addresses]
    if rewritten or not routes_kept:
        commands += [["route", "add"] + r.args(t.name) for _d, t in pairs for r in t.routes if t.exists]
    return commands


def _unlink_commands(current, target):
    commands = []
    interface, target_interface = current.interface, target.interface
    if interface.master == current.bridge.name and target_interface.exists and target_interface.master is None:
        commands.append(["link", "set", interface.name, "nomaster"])
    if current.bridge.exists and not target.bridge.exists:
        commands.append(["link", "del", current.bridge.name])
    return commands


def _only_removals(device, target):
    """True when the target keeps the device and some of its addresses, in order, none sharing a
    subnet with a removed one (deleting a primary address also deletes its secondaries)."""
    addresses, wanted = device.addresses, target.addresses
    if not target.exists or not wanted:
        return False
    kept = iter(addresses)
    if not all(any(a == w for a in kept) for w in wanted):
        return False
    removed = [a for a in addresses if a not in wanted]
    return not any(_same_subnet(r, w) for r in removed for w in wanted)


def _same_subnet(one, other):
    return IPNetwork("%s/%d" % (one.local, one.prefixlen)).cidr == IPNetwork("%s/%d" % (other.local, other.prefixlen)).cidr


def apply_transition(run_command, commands):
    """All commands through one ``ip -batch``: the interface is without its address for milliseconds."""
    if commands:
        script = "".join(" ".join(command) + "\n" for command in commands)
        run_checked(run_command, ["ip", "-batch", "-"], data=script, binary_data=True)
