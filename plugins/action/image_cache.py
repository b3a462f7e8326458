# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""image_cache with the catalog on the controller: see plugins/modules/image_cache.py for the docs.

Without ``controller_catalog`` the module runs as it is. With it (plugin_utils/image_delivery.py
decides what to send):

1. the catalog is read and every local location the batch uses is confined on the controller;
2. the module runs once; a host that caches every image it needs is done (one call, nothing sent);
3. otherwise the images it names in ``delivery_needed`` are sent over the connection into the
   task's temporary directory, and the module runs a second time to verify and cache them.
"""

from __future__ import annotations

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.common.runner import action_result
from ansible_collections.novalite.compute.plugins.modules.image_cache import (
    ARGUMENT_SPEC, MUTUALLY_EXCLUSIVE, REQUIRED_BY)
from ansible_collections.novalite.compute.plugins.plugin_utils.image_delivery import ImageDelivery

MODULE = "novalite.compute.image_cache"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False  # the temporary directory is made only when there is an image to send
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        try:
            if not self._task.args.get("controller_catalog"):
                result.update(self._execute_module(module_name=MODULE, task_vars=task_vars))
                return result
            return action_result(result, lambda: self._from_controller(task_vars))
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)

    def _from_controller(self, task_vars):
        _validation, args = self.validate_argument_spec(
            ARGUMENT_SPEC, mutually_exclusive=MUTUALLY_EXCLUSIVE, required_by=REQUIRED_BY)
        delivery = ImageDelivery(args)
        module_args = delivery.module_args(self._task.args)
        first = self._execute_module(module_name=MODULE, module_args=dict(module_args), task_vars=task_vars)
        needed = first.get("delivery_needed") or []
        if first.get("failed") or self._task.check_mode or not needed:
            return dict(first, delivered=[])
        transfers = delivery.transfers(needed)
        self._send(transfers)
        second = self._execute_module(module_name=MODULE, module_args=dict(module_args), task_vars=task_vars)
        if not second.get("failed") and second.get("delivery_needed"):
            raise NovaliteError("images %s were sent into %s, and the module did not find them there (delivery "
                                "needs the task's temporary directory: no become to an unprivileged user)"
                                % (", ".join(second["delivery_needed"]), self._connection._shell.tmpdir))
        return dict(second, delivered=[transfer.image_id for transfer in transfers])

    def _send(self, transfers):
        """put_file each image into the task's temporary directory (made now if there is none)."""
        shell = self._connection._shell
        tmpdir = shell.tmpdir or self._make_tmp_path()
        sent = []
        for transfer in transfers:
            target = shell.join_path(tmpdir, transfer.name)
            try:
                self._transfer_file(transfer.path, target)
            except AnsibleError as exc:
                raise NovaliteError("cannot send image %s (%s) to the host: %s"
                                    % (transfer.image_id, transfer.path, exc), image_id=transfer.image_id) from None
            sent.append(target)
        self._fixup_perms2([tmpdir] + sent, execute=False)
