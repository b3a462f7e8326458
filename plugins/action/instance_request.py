# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of the compute api: see plugins/modules/instance_request.py for the docs."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.common.runner import action_result
from ansible_collections.novalite.compute.plugins.module_utils.compute.instance_record import records_of
from ansible_collections.novalite.compute.plugins.module_utils.image.catalog import Catalog, load_catalog_file
from ansible_collections.novalite.compute.plugins.plugin_utils.host_facts import documents_from_hostvars
from ansible_collections.novalite.compute.plugins.plugin_utils.ledger import DEFAULT_STATE_DIR, ReservationLedger
from ansible_collections.novalite.compute.plugins.plugin_utils.request import (
    InstanceRequest, check_image_fits_flavor, check_image_locations, check_request, check_secret, check_server_group,
    checked_network, checked_schemes,
    checked_security_groups, effective_quotas, find_flavor, image_dirs_for, next_instance_ids)

INSTANCE_IDS = "instance_ids"  # the ledger's kind for instance ids handed out but not yet in any host's facts

ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "count": {"type": "int", "default": 1},
    "flavor": {"type": "str", "default": "m1.tiny"},
    "flavors": {"type": "dict", "default": {}},
    "image": {"type": "str", "required": True},
    "catalog": {"type": "path"},
    "images": {"type": "list", "elements": "dict"},
    "project_id": {"type": "str", "required": True},
    "user_id": {"type": "str", "required": True},
    "metadata": {"type": "dict", "default": {}},
    "key_data": {"type": "str"},
    "user_data": {"type": "str", "no_log": True},
    "admin_password": {"type": "str", "no_log": True},
    "injected_files": {"type": "list", "elements": "dict", "default": [], "no_log": True,
                       "options": {"path": {"type": "str", "required": True},
                                   "contents": {"type": "str", "required": True}}},
    "config_drive": {"type": "bool"},
    "security_groups": {"type": "list", "elements": "str", "default": ["default"]},
    "security_group_definitions": {"type": "list", "elements": "dict", "default": []},
    "network": {"type": "str", "default": "private"},
    "networks": {"type": "dict"},
    "image_dirs": {"type": "list", "elements": "path", "default": []},
    "image_schemes": {"type": "list", "elements": "str", "choices": ["http", "https"], "default": ["http", "https"]},
    "availability_zone": {"type": "str"},
    "target_host": {"type": "str"},
    "group": {"type": "str"},
    "group_policy": {"type": "str", "choices": ["affinity", "anti-affinity"]},
    "quotas": {"type": "dict", "default": {}},
    "hosts": {"type": "list", "elements": "str", "required": True},
    "state_dir": {"type": "path", "default": DEFAULT_STATE_DIR},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(
            ARGUMENT_SPEC, mutually_exclusive=[("catalog", "images")], required_one_of=[("catalog", "images")])
        return action_result(result, lambda: request_instances(args, task_vars["hostvars"], self._task.check_mode))


def request_instances(args, hostvars, check_mode):
    """Check the whole request, then hand out instance ids under the ledger's lock."""
    request, network = checked_request(args)
    all_records = records_of(documents_from_hostvars(hostvars, args["hosts"]))
    # every check before the ledger is opened: a refused request leaves no trace, not even a lock
    existing, missing = check_request(request, all_records, effective_quotas(args["quotas"]))
    check_server_group(request, all_records, len(missing), args["hosts"])
    with ReservationLedger(args["state_dir"]).session(write=not check_mode and bool(missing)) as ledger:
        ids = next_instance_ids(all_records, ledger.reserved(INSTANCE_IDS).values(), len(missing))
        new = request.new_records(ids, missing)
        for record in new:
            ledger.reserve(INSTANCE_IDS, record["uuid"], record["id"])
    return {
        "changed": bool(new),
        "instances": existing + new,
        "created": [r["uuid"] for r in new],
        "existing": [r["uuid"] for r in existing],
        "flavor": request.flavor,
        "image": request.image.as_dict(),
        "network": network,
        "security_group_definitions": args["security_group_definitions"],
    }


def checked_request(args):
    """(InstanceRequest, network definition or None) of ``args``.

    Every field is checked here with the rules the modules apply on the hosts, before anything
    is allocated: a request accepted here is never refused later for its input.
    """
    catalog = load_catalog_file(args["catalog"]) if args["catalog"] else Catalog(args["images"])
    image = catalog.find(args["image"])
    check_secret(args["admin_password"], "admin_password")
    request = InstanceRequest(
        args["name"], args["count"], find_flavor(args["flavor"], args["flavors"]), image,
        project_id=args["project_id"], user_id=args["user_id"], metadata=args["metadata"],
        key_data=args["key_data"], security_groups=args["security_groups"], network=args["network"],
        availability_zone=args["availability_zone"], target_host=args["target_host"],
        config_drive=wants_config_drive(args), injected_files=args["injected_files"], user_data=args["user_data"],
        group=args["group"], group_policy=args["group_policy"])
    checked_security_groups(request.security_groups, args["security_group_definitions"])
    if request.target_host is not None and request.target_host not in args["hosts"]:
        raise InvalidInput("target_host %s is not one of the compute hosts (%s)"
                           % (request.target_host, ", ".join(args["hosts"])), value=request.target_host)
    network = checked_network(args["network"], args["networks"]) if args["networks"] is not None else None
    # what is asked for first (the image fits the flavor), then where it would be read from
    check_image_fits_flavor(request.image, request.flavor)
    check_image_locations(catalog, image, image_dirs_for(args["catalog"], args["image_dirs"]),
                          checked_schemes(args["image_schemes"]))
    return request, network


def wants_config_drive(args):
    """Explicitly asked for, or implied by anything that only a config drive can carry here."""
    if args["config_drive"] is not None:
        return args["config_drive"]
    return bool(args["user_data"] or args["key_data"] or args["admin_password"] or args["injected_files"])
