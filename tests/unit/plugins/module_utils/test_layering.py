"""module_utils is shipped to the compute hosts: it must never need controller-only code."""

import ast
from pathlib import Path

import pytest

MODULE_UTILS = Path(__file__).resolve().parents[4] / "plugins" / "module_utils"
CONTROLLER_ONLY = ("ansible_collections.novalite.compute.plugins.plugin_utils", "ansible.plugins")


def imported_names(path):
    """Every module name an import statement in ``path`` names (relative imports resolved to their text)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            yield base
            for alias in node.names:
                yield "%s.%s" % (base, alias.name)


def is_controller_only(name):
    return any(name == prefix or name.startswith(prefix + ".") for prefix in CONTROLLER_ONLY) or (
        name.startswith(".") and "plugin_utils" in name.split("."))


def module_utils_files():
    return sorted(MODULE_UTILS.rglob("*.py"))


def test_there_are_module_utils_to_check():
    assert len(module_utils_files()) > 10


@pytest.mark.parametrize("path", module_utils_files(), ids=lambda path: str(path.relative_to(MODULE_UTILS)))
def test_no_module_utils_file_imports_controller_code(path):
    offending = sorted({name for name in imported_names(path) if is_controller_only(name)})
    assert offending == [], "%s imports controller-only code: %s" % (path.relative_to(MODULE_UTILS), offending)


@pytest.mark.parametrize("source, expected", [
    ("from ansible_collections.novalite.compute.plugins.plugin_utils.ledger import X", True),
    ("import ansible.plugins.action", True),
    ("from ansible.plugins import loader", True),
    ("from ...plugin_utils import ledger", True),
    ("from ansible.module_utils.basic import AnsibleModule", False),
    ("from ansible_collections.novalite.compute.plugins.module_utils.common import validate", False),
], ids=["plugin_utils", "ansible.plugins", "from ansible.plugins", "relative", "module_utils.basic", "ours"])
def test_the_check_recognises_controller_imports(tmp_path, source, expected):
    sample = tmp_path / "sample.py"
    sample.write_text(source + "\n")
    assert any(is_controller_only(name) for name in imported_names(sample)) is expected
