# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova's ``allocate_for_instance`` for a batch: what a network has taken, MACs, fixed IPs, DHCP servers.

``fixed_ip_associate_pool`` (``nova/db/sqlalchemy/api.py``) took the lowest free row; here the
free addresses are those of the pool's IPSet that its usage's address map does not mark taken,
and a batch takes its N lowest at once. The claims follow Nova's order: an instance's address first, then
(multi_host) the address its host takes the first time it serves the network, so the first
guest of 10.1.0.0/16 is 10.1.0.2 and its host's DHCP server 10.1.0.3.

The same allocator runs on the controller (every host's facts plus the ledger) and on a host
(its own facts, when nova_network is used alone).
"""

from __future__ import annotations

import array
import bisect
import functools
import random
import socket
import sys
import uuid

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError

# One entry of nova_network's ``instances`` (and of ipam_allocate's ``by_host[host].instances``).
INSTANCE_FIELDS = ("instance_uuid", "instance_name", "hostname", "address", "mac", "vif_id")
NOVA_OUI = (0xfa, 0x16, 0x3e)  # nova.utils.generate_mac_address
MAC_FORMAT = "%02x:%02x:%02x:" % NOVA_OUI + "%02x:%02x:%02x"
# Nova tried 5 times per MAC against its database; 2^24 values make 64 plenty even for a full /16.
ATTEMPTS_PER_MAC = 64


# --- address arithmetic ----------------------------------------------------------------------

def address_key(address):
    """A validated address string's integer, for sorting."""
    return int.from_bytes(socket.inet_pton(socket.AF_INET, address), "big")


def address_numbers(addresses):
    """Sorted integers of many validated address strings (from facts), without repeats."""
    return sorted(set(address_integers(addresses)))


_PACK_V4 = functools.partial(socket.inet_pton, socket.AF_INET)
_UINT32 = next(code for code in "IL" if array.array(code).itemsize == 4)


def address_integers(addresses):
    """The integers of many validated address strings, in their order (an array of unsigned 32-bit ints).

    inet_pton is as strict as validate.ipv4_address and about ten times quicker than netaddr's
    parsers; its packed addresses go into one array whole, which matters for the 60,000
    addresses of a nearly full /16.
    """
    numbers = array.array(_UINT32, b"".join(map(_PACK_V4, addresses)))
    if sys.byteorder == "little":
        numbers.byteswap()  # inet_pton gives network (big-endian) order
    return numbers


def lowest_free(pool, taken, count):
    """The ``count`` lowest addresses of IPSet ``pool`` not in ``taken`` (integers), as strings."""
    address_map = AddressMap(pool)
    address_map.take(taken)
    return address_map.lowest_free(count)


def free_count(pool, taken):
    """How many addresses of ``pool`` are not in ``taken`` (for "exhausted" messages)."""
    address_map = AddressMap(pool)
    address_map.take(taken)
    return address_map.free_count()


class AddressMap:
    """Which addresses of a pool are taken: a byte per address of each of the pool's ranges.

    A network's usage fills one in as it reads the facts, so an allocation costs what it takes,
    not a parse and a sort of every address in use (an IPSet of thousands of fragmented runs costs
    0.1 s): the lowest free addresses are found with ``bytearray.find``. Numbers outside the pool
    are never handed out and are not kept.
    """

    def __init__(self, pool):
        ranges = [(pool_range.first, pool_range.last) for pool_range in pool.iter_ipranges()]  # address order
        self.firsts = [first for first, _last in ranges]
        self.maps = [bytearray(last - first + 1) for first, last in ranges]

    def take(self, numbers):
        """Mark the integers ``numbers`` taken."""
        if len(self.maps) == 1:  # the usual pool, dhcp_start to the broadcast: no search for the range
            taken, first, size = self.maps[0], self.firsts[0], len(self.maps[0])
            for number in numbers:
                if 0 <= number - first < size:
                    taken[number - first] = 1
            return
        for number in numbers:
            index = bisect.bisect_right(self.firsts, number) - 1
            if index >= 0 and number - self.firsts[index] < len(self.maps[index]):
                self.maps[index][number - self.firsts[index]] = 1

    def copy(self):
        other = AddressMap.__new__(AddressMap)
        other.firsts, other.maps = self.firsts, [bytearray(taken) for taken in self.maps]
        return other

    def lowest_free(self, count):
        """The ``count`` lowest free addresses, as strings (fewer when fewer are free)."""
        found = []
        for first, taken in zip(self.firsts, self.maps):
            start = 0
            while len(found) < count:
                start = taken.find(0, start)
                if start < 0:
                    break
                stop = taken.find(1, start)
                stop = min(len(taken) if stop < 0 else stop, start + count - len(found))
                found.extend(socket.inet_ntop(socket.AF_INET, (first + offset).to_bytes(4, "big"))
                             for offset in range(start, stop))
                start = stop
            if len(found) == count:
                break
        return found

    def free_count(self):
        return sum(taken.count(0) for taken in self.maps)


# --- what is taken ---------------------------------------------------------------------------

class NetworkUsage:
    """Nova's fixed_ips rows of one network, rebuilt from facts (and the controller's ledger).

    A host's DHCP-server address is taken everywhere: in multi_host mode it is an ordinary pool
    address that the host claimed for itself.
    """

    def __init__(self, network):
        self.network = network
        self.fixed_ips = {}  # address -> fixed ip record
        self.by_instance = {}  # instance uuid -> fixed ip record
        self.dhcp_servers = {}  # host -> address
        self.released_vif_ids = set()
        self.address_map = AddressMap(network.pool)  # every address above, as it is added
        self._macs = {}  # mac -> instance uuid, of the records in fixed_ips

    def add_facts(self, host, document):
        """One host's facts document; the network record there must agree with ours."""
        recorded = document.get("networks", {}).get(self.network.uuid)
        if recorded:
            self.network.check_same_layout(recorded, "host %s" % host)
            if recorded.get("dhcp_server"):
                self.add_dhcp_server(recorded.get("host") or host, recorded["dhcp_server"])
            self.released_vif_ids.update(recorded.get("released_vif_ids", ()))
        network_id = self.network.uuid
        self.add_fixed_ips(record for record in document.get("fixed_ips", {}).values()
                           if record.get("network_id") == network_id)
        return self

    def add_fixed_ip(self, record):
        self.add_fixed_ips((record,))

    def add_fixed_ips(self, records):
        """Fixed ip records; their addresses are parsed together, once."""
        fixed_ips, by_instance, macs, new = self.fixed_ips, self.by_instance, self._macs, []
        for record in records:
            # The first holder wins: a later duplicate is a broken state, and both stay taken.
            address = record["address"]
            if address not in fixed_ips:
                fixed_ips[address] = record
                macs[record["mac"]] = record["instance_uuid"]
                new.append(address)
            by_instance.setdefault(record["instance_uuid"], record)
        self.address_map.take(address_integers(new))

    def add_dhcp_server(self, host, address):
        if host not in self.dhcp_servers:
            self.dhcp_servers[host] = address
            self.address_map.take((address_key(address),))

    def taken_addresses(self):
        """Every address held by an instance or a host (strings)."""
        return list(self.fixed_ips) + list(self.dhcp_servers.values())

    def taken_macs(self):
        """{mac: instance uuid} of every fixed ip (kept as they are added: read it, do not change it)."""
        return self._macs

    def holder_of(self, address):
        """Who holds ``address``, in words, or None."""
        record = self.fixed_ips.get(address)
        if record:
            return "instance %s (host %s)" % (record["instance_uuid"], record.get("host"))
        for host, dhcp_server in self.dhcp_servers.items():
            if dhcp_server == address:
                return "the DHCP server of host %s" % host
        return None


def generate_macs(count, taken, rng=None, also_taken=()):
    """``count`` new random fa:16:3e MACs, unique among themselves and in neither ``taken`` nor ``also_taken``.

    ``taken`` (a set or a mapping, such as ``NetworkUsage.taken_macs``) is only looked into, never copied.
    """
    rng = rng or random.SystemRandom()
    unavailable = set(also_taken)
    macs = []
    for _index in range(count):
        mac = _one_mac(rng, taken, unavailable)
        unavailable.add(mac)
        macs.append(mac)
    return macs


def _one_mac(rng, taken, unavailable):
    for _attempt in range(ATTEMPTS_PER_MAC):
        mac = MAC_FORMAT % (rng.randint(0, 0xff), rng.randint(0, 0xff), rng.randint(0, 0xff))
        if mac not in taken and mac not in unavailable:
            return mac
    raise NovaliteError("could not find a free fa:16:3e MAC address in %d attempts" % ATTEMPTS_PER_MAC)


# --- the allocator ---------------------------------------------------------------------------

class AllocationRequest:
    """One instance's need for an address on ``host``; address, mac and vif_id are optional."""

    def __init__(self, instance_uuid, hostname, host, instance_name=None, address=None, mac=None, vif_id=None):
        self.instance_uuid = instance_uuid
        self.hostname = hostname
        self.host = host
        self.instance_name = instance_name
        self.address = address
        self.mac = mac
        self.vif_id = vif_id

    @classmethod
    def from_params(cls, params, host, where):
        """One ``instances``/``requests`` entry; ``where`` names it in messages (e.g. "instances[0]")."""
        def optional(name, check):
            value = params.get(name)
            return check(value, "%s.%s" % (where, name)) if value else None
        return cls(
            instance_uuid=validate.uuid(params.get("instance_uuid"), where + ".instance_uuid"),
            hostname=validate.dns_label(params.get("hostname"), where + ".hostname"),
            host=host,
            instance_name=optional("instance_name", validate.instance_name),
            address=validate.optional_ipv4_address(params.get("address"), where + ".address"),
            mac=optional("mac", validate.mac_address),
            vif_id=optional("vif_id", validate.uuid),
        )


class AllocationResult:
    def __init__(self):
        self.fixed_ips = []  # fixed ip records, in request order
        self.new_instances = []
        self.dhcp_servers = {}
        self.new_dhcp_hosts = []


def allocate(network, usage, requests, dhcp_hosts=(), requested_dhcp=None, rng=None):
    """Allocate for ``requests`` and give every host in them (and in ``dhcp_hosts``) a DHCP server.

    An instance that already holds an address in ``usage`` gets it back; nothing in ``usage``
    is ever handed out again. Raises InvalidInput before allocating anything.
    """
    for name in ("instance_uuid", "address", "mac"):
        validate.reject_duplicates([getattr(r, name) for r in requests if getattr(r, name)], name)
    existing = {r.instance_uuid: _existing(r, usage) for r in requests}
    fresh = [r for r in requests if existing[r.instance_uuid] is None]
    wanted = {r.address: r for r in fresh if r.address}
    for address, request in wanted.items():
        _check_free(network, usage, address, "requested for instance %s" % request.instance_uuid)
    taken_macs = usage.taken_macs()  # {mac: instance uuid}: a scan of every fixed ip, so done once
    _check_macs_free(taken_macs, fresh)
    hosts = list(dict.fromkeys([r.host for r in requests] + list(dhcp_hosts)))
    dhcp = _known_dhcp_servers(network, usage, hosts, requested_dhcp or {}, wanted)
    claims = _claims(fresh, hosts, dhcp)
    addresses = iter(_take(network, usage, set(wanted) | set(dhcp.values()), len(claims)))
    result = AllocationResult()
    for kind, key in claims:
        if kind == "dhcp":
            dhcp[key] = next(addresses)
            result.new_dhcp_hosts.append(key)
        else:
            wanted[next(addresses)] = key
    result.dhcp_servers = {host: dhcp[host] for host in hosts}
    _assign(network, taken_macs, requests, existing, wanted, result, rng)
    return result


def _existing(request, usage):
    """The instance's current fixed ip in ``usage`` (checked against what the request says), or None."""
    record = usage.by_instance.get(request.instance_uuid)
    if record is None:
        return None
    for field in ("address", "mac", "vif_id", "host"):
        wanted = getattr(request, field)
        if wanted is not None and wanted != record.get(field):
            raise InvalidInput("instance %s already holds %s %s (address %s on host %s); %s was requested: "
                               "release it first" % (request.instance_uuid, field, record.get(field),
                                                     record["address"], record.get("host"), wanted),
                               instance_uuid=request.instance_uuid)
    return record


def _check_free(network, usage, address, why):
    reason = network.why_not_in_pool(validate.ipv4_address(address, "address"))
    if reason:
        raise InvalidInput("address %s %s is not in the pool of %s: %s" % (address, why, network.describe(), reason),
                           value=address)
    holder = usage.holder_of(address)
    if holder:
        raise InvalidInput("address %s %s is already held by %s" % (address, why, holder), value=address)


def _check_macs_free(taken_macs, fresh):
    """Nova generated MACs unique per network; a requested one must be as well."""
    for request in fresh:
        if request.mac in taken_macs:
            raise InvalidInput("mac %s requested for instance %s is already used by instance %s"
                               % (request.mac, request.instance_uuid, taken_macs[request.mac]), value=request.mac)


def _known_dhcp_servers(network, usage, hosts, requested, wanted):
    """DHCP servers already recorded, or requested, per host; the rest are claimed from the pool."""
    if not network.multi_host:  # Nova's _get_dhcp_ip: the gateway serves every host
        return {host: network.gateway for host in hosts}
    known = {}
    for host in hosts:
        if host in usage.dhcp_servers:
            given = requested.get(host)
            if given and given != usage.dhcp_servers[host]:
                raise InvalidInput("host %s already serves %s from %s; dhcp_server %s was requested"
                                   % (host, network.describe(), usage.dhcp_servers[host], given), value=given)
            known[host] = usage.dhcp_servers[host]
        elif requested.get(host):
            address = requested[host]
            _check_free(network, usage, address, "requested as the DHCP server of host %s" % host)
            if address in wanted or address in known.values():
                raise InvalidInput("address %s is requested twice (DHCP server of host %s)" % (address, host),
                                   value=address)
            known[host] = address
    return known


def _claims(fresh, hosts, dhcp):
    """("instance", request) and ("dhcp", host) in the order Nova would have allocated them.

    ``hosts`` holds every fresh request's host, so a host without a known DHCP server claims one
    right after its first fresh instance, or (no fresh instance there) at the end.
    """
    claims, claimed_hosts = [], set(dhcp)
    for request in fresh:
        if not request.address:
            claims.append(("instance", request))
        if request.host not in claimed_hosts:
            claims.append(("dhcp", request.host))
            claimed_hosts.add(request.host)
    claims.extend(("dhcp", host) for host in hosts if host not in claimed_hosts)
    return claims


def _take(network, usage, also_taken, count):
    taken = usage.address_map
    if also_taken:
        taken = taken.copy()
        taken.take(address_integers(also_taken))
    addresses = taken.lowest_free(count)
    if len(addresses) < count:
        raise NovaliteError("%s is exhausted: %d addresses needed, %d free in %s"
                            % (network.describe(), count, taken.free_count(), network.cidr),
                            network_id=network.uuid)
    return addresses


def _assign(network, taken_macs, requests, existing, wanted, result, rng):
    """Fixed ip records in request order, with new MACs and VIF ids for the fresh ones."""
    address_of = {request.instance_uuid: address for address, request in wanted.items()}
    macs_needed = [r for r in requests if existing[r.instance_uuid] is None and not r.mac]
    new_macs = iter(generate_macs(len(macs_needed), taken_macs, rng, also_taken=[r.mac for r in requests if r.mac]))
    for request in requests:
        record = existing[request.instance_uuid]
        if record is None:
            record = {"address": address_of[request.instance_uuid], "mac": request.mac or next(new_macs),
                      "vif_id": request.vif_id or str(uuid.uuid4())}
            result.new_instances.append(request.instance_uuid)
        result.fixed_ips.append({
            "address": record["address"], "network_id": network.uuid, "mac": record["mac"],
            "vif_id": record["vif_id"], "instance_uuid": request.instance_uuid,
            "instance_name": request.instance_name or record.get("instance_name"),
            "hostname": request.hostname, "host": request.host})
