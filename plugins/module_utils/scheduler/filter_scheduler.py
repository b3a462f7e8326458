# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova's FilterScheduler: filter the hosts, weigh the survivors, take the best, consume, repeat."""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.scheduler.filters import DEFAULT_FILTERS


class NoValidHost(NovaliteError):
    pass


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


def select_host(hosts, request, filters=DEFAULT_FILTERS, weigher=ram_weight):
    refused = {host.name: rejections(host, request, filters) for host in hosts}
    passing = [host for host in hosts if not refused[host.name]]
    if not passing:
        details = "; ".join("%s (%s)" % (name, ", ".join(reasons)) for name, reasons in sorted(refused.items()))
        raise NoValidHost("No valid host was found for %s (%s): %s"
                          % (request["label"], request["flavor"]["name"], details or "no compute hosts"),
                          rejected=refused)
    # max() keeps the first of equals: hosts are in inventory order, so ties are deterministic
    return max(passing, key=weigher)


def schedule(requests, hosts, filters=DEFAULT_FILTERS, weigher=ram_weight):
    """{request id: host name} for every request, each placement seen by the next."""
    placements = {}
    for request in requests:
        host = select_host(hosts, request, filters, weigher)
        host.consume(request["flavor"])
        placements[request["id"]] = host.name
    return placements
