# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Devices, addresses and routes on a compute host: Nova's ``ensure_bridge`` and ``initialize_gateway_device``.

``nova/network/linux_net.py``: ``ensure_bridge`` creates the bridge (forward delay 0, STP off,
up), enslaves bridge_interface and moves its IPv4 addresses and gateway routes onto the
bridge; ``initialize_gateway_device`` puts the DHCP-server address first on the bridge ("the
ip for dnsmasq has to be the first address") and turns on ip_forward.

Links, addresses and routes are read as ``ip -j`` reports them and formatted back as ``ip``
takes them, the way Nova's config classes parse and format themselves. Both functions become
one target layout (bridge + interface); ``ip_commands`` lists the ``ip`` commands that get there
from what is, and the same function undoes a failed run or takes the network down.
"""

from __future__ import annotations

import json

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_checked
from ansible_collections.novalite.compute.plugins.module_utils.common.validate import IPNetwork

IP_FORWARD = "/proc/sys/net/ipv4/ip_forward"


# --- what ip -j reports ----------------------------------------------------------------------

class InetAddress:
    """A global-scope IPv4 address: ``local/prefixlen [brd broadcast]``."""

    def __init__(self, local, prefixlen, broadcast=None):
        self.local = local
        self.prefixlen = int(prefixlen)
        self.broadcast = broadcast

    @classmethod
    def from_json(cls, info):
        return cls(info["local"], info["prefixlen"], info.get("broadcast"))

    def args(self):
        args = ["%s/%d" % (self.local, self.prefixlen)]
        return args + ["brd", self.broadcast] if self.broadcast else args

    def describe(self):
        return " ".join(self.args())

    def __eq__(self, other):
        return isinstance(other, InetAddress) and self.args() == other.args()

    def __hash__(self):
        return hash(tuple(self.args()))


class GatewayRoute:
    """A route with a ``via`` (Nova moved exactly these; connected routes follow the addresses)."""

    OPTIONS = (("metric", "metric"), ("protocol", "proto"), ("scope", "scope"), ("prefsrc", "src"))

    def __init__(self, dst, gateway, options=(), onlink=False):
        self.dst = dst
        self.gateway = gateway
        self.options = tuple(options)  # (ip keyword, value) pairs, in OPTIONS order
        self.onlink = onlink

    @classmethod
    def from_json(cls, route):
        options = [(keyword, str(route[key])) for key, keyword in cls.OPTIONS
                   if route.get(key) not in (None, "", "boot", "global")]
        return cls(route["dst"], route["gateway"], options, "onlink" in route.get("flags", ()))

    def args(self, device):
        args = [self.dst, "via", self.gateway, "dev", device]
        for keyword, value in self.options:
            args += [keyword, value]
        return args + ["onlink"] if self.onlink else args

    def describe(self):
        return " ".join(self.args("-")[:3] + [a for pair in self.options for a in pair])

    def __eq__(self, other):
        return isinstance(other, GatewayRoute) and self.args("-") == other.args("-")

    def __hash__(self):
        return hash(tuple(self.args("-")))


class Device:
    """What matters of one link for ensure_bridge; ``exists`` is False for a missing one."""

    def __init__(self, name, exists=False, kind=None, up=False, master=None, addresses=(), routes=()):
        self.name = name
        self.exists = exists
        self.kind = kind
        self.up = up
        self.master = master
        self.addresses = list(addresses)
        self.routes = list(routes)

    def describe(self):
        if not self.exists:
            return None
        return {"kind": self.kind, "up": self.up, "master": self.master,
                "addresses": [a.describe() for a in self.addresses],
                "routes": [r.describe() for r in self.routes]}


def probe_device(run_command, name):
    """The device's link, global IPv4 addresses and gateway routes (main table)."""
    link = _link(run_command, name) if name else None
    if link is None:
        return Device(name)
    addresses = _one(run_command, ["ip", "-j", "-4", "addr", "show", "dev", name, "scope", "global"])
    routes = _json(run_command, ["ip", "-j", "-4", "route", "show", "dev", name])
    return Device(
        name, exists=True, kind=link.get("linkinfo", {}).get("info_kind"),
        up="UP" in link.get("flags", ()), master=link.get("master"),
        addresses=[InetAddress.from_json(a) for a in addresses.get("addr_info", ()) if a.get("family") == "inet"],
        routes=[GatewayRoute.from_json(r) for r in routes if r.get("gateway")])


def _link(run_command, name):
    """The link's details, or None when ``ip`` fails: it exits non-zero for a missing device."""
    args = ["ip", "-j", "-d", "link", "show", "dev", name]
    rc, out, _err = run_command(args)
    return _first(parsed_json(out, args)) if rc == 0 else None


def _json(run_command, args):
    return parsed_json(run_checked(run_command, args), args)


def parsed_json(out, args):
    try:
        return json.loads(out) if out.strip() else []
    except ValueError as exc:
        raise NovaliteError("%s printed something that is not JSON (%s)" % (" ".join(args), exc))


def _one(run_command, args):
    return _first(_json(run_command, args))


def _first(entries):
    return entries[0] if entries else {}


# --- ensure_bridge as a target layout, and the ip commands that reach it ---------------------

class Layout:
    """The bridge and its bridge_interface (a ``Device`` that does not exist when the network has none)."""

    def __init__(self, bridge, interface):
        self.bridge = bridge
        self.interface = interface

    def describe(self):
        return {"bridge": self.bridge.describe(), "bridge_interface": self.interface.describe()}


def probe_layout(run_command, network):
    return Layout(probe_device(run_command, network.bridge), probe_device(run_command, network.bridge_interface))


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


def ip_commands(current, target):
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


def apply_ip_commands(run_command, commands):
    """All commands through one ``ip -batch``: the interface is without its address for milliseconds."""
    if commands:
        script = "".join(" ".join(command) + "\n" for command in commands)
        run_checked(run_command, ["ip", "-batch", "-"], data=script, binary_data=True)


# --- the steps (name, changed, before/after, apply, undo: run by common/rollback.apply_steps) ---

class BridgeStep:
    """ensure_bridge + initialize_gateway_device (or their teardown) as one ``ip -batch``."""

    name = "bridge"

    def __init__(self, run_command, network, current, target):
        self.run_command = run_command
        self.network = network
        self.current, self.target = current, target
        self.commands = ip_commands(current, target)
        self.changed = bool(self.commands)
        self.before, self.after = current.describe(), target.describe()

    def apply(self):
        apply_ip_commands(self.run_command, self.commands)

    def undo(self):
        apply_ip_commands(self.run_command, ip_commands(probe_layout(self.run_command, self.network), self.current))


class ForwardingStep:
    """``sysctl -w net.ipv4.ip_forward=1``, as initialize_gateway_device runs it."""

    name = "ip_forward"

    def __init__(self, run_command, read_file):
        self.run_command = run_command
        self.before = (read_file(IP_FORWARD) or "0").strip()
        self.after = "1"
        self.changed = self.before != self.after

    def apply(self):
        self._set(self.after)

    def undo(self):
        self._set(self.before)

    def _set(self, value):
        run_checked(self.run_command, ["sysctl", "-w", "net.ipv4.ip_forward=%s" % value])


# --- single addresses a host holds for its guests: the metadata IP on lo, floating IPs -------

class HostAddress:
    """``address/32`` on ``device`` (Nova's ensure_metadata_ip and bind_floating_ip)."""

    def __init__(self, address, device, scope=None):
        self.address = address
        self.device = device
        self.scope = scope

    def args(self):
        args = ["%s/32" % self.address] + (["scope", self.scope] if self.scope else [])
        return args + ["dev", self.device]

    def describe(self):
        return " ".join(self.args())

    def __eq__(self, other):
        return isinstance(other, HostAddress) and (self.address, self.device) == (other.address, other.device)

    def __hash__(self):
        return hash((self.address, self.device))


def held_addresses(run_command, devices):
    """{(address, device)} of the /32 IPv4 addresses on ``devices`` (missing devices hold none)."""
    held = set()
    for device in sorted(set(devices)):
        rc, out, _err = run_command(["ip", "-j", "-4", "addr", "show", "dev", device])
        if rc != 0:
            continue
        for entry in parsed_json(out, ["ip", "addr", "show", "dev", device]):
            held.update((a["local"], device) for a in entry.get("addr_info", ())
                        if a.get("family") == "inet" and a.get("prefixlen") == 32)
    return held


class HostAddressStep:
    """``wanted`` addresses present and ``unwanted`` ones gone, in one ``ip -batch``; ``announce``
    is called with each address added (the gratuitous ARP of a floating IP)."""

    def __init__(self, run_command, wanted, unwanted, name, announce=None):
        self.name = name
        self.run_command = run_command
        self.announce = announce
        held = held_addresses(run_command, [a.device for a in list(wanted) + list(unwanted)])
        self.added = [a for a in wanted if (a.address, a.device) not in held]
        self.removed = [a for a in unwanted if (a.address, a.device) in held and a not in wanted]
        self.changed = bool(self.added or self.removed)
        present = [a for a in list(wanted) + list(unwanted) if (a.address, a.device) in held]
        self.before = sorted(a.describe() for a in set(present))
        self.after = sorted(a.describe() for a in (set(present) - set(self.removed)) | set(self.added))

    def apply(self):
        apply_ip_commands(self.run_command, [["addr", "del"] + a.args() for a in self.removed]
                          + [["addr", "add"] + a.args() for a in self.added])
        if self.announce:
            self.announce(self.added)

    def undo(self):
        held = held_addresses(self.run_command, [a.device for a in self.added + self.removed])
        apply_ip_commands(self.run_command,
                          [["addr", "del"] + a.args() for a in self.added if (a.address, a.device) in held]
                          + [["addr", "add"] + a.args() for a in self.removed if (a.address, a.device) not in held])
