# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter chains this module owns, applied whole, as Nova's IptablesManager did.

Each network's bridge gets ``nova-fwd-<bridge>`` (hooked from FORWARD: ensure_bridge's
``-i/-o <bridge> -j ACCEPT``) and ``nova-in-<bridge>`` (hooked from INPUT: the DHCP and DNS
accepts Nova added for dnsmasq). ``iptables-restore --noflush`` replaces a declared chain's
rules in one go and leaves every other chain alone, so a re-run never duplicates a rule.
"""

from __future__ import annotations

from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_checked


class OwnedChain:
    def __init__(self, name, hook, rules):
        self.name = name
        self.hook = hook
        self.rules = rules  # rule bodies in iptables-save's own spelling, without "-A <chain>"

    @property
    def hook_rule(self):
        return "-j " + self.name


def bridge_chains(bridge):
    """Nova's rules for one bridge, spelled as iptables-save prints them (so they compare equal)."""
    dnsmasq = ["-i %s -p %s -m %s --dport %d -j ACCEPT" % (bridge, proto, proto, port)
               for port in (67, 53) for proto in ("udp", "tcp")]
    return [OwnedChain("nova-fwd-" + bridge, "FORWARD", ["-i %s -j ACCEPT" % bridge, "-o %s -j ACCEPT" % bridge]),
            OwnedChain("nova-in-" + bridge, "INPUT", dnsmasq)]


class FilterTable:
    """The filter table as ``iptables-save -t filter`` prints it: chains and their rules."""

    def __init__(self, rules):
        self.rules = rules  # chain -> [rule body]

    @classmethod
    def parse(cls, text):
        rules = {}
        for line in text.splitlines():
            if line.startswith(":"):
                rules.setdefault(line[1:].split(" ", 1)[0], [])
            elif line.startswith("-A "):
                chain, _space, body = line[3:].partition(" ")
                rules.setdefault(chain, []).append(body)
        return cls(rules)

    def state_of(self, chain):
        """(rules or None when the chain is absent, how many times its hook jumps to it)."""
        hooks = self.rules.get(chain.hook, []).count(chain.hook_rule)
        return self.rules.get(chain.name), hooks


def probe_filter_table(run_command):
    return FilterTable.parse(run_checked(run_command, ["iptables-save", "-t", "filter"]))


def restore_lines(chain, current, target):
    """iptables-restore lines taking ``chain`` from state ``current`` to ``target`` (see state_of)."""
    (rules, hooks), (target_rules, target_hooks) = current, target
    lines = []
    if target_rules is not None and rules != target_rules:
        lines.append(":%s - [0:0]" % chain.name)  # declares it, and with --noflush empties only it
        lines += ["-A %s %s" % (chain.name, rule) for rule in target_rules]
    lines += ["-I %s 1 %s" % (chain.hook, chain.hook_rule)] * max(0, target_hooks - hooks)
    lines += ["-D %s %s" % (chain.hook, chain.hook_rule)] * max(0, hooks - target_hooks)
    if target_rules is None and rules is not None:
        lines += ["-F " + chain.name, "-X " + chain.name]
    return lines


def apply_restore(run_command, lines):
    if lines:
        script = "*filter\n" + "".join(line + "\n" for line in lines) + "COMMIT\n"
        run_checked(run_command, ["iptables-restore", "-w", "--noflush"], data=script, binary_data=True)
