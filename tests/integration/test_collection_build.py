"""Issue 2 acceptance: `ansible-galaxy collection build` makes a tarball that installs."""

import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_built_tarball_installs_with_plugins_and_without_dev_tooling(installed_collection):
    version = yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text())["version"]
    tarball = installed_collection["tarball"]
    assert tarball.name == "novalite-compute-%s.tar.gz" % version
    assert tarball.exists()

    collections = installed_collection["collections"]
    installed = collections / "ansible_collections" / "novalite" / "compute"
    assert (installed / "MANIFEST.json").exists()
    assert (installed / "meta" / "runtime.yml").exists()
    assert (installed / "plugins" / "module_utils" / "common" / "facts_store.py").exists()
    for dev_only in ("sandbox", "scripts", ".ci", "bench", ".venv"):
        assert not (installed / dev_only).exists(), dev_only

    listed = subprocess.run([str(BIN / "ansible-doc"), "--list", "--type", "module", "novalite.compute"],
                            env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections)),
                            cwd=collections, check=True, capture_output=True, text=True).stdout
    modules = sorted(p.stem for p in (REPO_ROOT / "plugins" / "modules").glob("*.py"))
    for module in modules:
        assert "novalite.compute.%s" % module in listed
