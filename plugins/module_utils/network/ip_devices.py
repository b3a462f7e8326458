# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Links, IPv4 addresses and gateway routes as ``ip -j`` reports them, and as ``ip`` takes them.

Each class parses one JSON object of ``ip -j`` and formats the arguments that recreate it,
the way Nova's config classes format and parse themselves.
"""

from __future__ import annotations

import json

from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_checked
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError


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
    return _first(_parsed(out, args)) if rc == 0 else None


def _json(run_command, args):
    return _parsed(run_checked(run_command, args), args)


def _parsed(out, args):
    try:
        return json.loads(out) if out.strip() else []
    except ValueError as exc:
        raise NovaliteError("%s printed something that is not JSON (%s)" % (" ".join(args), exc))


def _one(run_command, args):
    return _first(_json(run_command, args))


def _first(entries):
    return entries[0] if entries else {}
