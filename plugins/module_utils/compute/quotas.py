# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-project quotas, counted from the instance records in the compute hosts' facts."""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.compute.instance_record import live_records

# Nova's defaults (quota_*); -1 means unlimited.
DEFAULT_QUOTAS = {
    "instances": 10, "cores": 20, "ram": 51200, "metadata_items": 128,
    "injected_files": 5, "injected_file_content_bytes": 10240, "injected_file_path_bytes": 255,
}
METADATA_FIELD_MAX = 255


class QuotaExceeded(NovaliteError):
    """Nova's OverQuota/TooManyInstances: nothing has been allocated when it is raised."""


def effective_quotas(overrides=None):
    quotas = dict(DEFAULT_QUOTAS)
    for name, limit in (overrides or {}).items():
        if name not in DEFAULT_QUOTAS:
            raise QuotaExceeded("unknown quota %r (known: %s)" % (name, ", ".join(sorted(DEFAULT_QUOTAS))))
        quotas[name] = limit
    return quotas


def project_usage(instance_records, project_id):
    """instances, cores and ram held by the project's instances (every vm_state but deleted)."""
    usage = {"instances": 0, "cores": 0, "ram": 0}
    for record in live_records(instance_records):
        if record.get("project_id") == project_id:
            usage["instances"] += 1
            usage["cores"] += record["flavor"]["vcpus"]
            usage["ram"] += record["flavor"]["memory_mb"]
    return usage


def check_instances(usage, quotas, count, flavor, project_id):
    """Raise unless ``count`` more instances of ``flavor`` fit the project's quotas."""
    wanted = {"instances": count, "cores": count * flavor["vcpus"], "ram": count * flavor["memory_mb"]}
    for resource in ("instances", "cores", "ram"):
        _check(resource, usage[resource], wanted[resource], quotas[resource], project_id)


def check_metadata(metadata, quotas, project_id):
    _check("metadata_items", 0, len(metadata), quotas["metadata_items"], project_id)
    for key, value in metadata.items():
        if not key or len(key) > METADATA_FIELD_MAX or len(str(value)) > METADATA_FIELD_MAX:
            raise QuotaExceeded("metadata %r: keys must be 1 to %d characters and values at most %d"
                                % (key, METADATA_FIELD_MAX, METADATA_FIELD_MAX))


def check_injected_files(files, quotas, project_id):
    _check("injected_files", 0, len(files), quotas["injected_files"], project_id)
    for injected in files:
        path_bytes = len(injected["path"].encode("utf-8"))
        content_bytes = len(injected["contents"].encode("utf-8"))
        _check("injected_file_path_bytes", 0, path_bytes, quotas["injected_file_path_bytes"], project_id)
        _check("injected_file_content_bytes", 0, content_bytes, quotas["injected_file_content_bytes"], project_id)


def _check(resource, used, wanted, limit, project_id):
    if limit >= 0 and used + wanted > limit:
        raise QuotaExceeded(
            "quota exceeded for %s in project %s: requested %d, in use %d, limit %d"
            % (resource, project_id, wanted, used, limit),
            resource=resource, requested=wanted, in_use=used, limit=limit)
