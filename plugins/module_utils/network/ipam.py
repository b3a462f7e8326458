# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova's ``allocate_for_instance`` for a batch: what a network has taken, MACs, fixed IPs, DHCP servers.

``fixed_ip_associate_pool`` (``nova/db/sqlalchemy/api.py``) took the lowest free row; here the
free addresses are the pool's IPSet minus the taken ones, in range arithmetic, and a batch
takes its N lowest at once. The claims follow Nova's order: an instance's address first, then
(multi_host) the address its host takes the first time it serves the network, so the first
guest of 10.1.0.0/16 is 10.1.0.2 and its host's DHCP server 10.1.0.3.

The same allocator runs on the controller (every host's facts plus the ledger) and on a host
(its own facts, when nova_network is used alone).
"""

from __future__ import annotations

import random
import socket
import uuid

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError

# One entry of nova_network's ``instances`` (and of ipam_allocate's ``by_host[host].instances``).
INSTANCE_FIELDS = ("instance_uuid", "instance_name", "hostname", "address", "mac", "vif_id")
NOVA_OUI = (0xfa, 0x16, 0x3e)  # nova.utils.generate_mac_address
# Nova tried 5 times per MAC against its database; 2^24 values make 64 plenty even for a full /16.
ATTEMPTS_PER_MAC = 64


# --- address arithmetic ----------------------------------------------------------------------

def address_key(address):
    """A validated address string's integer, for sorting."""
    return int.from_bytes(socket.inet_pton(socket.AF_INET, address), "big")


def address_numbers(addresses):
    """Sorted integers of many validated address strings (from facts).

    inet_pton is as strict as validate.ipv4_address and about ten times quicker than netaddr's
    parsers, which matters for the 60,000 addresses of a nearly full /16.
    """
    return sorted({address_key(address) for address in addresses})


def lowest_free(pool, taken, count):
    """The ``count`` lowest addresses of IPSet ``pool`` not in ``taken`` (sorted integers), as strings.

    The pool's IPRanges minus the runs of taken addresses, walked in order until ``count`` are
    found: an IPSet of the taken addresses costs 0.1 s once they are fragmented into thousands of
    runs, for what is usually one address.
    """
    found = []
    for first, last in _free_ranges(pool, _runs(taken)):
        for number in range(first, min(last, first + count - len(found) - 1) + 1):
            found.append(socket.inet_ntop(socket.AF_INET, number.to_bytes(4, "big")))
        if len(found) == count:
            break
    return found


def free_count(pool, taken):
    """How many addresses of ``pool`` are not in ``taken`` (for "exhausted" messages)."""
    return sum(last - first + 1 for first, last in _free_ranges(pool, _runs(taken)))


def _free_ranges(pool, taken_runs):
    """(first, last) of every gap the taken runs leave in the pool's ranges, lowest first."""
    runs = iter(taken_runs)
    run = next(runs, None)
    for pool_range in pool.iter_ipranges():  # in address order
        start, end = pool_range.first, pool_range.last
        while start <= end:
            while run is not None and run[1] < start:
                run = next(runs, None)
            if run is None or run[0] > end:
                yield start, end
                break
            if run[0] > start:
                yield start, run[0] - 1
            start = run[1] + 1


def _runs(numbers):
    """Consecutive runs of sorted integers as [first, last] pairs."""
    runs = []
    for number in numbers:
        if runs and runs[-1][1] + 1 == number:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    return runs


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

    def add_facts(self, host, document):
        """One host's facts document; the network record there must agree with ours."""
        recorded = document.get("networks", {}).get(self.network.uuid)
        if recorded:
            self.network.check_same_layout(recorded, "host %s" % host)
            if recorded.get("dhcp_server"):
                self.add_dhcp_server(recorded.get("host") or host, recorded["dhcp_server"])
            self.released_vif_ids.update(recorded.get("released_vif_ids", ()))
        for record in document.get("fixed_ips", {}).values():
            if record.get("network_id") == self.network.uuid:
                self.add_fixed_ip(record)
        return self

    def add_fixed_ip(self, record):
        # The first holder wins: a later duplicate is a broken state, and both stay taken.
        self.fixed_ips.setdefault(record["address"], record)
        self.by_instance.setdefault(record["instance_uuid"], record)

    def add_dhcp_server(self, host, address):
        self.dhcp_servers.setdefault(host, address)

    def taken_addresses(self):
        """Every address held by an instance or a host (strings)."""
        return list(self.fixed_ips) + list(self.dhcp_servers.values())

    def taken_macs(self):
        return {record["mac"]: record["instance_uuid"] for record in self.fixed_ips.values()}

    def holder_of(self, address):
        """Who holds ``address``, in words, or None."""
        record = self.fixed_ips.get(address)
        if record:
            return "instance %s (host %s)" % (record["instance_uuid"], record.get("host"))
        for host, dhcp_server in self.dhcp_servers.items():
            if dhcp_server == address:
                return "the DHCP server of host %s" % host
        return None


def generate_macs(count, taken, rng=None):
    """``count`` new random fa:16:3e MACs, unique among themselves and not in ``taken``."""
    rng = rng or random.SystemRandom()
    unavailable = set(taken)
    macs = []
    for _index in range(count):
        mac = _one_mac(rng, unavailable)
        unavailable.add(mac)
        macs.append(mac)
    return macs


def _one_mac(rng, unavailable):
    for _attempt in range(ATTEMPTS_PER_MAC):
        mac = ":".join("%02x" % octet for octet in NOVA_OUI + tuple(rng.randint(0, 0xff) for _octet in range(3)))
        if mac not in unavailable:
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
    taken = address_numbers(usage.taken_addresses() + list(also_taken))
    addresses = lowest_free(network.pool, taken, count)
    if len(addresses) < count:
        raise NovaliteError("%s is exhausted: %d addresses needed, %d free in %s"
                            % (network.describe(), count, free_count(network.pool, taken), network.cidr),
                            network_id=network.uuid)
    return addresses


def _assign(network, taken_macs, requests, existing, wanted, result, rng):
    """Fixed ip records in request order, with new MACs and VIF ids for the fresh ones."""
    address_of = {request.instance_uuid: address for address, request in wanted.items()}
    macs_needed = [r for r in requests if existing[r.instance_uuid] is None and not r.mac]
    avoid = set(taken_macs) | {r.mac for r in requests if r.mac}
    new_macs = iter(generate_macs(len(macs_needed), avoid, rng))
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
