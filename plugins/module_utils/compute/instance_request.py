# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova's compute api ``create``: checks, quotas and the new instance records (seed 1.2, 1.3).

Everything here runs before anything is allocated: a request that fails leaves no trace.
Instances that already exist (same project, same display name) are returned as they are,
so asking again for the same name is a no-op.
"""

from __future__ import annotations

import base64
import datetime
import random
import uuid

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.compute import naming, quotas
from ansible_collections.novalite.compute.plugins.module_utils.compute.instance_record import (
    BUILDING, NOSTATE, live_records, new_record)

GIB = 1024 ** 3
MAX_USER_DATA_BYTES = 65535  # of the base64 text, as Nova's API


class ImageTooLarge(NovaliteError):
    pass


class FlavorTooSmall(NovaliteError):
    pass


def check_image_fits_flavor(image, flavor):
    """Nova's min_ram/min_disk checks and _check_image_size (skipped for root_gb 0)."""
    if image.status != "active":
        raise InvalidInput("image %s is %s, not active" % (image.label(), image.status))
    if flavor["memory_mb"] < image.min_ram:
        raise FlavorTooSmall("flavor %s has %d MB of RAM; image %s needs at least %d MB (min_ram)"
                             % (flavor["name"], flavor["memory_mb"], image.label(), image.min_ram))
    if flavor["root_gb"] < image.min_disk:
        raise FlavorTooSmall("flavor %s has a %d GB root disk; image %s needs at least %d GB (min_disk)"
                             % (flavor["name"], flavor["root_gb"], image.label(), image.min_disk))
    if flavor["root_gb"] and image.size and image.size > flavor["root_gb"] * GIB:
        raise ImageTooLarge("image %s is %d bytes, larger than the %d GB root disk of flavor %s"
                            % (image.label(), image.size, flavor["root_gb"], flavor["name"]))


def encode_user_data(user_data):
    """User data (text) as Nova stores it: base64, at most 65535 bytes of it."""
    if user_data is None or user_data == "":
        return None
    encoded = base64.b64encode(user_data.encode("utf-8")).decode("ascii")
    if len(encoded) > MAX_USER_DATA_BYTES:
        raise InvalidInput("user_data is %d bytes once base64-encoded; at most %d are allowed"
                           % (len(encoded), MAX_USER_DATA_BYTES))
    return encoded


def existing_instances(records, project_id, names):
    """{display_name: record} of the project's live instances with one of ``names``."""
    found = {}
    for record in live_records(records):
        if record.get("project_id") == project_id and record.get("display_name") in names:
            found[record["display_name"]] = record
    return found


def next_instance_ids(records, reserved_ids, count):
    """Ids after every id in use or reserved: the autoincrement Nova's database gave it."""
    highest = max([r.get("id", 0) for r in records] + list(reserved_ids) + [0])
    return list(range(highest + 1, highest + 1 + count))


class InstanceRequest:
    """The validated request of one ``create``: what to build, for whom, from what."""

    def __init__(self, name, count, flavor, image, project_id, user_id, metadata=None, key_data=None,
                 security_groups=("default",), network=None, availability_zone=None, target_host=None,
                 config_drive=False, injected_files=(), user_data=None):
        if count < 1:
            raise InvalidInput("count must be at least 1, got %d" % count)
        self.name = name
        self.count = count
        self.flavor = flavor
        self.image = image
        self.project_id = project_id
        self.user_id = user_id
        self.metadata = dict(metadata or {})
        self.key_data = key_data
        self.security_groups = list(security_groups)
        self.network = network
        self.availability_zone = availability_zone
        self.target_host = target_host
        self.config_drive = config_drive
        self.injected_files = list(injected_files)
        encode_user_data(user_data)  # size check before anything is allocated; spawn's config drive carries it
        self.display_names = naming.display_names(name, count)
        self.hostnames = {n: naming.sanitize_hostname(n) for n in self.display_names}

    def check(self, usage, quota_limits, missing_count):
        check_image_fits_flavor(self.image, self.flavor)
        quotas.check_metadata(self.metadata, quota_limits, self.project_id)
        quotas.check_injected_files(self.injected_files, quota_limits, self.project_id)
        if missing_count:
            quotas.check_instances(usage, quota_limits, missing_count, self.flavor, self.project_id)

    def new_records(self, ids, display_names, rng=random, now=None, new_uuid=uuid.uuid4):
        created_at = (now or datetime.datetime.now(datetime.timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
        reservation_id = naming.new_reservation_id(rng)
        records = []
        for instance_id, display_name in zip(ids, display_names):
            record = new_record(
                uuid=str(new_uuid()), id=instance_id,
                name=naming.instance_name(instance_id), display_name=display_name,
                hostname=self.hostnames[display_name], project_id=self.project_id,
                user_id=self.user_id, flavor=self.flavor, image_ref=self.image.id, image_name=self.image.name,
                kernel_id=self.image.kernel_id, ramdisk_id=self.image.ramdisk_id,
                reservation_id=reservation_id, metadata=self.metadata, key_data=self.key_data,
                security_groups=self.security_groups, network=self.network,
                availability_zone=self.availability_zone, config_drive=self.config_drive,
                created_at=created_at)
            record.update(vm_state=BUILDING, power_state=NOSTATE, task_state="scheduling")
            if self.target_host:
                record["requested_host"] = self.target_host
            records.append(record)
        return records


def plan_request(request, all_records, reserved_ids, quota_limits, **record_options):
    """(existing records, new records) for ``request``; raises before anything is allocated."""
    existing = existing_instances(all_records, request.project_id, request.display_names)
    missing = [n for n in request.display_names if n not in existing]
    request.check(quotas.project_usage(all_records, request.project_id), quota_limits, len(missing))
    ids = next_instance_ids(all_records, reserved_ids, len(missing))
    ordered_existing = [existing[n] for n in request.display_names if n in existing]
    return ordered_existing, request.new_records(ids, missing, **record_options)
