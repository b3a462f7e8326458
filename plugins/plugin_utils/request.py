# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova's compute api ``create``: flavors, quotas, names and the create request.

The lineage is ``nova/compute/api.py`` (``API._validate_and_provision_instance``,
``_check_num_instances_quota``, ``_check_metadata_properties_quota``,
``_check_injected_file_quota``), ``nova/compute/flavors.py``, ``nova/quota.py`` and
``nova/utils.py`` (``sanitize_hostname``, ``generate_uid``).

Everything here runs on the controller before anything is allocated: a request that fails
leaves no trace. Every field is checked with the functions the modules apply on the hosts (the
network definition with nova_network's argument spec and ``NetworkRecord.from_params``, security
groups with ``virt/nwfilter.py`` ``parse_groups``, image locations with ``image/catalog.py``
``check_location``, names and text with ``common/validate.py``), so a request accepted here is
never refused later for its input. Instances that already exist (same project, same display
name) are returned as they are, so asking again for the same name is a no-op.
"""

from __future__ import annotations

import base64
import datetime
import os
import random
import re
import string
import uuid

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.compute.instance_record import (
    BUILDING, NOSTATE, live_records, new_record)
from ansible_collections.novalite.compute.plugins.module_utils.image.catalog import (
    DEFAULT_ALLOWED_SCHEMES, REMOTE_SCHEMES, check_location)
from ansible_collections.novalite.compute.plugins.module_utils.network.definition import NetworkRecord
from ansible_collections.novalite.compute.plugins.module_utils.virt.nwfilter import parse_groups, require_known_groups
from ansible_collections.novalite.compute.plugins.plugin_utils.ipam import IPAM_ALLOCATE_SPEC

GIB = 1024 ** 3
MAX_USER_DATA_BYTES = 65535  # of the base64 text, as Nova's API (MAX_USERDATA_SIZE)
MAX_INT = 2 ** 31 - 1  # the size of Nova's integer columns

# --- flavors (nova/compute/flavors.py) ---------------------------------------------------------

# Nova's default instance types (Grizzly: m1.tiny has root_gb 0), with the database ids Nova's
# migrations gave them.
DEFAULT_FLAVORS = {
    "m1.tiny": {"id": 4, "flavorid": "1", "memory_mb": 512, "vcpus": 1, "root_gb": 0},
    "m1.small": {"id": 5, "flavorid": "2", "memory_mb": 2048, "vcpus": 1, "root_gb": 20},
    "m1.medium": {"id": 1, "flavorid": "3", "memory_mb": 4096, "vcpus": 2, "root_gb": 40},
    "m1.large": {"id": 2, "flavorid": "4", "memory_mb": 8192, "vcpus": 4, "root_gb": 80},
    "m1.xlarge": {"id": 3, "flavorid": "5", "memory_mb": 16384, "vcpus": 8, "root_gb": 160},
}
OPTIONAL_FLAVOR_FIELDS = {"ephemeral_gb": 0, "swap": 0, "rxtx_factor": 1.0, "is_public": True, "disabled": False,
                          "vcpu_weight": None, "extra_specs": {}}
FLAVOR_COUNTS = {"memory_mb": 1, "vcpus": 1, "root_gb": 0, "ephemeral_gb": 0, "swap": 0}  # field: minimum
FLAVOR_FLAGS = ("is_public", "disabled")
KNOWN_FLAVOR_FIELDS = set(FLAVOR_COUNTS) | set(OPTIONAL_FLAVOR_FIELDS) | {"id", "flavorid", "name"}


def flavor_table(user_flavors=None):
    """Every flavor by name: the defaults, with user flavors added or replacing them."""
    table = {name: dict(fields) for name, fields in DEFAULT_FLAVORS.items()}
    for name, fields in (user_flavors or {}).items():
        table[name] = dict(validate.mapping(fields, "flavor %r" % name))
    return {name: _complete_flavor(name, fields) for name, fields in table.items()}


def find_flavor(ref, user_flavors=None):
    """The flavor named ``ref`` (or with flavorid ``ref``), complete and validated."""
    table = flavor_table(user_flavors)
    flavor = table.get(ref) or next((f for f in table.values() if f["flavorid"] == str(ref)), None)
    if flavor is None:
        raise InvalidInput("unknown flavor %r (known: %s)" % (ref, ", ".join(sorted(table))))
    if flavor["disabled"]:
        raise InvalidInput("flavor %r is disabled" % ref)
    return flavor


def _complete_flavor(name, fields):
    what = "flavor %r" % name
    validate.reject_unknown(fields, KNOWN_FLAVOR_FIELDS, what)
    flavor = dict(OPTIONAL_FLAVOR_FIELDS, **fields)
    flavor["name"] = name
    for field, minimum in FLAVOR_COUNTS.items():
        validate.whole_number(flavor.get(field), "%s %s" % (what, field), minimum, MAX_INT)
    for field in FLAVOR_FLAGS:
        validate.flag(flavor[field], "%s %s" % (what, field))
    flavor["flavorid"] = str(flavor.get("flavorid", name))
    flavor.setdefault("id", None)
    return flavor


# --- quotas (nova/quota.py) --------------------------------------------------------------------

# Nova's defaults (quota_*); -1 means unlimited.
DEFAULT_QUOTAS = {
    "instances": 10, "cores": 20, "ram": 51200, "metadata_items": 128,
    "injected_files": 5, "injected_file_content_bytes": 10240, "injected_file_path_bytes": 255,
    "floating_ips": 10,  # checked by floating_ip_request (plugin_utils/floating_ips.py)
}
METADATA_FIELD_MAX = 255  # Nova's instance_metadata key and value columns


class QuotaExceeded(NovaliteError):
    """Nova's OverQuota/TooManyInstances: nothing has been allocated when it is raised."""


def effective_quotas(overrides=None):
    quotas = dict(DEFAULT_QUOTAS)
    for name, limit in (overrides or {}).items():
        if name not in DEFAULT_QUOTAS:
            raise QuotaExceeded("unknown quota %r (known: %s)" % (name, ", ".join(sorted(DEFAULT_QUOTAS))))
        quotas[name] = validate.whole_number(limit, "quota %s" % name, minimum=-1)
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
        _check_quota(resource, usage[resource], wanted[resource], quotas[resource], project_id)


def check_metadata(metadata, quotas, project_id):
    _check_quota("metadata_items", 0, len(metadata), quotas["metadata_items"], project_id)
    for key, value in metadata.items():
        if not key or len(key) > METADATA_FIELD_MAX or len(str(value)) > METADATA_FIELD_MAX:
            raise QuotaExceeded("metadata %r: keys must be 1 to %d characters and values at most %d"
                                % (key, METADATA_FIELD_MAX, METADATA_FIELD_MAX))


def checked_metadata(metadata):
    """Instance metadata: text keys and scalar values, each one line (they go into records and tables)."""
    metadata = dict(validate.mapping(metadata or {}, "metadata"))
    for key, value in metadata.items():
        validate.one_line(key if isinstance(key, str) else None, "metadata key")
        if isinstance(value, (dict, list, tuple)) or value is None:
            raise InvalidInput("metadata %s %r: expected text or a number" % (key, value), value=value)
        validate.one_line(str(value), "metadata %s" % key)
    return metadata


def check_injected_files(files, quotas, project_id):
    _check_quota("injected_files", 0, len(files), quotas["injected_files"], project_id)
    for injected in files:
        path_bytes = len(injected["path"].encode("utf-8"))
        content_bytes = len(injected["contents"].encode("utf-8"))
        _check_quota("injected_file_path_bytes", 0, path_bytes, quotas["injected_file_path_bytes"], project_id)
        _check_quota("injected_file_content_bytes", 0, content_bytes, quotas["injected_file_content_bytes"],
                     project_id)


def _check_quota(resource, used, wanted, limit, project_id):
    if limit >= 0 and used + wanted > limit:
        raise QuotaExceeded(
            "quota exceeded for %s in project %s: requested %d, in use %d, limit %d"
            % (resource, project_id, wanted, used, limit),
            resource=resource, requested=wanted, in_use=used, limit=limit)


# --- names ---------------------------------------------------------------------------------------

INSTANCE_NAME_TEMPLATE = "instance-%08x"  # Nova's instance_name_template, applied to the id
MULTI_INSTANCE_DISPLAY_NAME_TEMPLATE = "%(name)s-%(count)d"
RESERVATION_ALPHABET = string.ascii_lowercase + string.digits
_HOSTNAME_DROPPED = re.compile(r"[^\w.-]+")


def instance_name_from_id(instance_id):
    """The libvirt name of instance ``instance_id``, which also names its directory."""
    return validate.instance_name(INSTANCE_NAME_TEMPLATE % instance_id)


def new_reservation_id(rng=random):
    """``r-`` and eight random characters, as Nova's ``generate_uid('r')``."""
    return "r-" + "".join(rng.choice(RESERVATION_ALPHABET) for _index in range(8))


def sanitize_hostname(display_name):
    """Nova's ``sanitize_hostname``; the result must be a DNS label, as it goes into dnsmasq's hosts file."""
    hostname = display_name.replace(" ", "-").replace("_", "-")
    hostname = _HOSTNAME_DROPPED.sub("", hostname).lower().strip(".-")
    hostname = hostname.replace(".", "-")[:63].strip("-")
    try:
        return validate.dns_label(hostname, "hostname")
    except InvalidInput:
        raise InvalidInput("name %r gives no usable hostname (letters, digits and '-' are needed)"
                           % display_name, value=display_name) from None


def display_names(name, count):
    """One display name per instance: the name itself, or name-1 ... name-N for a batch."""
    if count == 1:
        return [name]
    return [MULTI_INSTANCE_DISPLAY_NAME_TEMPLATE % {"name": name, "count": n} for n in range(1, count + 1)]


# --- what else a request names: secrets, the network, security groups, image locations ---------

NETWORK_OPTIONS = IPAM_ALLOCATE_SPEC["network"]["options"]  # nova_network's and ipam_allocate's `network`


def check_secret(value, what):
    """A password: text on one line; the message never shows the value."""
    if value is None:
        return None
    if not isinstance(value, str) or validate.CONTROL_CHARACTERS.search(value):
        raise InvalidInput("%s: expected text on one line, without control characters (the value is not shown)"
                           % what)
    return value


def checked_network(label, definitions):
    """The definition of network ``label``, checked as nova_network and ipam_allocate check it.

    ``definitions`` are the network definitions by label (the inventory's ``novalite_networks``).
    First the modules' argument spec (unknown fields, types), then ``NetworkRecord.from_params``;
    returns the complete definition (``NetworkRecord.to_facts``) the network step is given.
    """
    definitions = validate.mapping(definitions, "networks")
    if label not in definitions:
        raise InvalidInput("unknown network %r (defined: %s)" % (label, ", ".join(sorted(map(str, definitions)))
                                                                 or "none"), value=label)
    what = "network %s" % label
    definition = validate.mapping(definitions[label], what)
    checked = ArgumentSpecValidator(NETWORK_OPTIONS).validate(dict(definition))
    if checked.error_messages:
        raise InvalidInput("%s: %s" % (what, "; ".join(checked.error_messages)), value=label)
    try:
        record = NetworkRecord.from_params(checked.validated_parameters)
    except InvalidInput as exc:
        raise InvalidInput("%s: %s" % (what, exc), value=label) from None
    if record.label != label:
        raise InvalidInput("%s: its label is %r; a network is named by its label" % (what, record.label),
                           value=label)
    return record.to_facts()


def checked_security_groups(names, definitions, what="security_group_definitions"):
    """The parsed group definitions; every group in ``names`` must be one of them or ``default``."""
    groups = parse_groups(definitions if definitions is not None else [], what)
    require_known_groups(names, groups, "the request")
    return groups


def image_dirs_for(catalog_path, extra_dirs):
    """Where file:// image locations may point: the catalog's own directory, then ``extra_dirs``."""
    dirs = [os.path.dirname(os.path.abspath(catalog_path))] if catalog_path else []
    return dirs + [validate.absolute_path(d, "image_dirs[%d]" % i)
                   for i, d in enumerate(validate.sequence(extra_dirs or [], "image_dirs"))]


def checked_schemes(schemes):
    schemes = validate.sequence(DEFAULT_ALLOWED_SCHEMES if schemes is None else schemes, "image_schemes")
    return [validate.choice(s, REMOTE_SCHEMES, "image_schemes[%d]" % i) for i, s in enumerate(schemes)]


def check_image_locations(catalog, image, image_dirs, schemes):
    """The image and its kernel and ramdisk: in the catalog, with a location a compute host may read.

    ``catalog.check_location`` is the rule image_cache applies on the hosts: a local file only
    inside ``image_dirs`` (symlinks and ``..`` resolved), anything else only with a scheme in
    ``schemes``.
    """
    for field, ref, formats in (("image", image.id, None), ("kernel_id", image.kernel_id, ("aki",)),
                                ("ramdisk_id", image.ramdisk_id, ("ari",))):
        if ref is None:
            continue
        part = catalog.find(ref)
        what = "image %s" % image.label()
        if field != "image":
            what += " %s %s" % (field, part.label())
        if formats and part.disk_format not in formats:
            raise InvalidInput("%s has disk_format %s; expected %s" % (what, part.disk_format, " or ".join(formats)))
        if part.status != "active":
            raise InvalidInput("%s has status %s; only active images are used" % (what, part.status))
        if not part.location:
            raise InvalidInput("%s has no location to fetch it from" % what)
        check_location(part.location, image_dirs, schemes, "%s location" % what)


# --- the request (nova/compute/api.py API.create) ------------------------------------------------

class ImageTooLarge(NovaliteError):
    pass


class FlavorTooSmall(NovaliteError):
    pass


def check_image_fits_flavor(image, flavor):
    """Nova's min_ram/min_disk checks and ``_check_image_size`` (skipped for root_gb 0)."""
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
    """The validated request of one ``create``: what to build, for whom, from what.

    The constructor checks every field with the rules the modules apply on the hosts, so a
    request it accepts is never refused later for its input.
    """

    def __init__(self, name, count, flavor, image, project_id, user_id, metadata=None, key_data=None,
                 security_groups=("default",), network=None, availability_zone=None, target_host=None,
                 config_drive=False, injected_files=(), user_data=None, group=None, group_policy=None):
        self.name = validate.display_name(name, "name")
        self.count = validate.whole_number(count, "count", minimum=1)
        self.flavor = flavor
        self.image = image
        self.project_id = _required_text(project_id, "project_id")
        self.user_id = _required_text(user_id, "user_id")
        self.metadata = checked_metadata(metadata)
        self.key_data = validate.one_line(key_data, "key_data")
        self.security_groups = [validate.resource_name(group, "security group") for group in security_groups]
        validate.reject_duplicates(self.security_groups, "security_groups")
        self.network = validate.dnsmasq_tag(network, "network") if network is not None else None
        self.availability_zone = validate.one_line(availability_zone, "availability_zone")
        self.target_host = validate.one_line(target_host, "target_host")
        self.config_drive = config_drive
        self.injected_files = list(injected_files)
        # an empty answer (an AWX survey's unanswered question) is no group
        self.group = validate.resource_name(group, "group") if group not in (None, "") else None
        self.group_policy = checked_group_policy(self.group, group_policy or None)
        encode_user_data(user_data)  # size check before anything is allocated; spawn's config drive carries it
        # name-N of a long name can pass the length the name itself passed
        self.display_names = [validate.display_name(n, "name") for n in display_names(self.name, self.count)]
        self.hostnames = {n: sanitize_hostname(n) for n in self.display_names}

    def check(self, usage, quota_limits, missing_count):
        check_image_fits_flavor(self.image, self.flavor)
        check_metadata(self.metadata, quota_limits, self.project_id)
        check_injected_files(self.injected_files, quota_limits, self.project_id)
        if missing_count:
            check_instances(usage, quota_limits, missing_count, self.flavor, self.project_id)

    def new_records(self, ids, names, rng=random, now=None, new_uuid=uuid.uuid4):
        """One building record per (id, display name), all of one reservation."""
        created_at = (now or datetime.datetime.now(datetime.timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
        reservation_id = new_reservation_id(rng)
        return [self._new_record(instance_id, display_name, reservation_id, created_at, new_uuid)
                for instance_id, display_name in zip(ids, names)]

    def _new_record(self, instance_id, display_name, reservation_id, created_at, new_uuid):
        record = new_record(
            uuid=str(new_uuid()), id=instance_id,
            name=instance_name_from_id(instance_id), display_name=display_name,
            hostname=self.hostnames[display_name], project_id=self.project_id,
            user_id=self.user_id, flavor=self.flavor, image_ref=self.image.id, image_name=self.image.name,
            kernel_id=self.image.kernel_id, ramdisk_id=self.image.ramdisk_id,
            reservation_id=reservation_id, metadata=self.metadata, key_data=self.key_data,
            security_groups=self.security_groups, network=self.network,
            availability_zone=self.availability_zone, config_drive=self.config_drive,
            created_at=created_at)
        record.update(vm_state=BUILDING, power_state=NOSTATE, task_state="scheduling")
        if self.group:
            record.update(server_group=self.group, server_group_policy=self.group_policy)
        if self.target_host:
            record["requested_host"] = self.target_host
        return record


def _required_text(value, what):
    if not value:
        raise InvalidInput("%s is empty" % what, value=value)
    return validate.one_line(value, what)


# --- server groups (nova/scheduler/filters/affinity_filter.py, the "group" scheduler hint) ------

GROUP_POLICIES = ("affinity", "anti-affinity")


def checked_group_policy(group, policy):
    if policy is None:
        return None
    if group is None:
        raise InvalidInput("group_policy %s needs a server group: give its name with group" % policy, value=policy)
    return validate.choice(policy, GROUP_POLICIES, "group_policy")


def group_members(records, project_id, group):
    """The project's live instances in server group ``group``."""
    return [record for record in live_records(records)
            if record.get("project_id") == project_id and record.get("server_group") == group]


def check_server_group(request, all_records, missing_count, hosts):
    """The group's policy settled, and refused before anything is allocated when it cannot hold.

    A group keeps the policy its first members were created with; asking for another is refused.
    An anti-affinity group needs a host of its own for every member: more members than compute
    hosts is refused here, naming the group and the host count (the scheduler then keeps the
    members apart, ServerGroupAntiAffinityFilter).
    """
    if request.group is None:
        return
    members = group_members(all_records, request.project_id, request.group)
    policies = sorted({member.get("server_group_policy") for member in members})
    if policies and request.group_policy not in (None, policies[0]):
        raise InvalidInput("server group %s has policy %s; a group's policy cannot change (asked for %s)"
                           % (request.group, ", ".join(map(str, policies)), request.group_policy),
                           value=request.group_policy)
    if policies:
        request.group_policy = policies[0]
    elif request.group_policy is None:
        raise InvalidInput("server group %s is new: give its policy with group_policy (%s)"
                           % (request.group, " or ".join(GROUP_POLICIES)), value=request.group)
    wanted = len(members) + missing_count
    if request.group_policy == "anti-affinity" and wanted > len(hosts):
        raise InvalidInput("server group %s (anti-affinity) would have %d members, and there are %d compute hosts "
                           "(%s): each member needs a host of its own"
                           % (request.group, wanted, len(hosts), ", ".join(hosts)), value=request.group,
                           group=request.group, members=wanted, hosts=len(hosts))


def check_request(request, all_records, quota_limits):
    """(existing records, missing display names) of ``request``, after every quota and size check."""
    existing = existing_instances(all_records, request.project_id, request.display_names)
    missing = [n for n in request.display_names if n not in existing]
    request.check(project_usage(all_records, request.project_id), quota_limits, len(missing))
    return [existing[n] for n in request.display_names if n in existing], missing


def plan_request(request, all_records, reserved_ids, quota_limits, **record_options):
    """(existing records, new records) for ``request``; raises before anything is allocated."""
    existing, missing = check_request(request, all_records, quota_limits)
    ids = next_instance_ids(all_records, reserved_ids, len(missing))
    return existing, request.new_records(ids, missing, **record_options)
