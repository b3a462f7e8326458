"""Running a novalite module on a sandbox host exactly as a playbook would (ad-hoc ``ansible``).

Returns the module's whole result, ``diff`` included, through virt_json_callback.py.
"""

import json
import os
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
ANSIBLE = REPO_ROOT / ".venv" / "bin" / "ansible"
MODULE_TIMEOUT = 900  # TCG guests on a shared 2-core machine: generous


def run_module(sandbox, host, module, args, check=False, diff=False, timeout=MODULE_TIMEOUT):
    with tempfile.TemporaryDirectory(prefix="nl-virt-") as workdir:
        results = Path(workdir) / "results.json"
        env = dict(os.environ, ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"), NOVALITE_TEST_RESULTS=str(results),
                   ANSIBLE_STDOUT_CALLBACK="virt_json_callback", ANSIBLE_CALLBACK_PLUGINS=str(HERE),
                   ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_NOCOLOR="1")
        command = [str(ANSIBLE), "-i", str(sandbox.inventory_path), host, "-m", "novalite.compute." + module,
                   "-a", json.dumps(args)]
        command += ["--check"] if check else []
        command += ["--diff"] if diff else []
        run = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout,
                             check=False)
        if not results.exists():
            raise AssertionError("ansible gave no result (rc=%d):\n%s\n%s" % (run.returncode, run.stdout, run.stderr))
        return json.loads(results.read_text())[host]
