# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Floating IPs on a compute host: Nova's ``network/floating_ips.py`` and ``linux_net``'s
``bind_floating_ip``, ``ensure_floating_forward`` and ``send_arp_for_ip``.

Nova kept one ``floating_ips`` table (address, fixed_ip, project_id, host, auto_assigned, pool,
interface). Here it is split between two facts sections, so that neither ever moves between hosts:

- ``floating_ips`` — ``{address: {address, pool, project_id, auto_assigned, interface,
  instance_uuid}}``: the addresses this host *keeps* (allocated to a project). The keeper is the
  host of the instance the address was allocated for (auto-assigned on create, or allocated and
  associated in one go), or for a plain allocate the host the controller names. An address stays
  with its keeper until it is released, associated or not, so an allocated but unassociated
  address lives in a host's facts and survives the controller losing its state dir;
- ``floating_associations`` — ``{address: {address, fixed_ip, instance_uuid, network_id,
  interface, pool, project_id}}``: the addresses bound on this host, each to the fixed IP of one of
  its own instances (multi_host: the instance's host does the NAT), with the rules, the /32 on the
  interface and the gratuitous ARP.

The union of every host's two sections is Nova's table (``host`` = where the association is).
The controller allocates from that union under its ledger lock; each host re-checks what it
commits against its own facts: an address another project keeps here, a fixed IP that is not its
instance's, an address in a fixed range or already on one of its interfaces, a missing interface.
"""

from __future__ import annotations

import concurrent.futures

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.network import linux_net

ROWS, ASSOCIATIONS = "floating_ips", "floating_associations"
ROW_OPTIONS = {
    "address": {"type": "str", "required": True},
    "pool": {"type": "str", "required": True},
    "project_id": {"type": "str", "required": True},
    "auto_assigned": {"type": "bool", "default": False},
    "interface": {"type": "str"},
    "instance_uuid": {"type": "str"},
}
ASSOCIATION_OPTIONS = {
    "address": {"type": "str", "required": True},
    "instance_uuid": {"type": "str", "required": True},
    "fixed_ip": {"type": "str"},
    "interface": {"type": "str"},
}
# nova_network's floating_ips on create: an auto-assigned row kept here and associated at once
AUTO_ASSIGNED_OPTIONS = dict(ROW_OPTIONS, auto_assigned={"type": "bool", "default": True})
ARP_COUNT = 3  # Nova's send_arp_for_ip_count


def _section(document, name):
    return document.setdefault(name, {})


def checked_row(entry, where):
    row = {"address": str(validate.ipv4_address(entry.get("address"), where + ".address")),
           "pool": validate.resource_name(entry.get("pool"), where + ".pool"),
           "project_id": validate.one_line(entry.get("project_id"), where + ".project_id"),
           "auto_assigned": bool(entry.get("auto_assigned")),
           "interface": None, "instance_uuid": None}
    if not row["project_id"]:
        raise InvalidInput("%s.project_id is empty" % where)
    if entry.get("interface"):
        row["interface"] = validate.device_name(entry["interface"], where + ".interface")
    if entry.get("instance_uuid"):
        row["instance_uuid"] = validate.uuid(entry["instance_uuid"], where + ".instance_uuid")
    return row


def checked_association(entry, where):
    return {"address": str(validate.ipv4_address(entry.get("address"), where + ".address")),
            "instance_uuid": validate.uuid(entry.get("instance_uuid"), where + ".instance_uuid"),
            "fixed_ip": validate.optional_ipv4_address(entry.get("fixed_ip"), where + ".fixed_ip"),
            "interface": validate.device_name(entry["interface"], where + ".interface")
            if entry.get("interface") else None}


class FloatingChange:
    """What a host is asked to do with floating IPs, every entry checked before anything is looked at."""

    def __init__(self, allocate=(), release=(), associate=(), disassociate=()):
        self.allocate = [checked_row(e, "allocate[%d]" % i) for i, e in enumerate(allocate or [])]
        self.release = [str(validate.ipv4_address(a, "release[%d]" % i)) for i, a in enumerate(release or [])]
        self.associate = [checked_association(e, "associate[%d]" % i) for i, e in enumerate(associate or [])]
        self.disassociate = [str(validate.ipv4_address(a, "disassociate[%d]" % i))
                             for i, a in enumerate(disassociate or [])]
        for name in ("allocate", "associate"):
            validate.reject_duplicates([e["address"] for e in getattr(self, name)], "%s address" % name)

    def empty(self):
        return not (self.allocate or self.release or self.associate or self.disassociate)


def apply_change(document, change, run_command, rows_elsewhere=None):
    """Change the document's floating sections as asked, after every check; returns (bound, unbound):
    the associations made and taken away.

    ``rows_elsewhere`` ({address: row}) are rows the controller says another host keeps, for
    associations of addresses this host does not keep.
    """
    rows, associations = _section(document, ROWS), _section(document, ASSOCIATIONS)
    for row in change.allocate:
        _check_floating_address(document, row["address"])
        held = rows.get(row["address"])
        if held and held["project_id"] != row["project_id"]:
            raise InvalidInput("floating IP %s is allocated to project %s here, not to %s"
                               % (row["address"], held["project_id"], row["project_id"]), value=row["address"])
    disassociating = set(change.disassociate)
    for address in change.release:
        bound = associations.get(address)
        if bound and address not in disassociating:
            raise InvalidInput("floating IP %s is associated with instance %s (fixed IP %s): disassociate it "
                               "before releasing it" % (address, bound["instance_uuid"], bound["fixed_ip"]),
                               value=address)
    new_rows = {row["address"]: row for row in change.allocate}
    planned = [_planned_association(document, entry, new_rows, rows_elsewhere or {}, disassociating)
               for entry in change.associate]
    _check_not_in_use(run_command, document, [a for a in planned if a["address"] not in associations])
    unbound = [associations.pop(a) for a in change.disassociate if a in associations]
    for address in change.release:
        rows.pop(address, None)
    for row in change.allocate:
        rows.setdefault(row["address"], row)
    bound = []
    for association in planned:
        if associations.get(association["address"]) != association:
            associations[association["address"]] = association
            bound.append(association)
    return bound, unbound


def _planned_association(document, entry, new_rows, rows_elsewhere, disassociating):
    address = entry["address"]
    row = new_rows.get(address) or _section(document, ROWS).get(address) or rows_elsewhere.get(address)
    if row is None:
        raise InvalidInput("floating IP %s is not allocated: allocate it to the instance's project first"
                           % address, value=address)
    fixed = next((r for r in document["fixed_ips"].values() if r.get("instance_uuid") == entry["instance_uuid"]
                  and (entry["fixed_ip"] in (None, r["address"]))), None)
    if fixed is None:
        raise InvalidInput("instance %s has no fixed IP%s on this host" % (
            entry["instance_uuid"], " " + entry["fixed_ip"] if entry["fixed_ip"] else ""), value=entry["instance_uuid"])
    instance = document.get("instances", {}).get(entry["instance_uuid"]) or {}
    if instance.get("project_id") and instance["project_id"] != row["project_id"]:
        raise InvalidInput("floating IP %s belongs to project %s; instance %s is in project %s"
                           % (address, row["project_id"], entry["instance_uuid"], instance["project_id"]),
                           value=address)
    current = _section(document, ASSOCIATIONS).get(address)
    if current and current["fixed_ip"] != fixed["address"] and address not in disassociating:
        raise InvalidInput("floating IP %s is already associated with instance %s (fixed IP %s)"
                           % (address, current["instance_uuid"], current["fixed_ip"]), value=address)
    network = document["networks"].get(fixed["network_id"]) or {}
    interface = entry["interface"] or row.get("interface") or network.get("public_interface")
    if not interface:
        raise InvalidInput("floating IP %s: no interface to put it on (the pool has none and this host's "
                           "public_interface is empty)" % address, value=address)
    _check_floating_address(document, address)
    return {"address": address, "fixed_ip": fixed["address"], "instance_uuid": entry["instance_uuid"],
            "network_id": fixed["network_id"], "interface": interface, "pool": row["pool"],
            "project_id": row["project_id"]}


def _check_floating_address(document, address):
    for record in document["networks"].values():
        if validate.ipv4_address(address, "floating ip") in validate.ipv4_network(record["cidr"], "network cidr"):
            raise InvalidInput("floating IP %s lies in the fixed range %s of network %s"
                               % (address, record["cidr"], record.get("label")), value=address)


def _check_not_in_use(run_command, document, planned):
    """Refuse an address the host already holds otherwise, and an interface it does not have."""
    bridges = {record["bridge"] for record in document["networks"].values()}
    for association in planned:
        device = linux_net.probe_device(run_command, association["interface"])
        if not device.exists and association["interface"] not in bridges:
            raise InvalidInput("floating IP %s: interface %s does not exist on this host"
                               % (association["address"], association["interface"]), value=association["interface"])
    wanted = {a["address"] for a in planned}
    if not wanted:
        return
    out = linux_net.parsed_json(run_command(["ip", "-j", "-4", "addr", "show"])[1], ["ip", "addr", "show"])
    for entry in out:
        for info in entry.get("addr_info", ()):
            if info.get("local") in wanted:
                raise InvalidInput("floating IP %s is already an address of this host (on %s)"
                                   % (info["local"], entry.get("ifname")), value=info["local"])


def release_instances(document, instance_uuids):
    """Nova's deallocate_for_instance: the instances' associations go, their auto-assigned rows too.

    Returns (unbound associations, released auto-assigned addresses).
    """
    wanted = set(instance_uuids)
    rows, associations = _section(document, ROWS), _section(document, ASSOCIATIONS)
    unbound = [associations.pop(a) for a, r in sorted(associations.items()) if r["instance_uuid"] in wanted]
    released = sorted(a for a, row in rows.items() if row.get("auto_assigned") and row.get("instance_uuid") in wanted)
    for address in released:
        del rows[address]
    return unbound, released


def floating_by_fixed_ip(document):
    """{fixed IP: [floating addresses]} of this host's associations."""
    found = {}
    for association in sorted(_section(document, ASSOCIATIONS).values(), key=lambda a: a["address"]):
        found.setdefault(association["fixed_ip"], []).append(association["address"])
    return found


# --- on the host -------------------------------------------------------------------------------

def address_step(run_command, bound, unbound, remaining, arping=None):
    """The /32s of ``bound`` associations added (and announced), those of ``unbound`` ones removed.

    ``remaining`` are every association after the change: one that is still wanted is never removed.
    """
    def announce(addresses):
        if arping and addresses:
            send_arps(run_command, arping, addresses)
    wanted = [linux_net.HostAddress(a["address"], a["interface"]) for a in remaining]
    return linux_net.HostAddressStep(run_command, wanted,
                                     [linux_net.HostAddress(a["address"], a["interface"]) for a in unbound],
                                     "floating addresses", announce)


def send_arps(run_command, arping, addresses):
    """``arping -U -A -I <dev> -c 3 <address>`` for each, at the same time (each takes two seconds).

    As in Nova, a failed arping is not an error: the address is bound either way.
    """
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(8, len(addresses))) as pool:
        list(pool.map(lambda a: run_command([arping, "-U", "-A", "-I", a.device, "-c", str(ARP_COUNT), a.address]),
                      addresses))


class ConntrackStep:
    """Nova's clean_conntrack: ``conntrack -D -r <fixed IP>`` for each unbound association (not undone)."""

    name = "conntrack"

    def __init__(self, run_command, conntrack, unbound):
        self.run_command = run_command
        self.conntrack = conntrack
        self.fixed_ips = sorted({a["fixed_ip"] for a in unbound})
        self.changed = bool(self.fixed_ips and conntrack)
        self.before, self.after = {"flush": []}, {"flush": self.fixed_ips}

    def apply(self):
        for fixed_ip in self.fixed_ips:
            self.run_command([self.conntrack, "-D", "-r", fixed_ip])  # exits 1 when there was nothing to delete

    def undo(self):
        pass
