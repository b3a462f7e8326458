# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova's filter scheduler: host states, filters, the RAM weigher, and the placement loop.

The lineage is ``nova/scheduler/host_manager.py`` (``HostState``),
``nova/scheduler/filters/`` (compute, ram, core, disk, availability zone, image properties, server group
affinity and anti-affinity), ``ignore_hosts`` as ``host_manager.get_filtered_hosts`` applied it,
``nova/scheduler/weights/ram.py`` and ``nova/scheduler/filter_scheduler.py``
(``FilterScheduler._schedule``: filter, weigh, take the best, consume, repeat).

Each host's capacity and usage is the compute node record that ``compute_node_facts`` sets as
the fact ``novalite_compute_node`` (``module_utils/compute/resource_tracker.py``).
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.compute.instance_record import live_records, records_of
from ansible_collections.novalite.compute.plugins.module_utils.compute.resource_tracker import NODE_FACT
from ansible_collections.novalite.compute.plugins.plugin_utils.host_facts import documents_from_hostvars

# Nova's defaults: ram_allocation_ratio, cpu_allocation_ratio, disk_allocation_ratio
DEFAULT_RATIOS = {"ram": 1.5, "cpu": 16.0, "disk": 1.0}


class NoValidHost(NovaliteError):
    pass


# --- host states (nova/scheduler/host_manager.py) ----------------------------------------------

class HostState:
    def __init__(self, name, node, enabled=True, availability_zone="nova", ratios=None):
        """``node`` is the compute node record that compute_node_facts reports for the host."""
        self.name = name
        self.enabled = enabled
        self.availability_zone = availability_zone
        self.ratios = dict(DEFAULT_RATIOS, **(ratios or {}))
        self.total_ram_mb = node["memory_mb"]
        self.used_ram_mb = node["memory_mb_used"]
        self.total_vcpus = node["vcpus"]
        self.used_vcpus = node["vcpus_used"]
        self.total_disk_gb = node["local_gb"]
        self.used_disk_gb = node["local_gb_used"]
        self.free_disk_gb_on_fs = node.get("free_disk_gb", node["local_gb"] - node["local_gb_used"])
        self.cpu_arch = node.get("cpu_arch", "x86_64")
        self.hypervisor_type = node.get("hypervisor_type", "qemu").lower()

    @property
    def free_ram_mb(self):
        return self.total_ram_mb - self.used_ram_mb

    def usable_ram_mb(self):
        return self.total_ram_mb * self.ratios["ram"] - self.used_ram_mb

    def usable_vcpus(self):
        return self.total_vcpus * self.ratios["cpu"] - self.used_vcpus

    def usable_disk_gb(self):
        return min(self.total_disk_gb * self.ratios["disk"] - self.used_disk_gb, self.free_disk_gb_on_fs)

    def consume(self, flavor):
        """Account for an instance placed here, so the next one in the batch sees it."""
        disk = requested_disk_gb(flavor)
        self.used_ram_mb += flavor["memory_mb"]
        self.used_vcpus += flavor["vcpus"]
        self.used_disk_gb += disk
        self.free_disk_gb_on_fs -= disk


def requested_disk_gb(flavor):
    return flavor["root_gb"] + flavor.get("ephemeral_gb", 0) + flavor.get("swap", 0) / 1024.0


def host_states(hostvars, hosts, ratios):
    """A HostState per host, from its compute node fact and its inventory variables."""
    states = []
    for name in hosts:
        variables = hostvars[name]
        # Read from the facts namespace: it holds module facts whether or not Ansible also
        # injects them as top-level variables (INJECT_FACTS_AS_VARS).
        node = (variables.get("ansible_facts") or {}).get(NODE_FACT)
        if node is None:
            raise NovaliteError("host %s has no %s fact: run novalite.compute.compute_node_facts on it first"
                                % (name, NODE_FACT))
        states.append(HostState(name, node, enabled=variables.get("novalite_compute_enabled", True),
                                availability_zone=variables.get("novalite_availability_zone", "nova"),
                                ratios=ratios))
    return states


# --- filters (nova/scheduler/filters/): None when the host passes, else why it does not ---------

def compute_filter(host, request):
    return None if host.enabled else "the host is disabled"


def target_host_filter(host, request):
    wanted = request.get("target_host")
    return None if not wanted or wanted == host.name else "the request asks for host %s" % wanted


def availability_zone_filter(host, request):
    wanted = request.get("availability_zone")
    if not wanted or wanted == host.availability_zone:
        return None
    return "it is in availability zone %s, not %s" % (host.availability_zone, wanted)


def ram_filter(host, request):
    needed, usable = request["flavor"]["memory_mb"], host.usable_ram_mb()
    return None if usable >= needed else "%d MB of RAM usable (ratio %.1f), %d MB needed" % (
        usable, host.ratios["ram"], needed)


def core_filter(host, request):
    needed, usable = request["flavor"]["vcpus"], host.usable_vcpus()
    return None if usable >= needed else "%d vcpus usable (ratio %.1f), %d needed" % (
        usable, host.ratios["cpu"], needed)


def disk_filter(host, request):
    needed, usable = requested_disk_gb(request["flavor"]), host.usable_disk_gb()
    return None if usable >= needed else "%.1f GB of disk usable, %.1f GB needed" % (usable, needed)


def image_properties_filter(host, request):
    """The image's architecture and hypervisor_type properties, when set, must match the host."""
    properties = request.get("image_properties") or {}
    architecture = properties.get("architecture")
    if architecture and architecture != host.cpu_arch:
        return "the image needs architecture %s, the host is %s" % (architecture, host.cpu_arch)
    hypervisor = (properties.get("hypervisor_type") or "").lower()
    # a kvm host runs qemu images too (KVM is QEMU with acceleration)
    if hypervisor and hypervisor not in (host.hypervisor_type, "qemu" if host.hypervisor_type == "kvm" else None):
        return "the image needs hypervisor %s, the host runs %s" % (hypervisor, host.hypervisor_type)
    return None


def ignore_hosts_filter(host, request):
    """Nova's ``ignore_hosts`` of a request spec (a migration never picks the host it leaves): never chosen."""
    return "the request ignores this host (an instance that moves leaves it)" \
        if host.name in (request.get("ignore_hosts") or ()) else None


def server_group_anti_affinity_filter(host, request):
    """ServerGroupAntiAffinityFilter: not a host of the group's members (those placed earlier in the batch count)."""
    group = request.get("group")
    if not group or group["policy"] != "anti-affinity" or host.name not in group["hosts"]:
        return None
    return "server group %s (anti-affinity) has a member on it" % group["name"]


def server_group_affinity_filter(host, request):
    """ServerGroupAffinityFilter: a host of the group's members, any host while it has none."""
    group = request.get("group")
    if not group or group["policy"] != "affinity" or not group["hosts"] or host.name in group["hosts"]:
        return None
    return "server group %s (affinity) is on %s" % (group["name"], ", ".join(sorted(group["hosts"])))


DEFAULT_FILTERS = (compute_filter, ignore_hosts_filter, target_host_filter, availability_zone_filter, ram_filter,
                   core_filter, disk_filter, image_properties_filter, server_group_affinity_filter,
                   server_group_anti_affinity_filter)


# --- weighing and placing (nova/scheduler/filter_scheduler.py) ---------------------------------

def ram_weight(host):
    """Nova's RAMWeigher (multiplier 1.0): the most free RAM wins, so a batch spreads out."""
    return host.free_ram_mb


def rejections(host, request, filters=DEFAULT_FILTERS):
    """Why ``host`` cannot take ``request`` (empty when it can)."""
    reasons = []
    for check in filters:
        reason = check(host, request)
        if reason:
            reasons.append("%s: %s" % (check.__name__, reason))
    return reasons


def select_host(hosts, request, filters=DEFAULT_FILTERS, weigher=ram_weight, verdicts=None):
    """The best host for ``request``; ``verdicts`` ({host index: reasons}) holds what is already known and is filled in."""
    verdicts = {} if verdicts is None else verdicts
    for index, host in enumerate(hosts):
        if index not in verdicts:
            verdicts[index] = rejections(host, request, filters)
    passing = [host for index, host in enumerate(hosts) if not verdicts[index]]
    if not passing:
        refused = {host.name: verdicts[index] for index, host in enumerate(hosts)}
        details = "; ".join("%s (%s)" % (name, ", ".join(reasons)) for name, reasons in sorted(refused.items()))
        raise NoValidHost("No valid host was found for %s (%s): %s"
                          % (request["label"], request["flavor"]["name"], details or "no compute hosts"),
                          rejected=refused)
    # max() keeps the first of equals: hosts are in inventory order, so ties are deterministic
    return max(passing, key=weigher)


def schedule(requests, hosts, filters=DEFAULT_FILTERS, weigher=ram_weight):
    """{request id: host name} for every request, each placement seen by the next.

    The filters' verdicts on a host are kept for the next request that asks the same (see
    ``request_signature``) until a placement on that host changes them: after its first request, a
    batch of 1,000 over 100 hosts filters one host per placement instead of all 100.
    """
    placements = {}
    verdicts = {}  # request signature -> {host index: reasons}
    reusable = set(filters) <= SIGNATURE_FILTERS
    for request in requests:
        signature = request_signature(request) if reusable else None
        known = verdicts.setdefault(signature, {}) if signature is not None else None
        host = select_host(hosts, request, filters, weigher, known)
        host.consume(request["flavor"])
        placements[request["id"]] = host.name
        index = next(index for index, candidate in enumerate(hosts) if candidate is host)
        for cached in verdicts.values():
            cached.pop(index, None)  # the placement changed what the filters see of this host
        if request.get("group"):
            request["group"]["hosts"].add(host.name)  # Nova's group_hosts: this request's placements count
    return placements


# Filters whose verdict depends on the host's state and the request's signature alone (the server
# group filters too: a request with a group has no signature).
SIGNATURE_FILTERS = frozenset(DEFAULT_FILTERS)


def request_signature(request):
    """What SIGNATURE_FILTERS read of ``request``, hashable; None when it cannot be (a server group, odd values)."""
    if request.get("group"):
        return None
    flavor = request["flavor"]
    try:
        signature = (flavor["memory_mb"], flavor["vcpus"], flavor["root_gb"], flavor.get("ephemeral_gb", 0),
                     flavor.get("swap", 0), request.get("target_host"), request.get("availability_zone"),
                     tuple(sorted((request.get("image_properties") or {}).items())),
                     tuple(request.get("ignore_hosts") or ()))
        hash(signature)
    except TypeError:
        return None
    return signature


def server_groups(records, documents):
    """{(project, group): {name, policy, hosts}} of the groups ``records`` ask for, with the hosts of their
    members recorded in ``documents`` (every compute host's facts document)."""
    groups = {}
    recorded = live_records(records_of(documents))
    for record in records:
        key = (record.get("project_id"), record.get("server_group"))
        if key[1] and key not in groups:
            hosts = {member.get("host") for member in recorded
                     if (member.get("project_id"), member.get("server_group")) == key and member.get("host")}
            groups[key] = {"name": key[1], "policy": record.get("server_group_policy"), "hosts": hosts}
    return groups


def place_instances(instances, hostvars, hosts, image_properties, ratios, ignore_hosts=()):
    """The schedule_instances result: instances with a host keep it (a re-run never moves them).

    ``ignore_hosts`` are never chosen (Nova's filter property of that name, for a resize or a migration).
    """
    unplaced = [record for record in instances if not record.get("host")]
    groups = server_groups(unplaced, documents_from_hostvars(hostvars, hosts)) if any(
        record.get("server_group") for record in unplaced) else {}
    for record in instances:  # the batch's members that have their host already count too
        group = groups.get((record.get("project_id"), record.get("server_group")))
        if group is not None and record.get("host"):
            group["hosts"].add(record["host"])
    requests = [{"id": record["uuid"], "label": record["name"], "flavor": record["flavor"],
                 "target_host": record.get("requested_host"), "availability_zone": record.get("availability_zone"),
                 "image_properties": image_properties, "ignore_hosts": list(ignore_hosts),
                 "group": groups.get((record.get("project_id"), record.get("server_group")))} for record in unplaced]
    placements = schedule(requests, host_states(hostvars, hosts, ratios)) if requests else {}
    placed = [dict(record, host=record.get("host") or placements[record["uuid"]]) for record in instances]
    return {
        "changed": False,
        "instances": placed,
        "placements": placements,
        "hosts_used": sorted({record["host"] for record in placed}),
    }


# --- moving instances: resize and migration (nova/scheduler, the RequestSpec of a move) ---------

# a move names the host it leaves first, before what else keeps it off that host
MOVE_FILTERS = (ignore_hosts_filter,) + tuple(f for f in DEFAULT_FILTERS if f is not ignore_hosts_filter)


def schedule_moves(requests, hosts, filters=MOVE_FILTERS, weigher=ram_weight):
    """{request id: host name} for instances that move (resize, cold or live migration).

    Each request has the fields of ``schedule``'s plus ``ignore_hosts`` (the host a migration
    leaves) and ``prefer_host`` (a resize stays where it is when that host passes the filters,
    as Nova's allow_resize_to_same_host, which saves the copy to another host). Placements are
    consumed in order, so a batch never overfills a host.
    """
    by_name = {host.name: host for host in hosts}
    placements = {}
    for request in requests:
        preferred = by_name.get(request.get("prefer_host"))
        if preferred is not None and not rejections(preferred, request, filters):
            host = preferred
        else:
            host = select_host(hosts, request, filters, weigher)
        host.consume(request["flavor"])
        placements[request["id"]] = host.name
    return placements
