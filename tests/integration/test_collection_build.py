"""Issue 2 acceptance: `ansible-galaxy collection build` makes a tarball that installs."""

import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(*args, **kwargs):
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True, **kwargs)


def test_built_tarball_installs_with_plugins_and_without_dev_tooling(tmp_path):
    version = yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text())["version"]
    # outside the checkout: its ansible.cfg would show the collection as installed already
    run(BIN / "ansible-galaxy", "collection", "build", REPO_ROOT, "--output-path", tmp_path, cwd=tmp_path)
    tarball = tmp_path / ("novalite-compute-%s.tar.gz" % version)
    assert tarball.exists()

    collections = tmp_path / "collections"
    run(BIN / "ansible-galaxy", "collection", "install", "--force", tarball, "-p", collections, cwd=tmp_path)
    installed = collections / "ansible_collections" / "novalite" / "compute"
    assert (installed / "MANIFEST.json").exists()
    assert (installed / "meta" / "runtime.yml").exists()
    assert (installed / "plugins" / "module_utils" / "common" / "facts_store.py").exists()
    for dev_only in ("sandbox", "scripts", ".ci", "bench", ".venv"):
        assert not (installed / dev_only).exists(), dev_only

    listed = run(BIN / "ansible-doc", "--list", "--type", "module", "novalite.compute",
                 env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections)), cwd=tmp_path).stdout
    modules = sorted(p.stem for p in (REPO_ROOT / "plugins" / "modules").glob("*.py"))
    for module in modules:
        assert "novalite.compute.%s" % module in listed
