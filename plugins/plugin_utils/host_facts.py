# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side: every compute host's facts document, as the play gathered it."""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.common.facts_store import check_document, empty_document

FACTS_KEY = "novalite"  # ansible_local.novalite, from /etc/ansible/facts.d/novalite.fact


def documents_from_hostvars(hostvars, hosts):
    """{host: facts document}; a host whose facts were not gathered is an error, not an empty host."""
    documents = {}
    for host in hosts:
        variables = hostvars.get(host)
        if variables is None:
            raise NovaliteError("host %s is not in the inventory" % host)
        local = variables.get("ansible_local")
        if local is None:
            raise NovaliteError("no facts for host %s: gather them first (setup with gather_subset local)" % host)
        document = local.get(FACTS_KEY)  # already parsed by setup: validate it, do not re-read JSON
        documents[host] = (check_document(document, origin="ansible_local.%s of %s" % (FACTS_KEY, host))
                           if document else empty_document())
    return documents
