# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of floating IPs: the pools, Nova's floating_ips table rebuilt from every host's
facts, and allocation under the ledger lock (``nova/network/floating_ips.py``).

The table is the union of each host's ``floating_ips`` (the addresses it keeps) and
``floating_associations`` (the addresses bound on it), see module_utils/network/floating.py.
Facts are gathered at the start of a play, so two plays started together would each miss what
the other is about to commit: every address handed out is also reserved in the controller's
ledger (``ipam.json``, kind ``floating_ips``) under its lock, and counted as taken until the TTL
passes or a release drops it. A reservation that the facts contradict (the address kept for
another project) is dropped: facts win. Losing the ledger loses nothing but those few minutes
of protection: allocated addresses live in the hosts' facts.
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.network.ipam import address_numbers, lowest_free
from ansible_collections.novalite.compute.plugins.module_utils.common.validate import IPRange, IPSet

FLOATING_KIND = "floating_ips"  # the ledger's kind: {address: row + keeper}
POOL_FIELDS = ("pool", "range", "interface")
DEFAULT_POOL = "nova"  # Nova's default_floating_pool
DEFAULT_QUOTA = 10  # Nova's quota_floating_ips
POOL_OPTIONS = {"pool": {"type": "str"}, "range": {"type": "str"}, "interface": {"type": "str"}}


class FloatingQuotaExceeded(NovaliteError):
    """Nova's FloatingIpLimitExceeded: nothing has been allocated when it is raised."""


class Pool:
    def __init__(self, name, addresses, interface):
        self.name = name
        self.addresses = addresses  # IPSet
        self.interface = interface


def pool_hosts(value, what):
    """The addresses of a range: ``a-b`` as given, a CIDR without its network and broadcast
    addresses (Nova's ``address_to_hosts``, unless the network is smaller than 4)."""
    text = str(value or "")
    if "/" in text:
        network = validate.ipv4_network(text, what)
        if network.size < 4:
            return IPSet(network)
        return IPSet(IPRange(network.first + 1, network.last - 1))
    if "-" not in text:
        raise InvalidInput("%s %r: expected a CIDR such as 192.168.96.128/28 or a range a.b.c.d-a.b.c.e"
                           % (what, value), value=value)
    return validate.address_range(text, what)


def checked_pools(ranges, fixed_networks=()):
    """{pool name: Pool} of ``novalite_floating_ranges`` ([{pool, range, interface?}]), every entry
    checked: a pool name, a range, an interface name, and no range overlapping another or a
    network's fixed range (``fixed_networks``: [(label, cidr)])."""
    pools, seen = {}, []
    for index, entry in enumerate(validate.sequence(ranges, "floating_ranges")):
        what = "floating_ranges[%d]" % index
        validate.mapping(entry, what)
        validate.reject_unknown(entry, POOL_FIELDS, what)
        name = validate.resource_name(entry.get("pool") or DEFAULT_POOL, what + ".pool")
        addresses = pool_hosts(entry.get("range"), what + ".range")
        interface = validate.device_name(entry["interface"], what + ".interface") if entry.get("interface") else None
        for other_what, other in seen:
            if addresses & other:
                raise InvalidInput("%s.range %s overlaps %s.range" % (what, entry.get("range"), other_what),
                                   value=entry.get("range"))
        for label, cidr in fixed_networks:
            if addresses & IPSet(validate.ipv4_network(cidr, "network cidr")):
                raise InvalidInput("%s.range %s overlaps the fixed range %s of network %s"
                                   % (what, entry.get("range"), cidr, label), value=entry.get("range"))
        seen.append((what, addresses))
        if name in pools:
            if pools[name].interface != interface:
                raise InvalidInput("%s: pool %s is given with two interfaces (%s and %s)"
                                   % (what, name, pools[name].interface, interface), value=name)
            pools[name].addresses |= addresses
        else:
            pools[name] = Pool(name, addresses, interface)
    return pools


def find_pool(pools, name):
    name = validate.resource_name(name or DEFAULT_POOL, "pool")
    if name not in pools:
        defined = ", ".join(sorted(pools)) or "none: set novalite_floating_ranges"
        raise InvalidInput("unknown floating IP pool %r (defined: %s)" % (name, defined), value=name)
    return pools[name]


def fixed_networks_of(documents, definitions=()):
    """[(label, cidr)] of every network recorded on a host or defined (for the overlap check)."""
    found = {}
    for document in documents.values():
        for record in (document.get("networks") or {}).values():
            found.setdefault(record["cidr"], record.get("label"))
    for definition in definitions:
        if definition and definition.get("cidr"):
            found.setdefault(definition["cidr"], definition.get("label"))
    return [(label, cidr) for cidr, label in sorted(found.items())]


class FloatingTable:
    """Nova's floating_ips rows from every host's facts: who keeps each address, where it is bound."""

    def __init__(self, documents):
        self.rows = {}  # address -> row + "keeper"
        self.associations = {}  # address -> association + "host"
        for host, document in sorted(documents.items()):
            for address, row in (document.get("floating_ips") or {}).items():
                self.rows.setdefault(address, dict(row, keeper=host))
            for address, association in (document.get("floating_associations") or {}).items():
                self.associations.setdefault(address, dict(association, host=host))

    def reconcile(self, session):
        """Add the live reservations as rows; forget those the facts contradict."""
        for address, reserved in session.reserved(FLOATING_KIND).items():
            row = self.rows.get(address)
            if row and row["project_id"] != reserved["project_id"]:
                session.forget(FLOATING_KIND, address)
            elif row is None:
                self.rows[address] = dict(reserved, reserved=True)

    def association_of_instance(self, instance_uuid):
        return [a for _address, a in sorted(self.associations.items()) if a["instance_uuid"] == instance_uuid]

    def auto_row_of(self, instance_uuid):
        return next((r for _a, r in sorted(self.rows.items())
                     if r.get("auto_assigned") and r.get("instance_uuid") == instance_uuid), None)

    def used_by(self, project_id):
        """How many addresses the project holds against its quota (auto-assigned ones do not count)."""
        return sum(1 for row in self.rows.values() if row["project_id"] == project_id and not row.get("auto_assigned"))

    def take(self, pool, count, address=None):
        """``count`` free addresses of ``pool`` (lowest first), or ``address`` if it is free there."""
        taken = set(self.rows) | set(self.associations)
        if address is not None:
            address = str(validate.ipv4_address(address, "address"))
            if validate.ipv4_address(address, "address") not in pool.addresses:
                raise InvalidInput("floating IP %s is not in pool %s" % (address, pool.name), value=address)
            if address in taken:
                row = self.rows.get(address) or {}
                raise InvalidInput("floating IP %s is already allocated (to project %s)"
                                   % (address, row.get("project_id")), value=address)
            return [address]
        found = lowest_free(pool.addresses, address_numbers(taken), count)
        if len(found) < count:
            raise NovaliteError("floating IP pool %s is exhausted: %d addresses needed, %d free"
                                % (pool.name, count, len(found)), pool=pool.name)
        return found

    def allocate(self, session, pool, project_id, keepers, auto_assigned=False, instance_uuids=None, address=None,
                 quota=None):
        """New rows, one per keeper host (in order), reserved in the ledger; the quota is checked first."""
        if quota is not None and quota >= 0 and not auto_assigned:
            used = self.used_by(project_id)
            if used + len(keepers) > quota:
                raise FloatingQuotaExceeded(
                    "quota exceeded for floating_ips in project %s: requested %d, in use %d, limit %d"
                    % (project_id, len(keepers), used, quota), resource="floating_ips", requested=len(keepers),
                    in_use=used, limit=quota)
        addresses = self.take(pool, len(keepers), address)
        rows = []
        for index, (found, keeper) in enumerate(zip(addresses, keepers)):
            row = {"address": found, "pool": pool.name, "project_id": project_id, "auto_assigned": auto_assigned,
                   "interface": pool.interface, "instance_uuid": (instance_uuids or [None] * len(keepers))[index]}
            self.rows[found] = dict(row, keeper=keeper)
            session.reserve(FLOATING_KIND, found, dict(row, keeper=keeper))
            rows.append(dict(row, keeper=keeper, new=True))
        return rows


def row_fields(row):
    """A row as the host modules take it (without the controller's keeper and reserved marks)."""
    return {key: row.get(key) for key in ("address", "pool", "project_id", "auto_assigned", "interface",
                                          "instance_uuid")}


def forget_instances(session, instance_uuids):
    """Drop the reservations of addresses auto-assigned to these instances (the delete flow); their addresses."""
    wanted, forgotten = set(instance_uuids), []
    for address, reserved in sorted(session.reserved(FLOATING_KIND).items()):
        if reserved.get("instance_uuid") in wanted:
            session.forget(FLOATING_KIND, address)
            forgotten.append(address)
    return forgotten
