# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of Nova's ``update_dns`` for a delete: the names each host's networks keep.

Every host's dnsmasq answers for every instance of a multi_host network (its addn-hosts file).
When instances go, each host that serves one of their networks must drop their names; the
hosts that delete them do so in their release call, the others in a call of their own
(``nova_network`` with ``state=dns``). ``dns_updates`` says, for one host, which of its networks
lose names and the names they keep, from every host's facts as the play gathered them.
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.network.definition import FIELDS as NETWORK_FIELDS
from ansible_collections.novalite.compute.plugins.plugin_utils.host_facts import documents_from_hostvars


def dns_updates(documents, host, without=()):
    """[{"network": definition as ``host`` recorded it, "dns_names": {address: hostname}}] of each network
    of ``host`` in which an instance of ``without`` (uuids) held a fixed IP on some host."""
    going = set(without)
    names, losing = {}, set()
    for document in documents.values():
        for record in (document.get("fixed_ips") or {}).values():
            if record.get("instance_uuid") in going:
                losing.add(record.get("network_id"))
            else:
                names.setdefault(record.get("network_id"), {})[record["address"]] = record["hostname"]
    recorded = (documents.get(host) or {}).get("networks") or {}
    return [{"network": {field: recorded[uuid].get(field) for field in NETWORK_FIELDS if field in recorded[uuid]},
             "dns_names": dict(sorted(names.get(uuid, {}).items()))}
            for uuid in sorted(losing) if uuid in recorded]


def dns_updates_from_hostvars(hostvars, hosts, host, without=()):
    return dns_updates(documents_from_hostvars(hostvars, hosts), host, without)
