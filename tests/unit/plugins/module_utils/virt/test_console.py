"""instance_console_info: the last lines of console.log, at most its last 100 KiB, CR LF made plain."""

from types import SimpleNamespace

import pytest

from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.common.facts_store import FactsStore
from ansible_collections.novalite.compute.plugins.module_utils.virt.console import console_output, tail_lines
from ansible_collections.novalite.compute.plugins.modules import instance_console_info
from ansible_collections.novalite.compute.tests.unit.plugins.module_utils.virt.module_harness import assert_documented

UUID = "11111111-1111-4111-8111-111111111111"


def test_documentation_matches_the_argument_spec():
    assert_documented(instance_console_info)


def test_the_last_lines_with_cr_lf_made_plain(tmp_path):
    log = tmp_path / "console.log"
    log.write_bytes(b"one\r\ntwo\r\nthree\r\n\xff bad\r\n")
    assert tail_lines(str(log), 2) == (["three", "\ufffd bad"], True)
    assert tail_lines(str(log), 0) == (["one", "two", "three", "\ufffd bad"], False)
    assert tail_lines(str(log), 10) == (["one", "two", "three", "\ufffd bad"], False)


def test_only_the_last_bytes_are_read_and_their_cut_first_line_is_dropped(tmp_path):
    log = tmp_path / "console.log"
    log.write_text("".join("line %05d\n" % n for n in range(1000)))
    lines, truncated = tail_lines(str(log), 0, max_bytes=105)
    assert truncated and lines == ["line %05d" % n for n in range(991, 1000)]


def test_the_module_reads_each_instances_log_and_refuses_an_unknown_one(tmp_path):
    facts = FactsStore(str(tmp_path / "novalite.fact"))
    with facts.transaction() as transaction:
        transaction.document["instances"][UUID] = {"uuid": UUID, "name": "instance-00000001", "display_name": "web"}
    (tmp_path / "instance-00000001").mkdir()
    (tmp_path / "instance-00000001" / "console.log").write_text("novalite-guest ready\n")
    params = {"instances": [{"uuid": UUID}], "lines": 5, "instances_path": str(tmp_path), "facts_path": facts.path}
    [console] = console_output(SimpleNamespace(params=params))["consoles"]
    assert (console["exists"], console["lines"], console["display_name"]) == (True, ["novalite-guest ready"], "web")
    with pytest.raises(InvalidInput, match="is not recorded on this host"):
        console_output(SimpleNamespace(params=dict(params, instances=[{"uuid": UUID.replace("1", "2")}])))
