"""Ansible stdout callback for the integration tests: every host's full result as JSON.

The tree callback and the default one leave out ``diff`` below -vvv; the tests assert on it,
so this callback writes each result as the module returned it to the file named by
NOVALITE_TEST_RESULTS (see sandbox_ansible.py). It sits in a directory of its own because
Ansible imports every file of a callback plugin directory.
"""

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "module_results"

    def __init__(self):
        super().__init__()
        self.results = {}

    def _record(self, result, failed):
        self.results[result._host.get_name()] = dict(result._result, failed=failed)
        with open(os.environ["NOVALITE_TEST_RESULTS"], "w") as out:
            json.dump(self.results, out, default=str)

    def v2_runner_on_ok(self, result):
        self._record(result, failed=False)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, failed=True)

    def v2_runner_on_unreachable(self, result):
        self._record(result, failed=True)
