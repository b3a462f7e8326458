"""Running a module's main() in-process, and checking its DOCUMENTATION against its argument spec."""

import json

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args


def run_main(module, args, capsys):
    """The module's result (a dict) from one run of main(); it always exits."""
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


def assert_documented(module, fragments=()):
    """Every option documented with the type, default, choices and required flag the spec has.

    ``fragments``: doc fragment classes (``ModuleDocFragment``) whose options the module extends with.
    """
    documented = yaml.safe_load(module.DOCUMENTATION)["options"]
    for fragment in fragments:
        documented.update(yaml.safe_load(fragment.DOCUMENTATION)["options"])
    _compare(documented, module.ARGUMENT_SPEC, "options")
    for section in ("EXAMPLES", "RETURN"):
        yaml.safe_load(getattr(module, section))


def _compare(documented, spec, where):
    assert sorted(documented) == sorted(spec), where
    for name, option in spec.items():
        doc = documented[name]
        here = "%s.%s" % (where, name)
        assert doc.get("type", "str") == option.get("type", "str"), here
        assert doc.get("default") == option.get("default"), here
        assert doc.get("choices") == option.get("choices"), here
        assert bool(doc.get("required")) == bool(option.get("required")), here
        assert doc.get("elements") == option.get("elements"), here
        assert doc.get("description"), here
        if "options" in option:
            _compare(doc["suboptions"], option["options"], here)
