# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Chains this collection owns in iptables' tables, kept as Nova's ``IptablesManager`` kept its own.

``nova/network/linux_net.py`` ``IptablesManager`` held every rule Nova wanted in chains of its
own, each jumped to from a builtin chain, and wrote them whole with ``iptables-restore``. Here a
feature declares ``OwnedChain``s (table, name, rules, hooks) in a ``ChainSet``, which also names
the chains it answers for, so that one it no longer declares is removed. ``IptablesStep`` reads
each table with ``iptables-save``, compares what is with what should be, and applies the
difference with one ``iptables-restore -w --noflush`` per changed table, under the external
``nova-iptables`` lock. A re-run finds nothing to do and runs no restore.

- ``--noflush`` leaves every chain nobody declared alone (libvirt's, the administrator's);
  declaring a chain (``:name - [0:0]``) empties only that one, so rules are never duplicated.
- A hook (``-j name`` in a builtin chain) is inserted at the top when missing and kept where it
  is found: libvirt inserts its own jumps above ours at every guest start, and moving ours back
  on each run would never settle. Extra copies of a hook are deleted. A hook declared ``above``
  a prefix is moved back to the top when it is found below a jump to a chain of that prefix (an
  instance's firewall must see its packets before a bridge's accepts do).
- Rules are written as ``iptables-save`` prints them (``-p udp -m udp --dport 67``), so what is
  and what should be compare as text.

nova-network's own chains (the bridges' FORWARD and INPUT accepts, SNAT, the metadata DNAT,
floating IPs) are derived from a host's whole recorded state in network/nat.py; an instance's
security groups are filter chains hooked from FORWARD in virt/iptables_firewall.py.
"""

from __future__ import annotations

import re

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.novalite.compute.plugins.module_utils.common.files import exclusive_lock
from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_checked

# The builtin chains a hook may jump from, per table.
BUILTIN_CHAINS = {
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
}
# XT_EXTENSION_MAXNAMELEN is 29 with the NUL; no spaces (a rule is split on them), no leading '-'.
CHAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,27}")
CHAIN_NAME_MAX = 28
IPTABLES_LOCK = "nova-iptables"  # Nova's external lock name, in a host's locks path


def chain_name(value, what="iptables chain name"):
    """A user chain's name (not one of a builtin chain's or a target's upper-case names)."""
    if not isinstance(value, str) or not CHAIN_NAME.fullmatch(value) or value.isupper():
        raise InvalidInput("%s %r: expected 1 to %d letters, digits, '_', '.' or '-', starting with a letter or "
                           "digit and not all upper case" % (what, value, CHAIN_NAME_MAX), value=value)
    return value


class Hook:
    """A jump to an owned chain from the builtin chain ``builtin``, optionally only for ``match``.

    ``above``: a chain name prefix; the hook must come before every jump to such a chain.
    """

    def __init__(self, builtin, match="", above=None):
        self.builtin = builtin
        self.match = match
        self.above = above

    def rule(self, chain):
        return "%s -j %s" % (self.match, chain) if self.match else "-j %s" % chain


class OwnedChain:
    """A chain of ``table`` holding exactly ``rules`` (iptables-save spelling, without ``-A <name>``)."""

    def __init__(self, table, name, rules, hooks=()):
        self.table = validate.choice(table, tuple(BUILTIN_CHAINS), "iptables table")
        self.name = chain_name(name)
        # one line each: a newline would start another iptables-restore command
        self.rules = [validate.one_line(rule, "rule of " + name) for rule in rules]
        self.hooks = [hook if isinstance(hook, Hook) else Hook(hook) for hook in hooks]
        for hook in self.hooks:
            validate.choice(hook.builtin, BUILTIN_CHAINS[table], "hook of %s in table %s" % (name, table))
            validate.one_line(hook.match, "hook match of " + name)

    def state(self):
        return ChainState(self.rules, {(hook.builtin, hook.rule(self.name)): 1 for hook in self.hooks},
                          above={(hook.builtin, hook.rule(self.name)): hook.above for hook in self.hooks if hook.above})


class ChainSet:
    """What a feature wants: its chains, and every chain it answers for (``owns``).

    ``owns`` holds (table, name) pairs; a name ending in ``*`` is a prefix (e.g. per-instance
    chains). An existing chain that is owned but not declared is removed, with its hooks.
    """

    def __init__(self, chains=(), owns=()):
        self.chains = list(chains)
        self.owns = [(chain.table, chain.name) for chain in self.chains] + list(owns)
        validate.reject_duplicates(["%s/%s" % (c.table, c.name) for c in self.chains], "iptables chain")

    def __add__(self, other):
        return ChainSet(self.chains + other.chains, self.owns + other.owns)

    def tables(self):
        return sorted({table for table, _name in self.owns})

    def owned(self, table, name):
        return any(t == table and (name == n or (n.endswith("*") and name.startswith(n[:-1])))
                   for t, n in self.owns)

    def target(self, table, names):
        """{name: ChainState} for ``names`` (the owned chains of ``table``): declared ones whole, others gone."""
        declared = {chain.name: chain.state() for chain in self.chains if chain.table == table}
        return {name: declared.get(name, ChainState(None, {})) for name in names}


class ChainState:
    """A chain's rules (None: absent) and its hooks: {(builtin chain, rule): how many times}.

    ``above`` (wanted): {hook: chain prefix it must precede}; ``misplaced`` (found): the hooks
    that sit below a jump to such a chain.
    """

    def __init__(self, rules, hooks, above=None, misplaced=()):
        self.rules = rules
        self.hooks = hooks
        self.above = above or {}
        self.misplaced = set(misplaced)

    def describe(self):
        hooks = ["%s %s" % hook for hook, count in sorted(self.hooks.items()) for _copy in range(count)]
        return {"rules": list(self.rules), "hooks": hooks}


class TableState:
    """One table as ``iptables-save -t <table>`` prints it: each chain's rule bodies, in order."""

    def __init__(self, table, rules):
        self.table = table
        self.rules = rules  # chain -> [rule body]

    @classmethod
    def parse(cls, table, text):
        rules = {}
        for line in text.splitlines():
            if line.startswith(":"):
                rules.setdefault(line[1:].split(" ", 1)[0], [])
            elif line.startswith("-A "):
                chain, _space, body = line[3:].partition(" ")
                rules.setdefault(chain, []).append(body)
        return cls(table, rules)

    @classmethod
    def probe(cls, run_command, table):
        return cls.parse(table, run_checked(run_command, ["iptables-save", "-t", table]))

    def chain_names(self, chain_set):
        """The names that matter to ``chain_set`` here: what it declares, and what it owns that exists."""
        names = [chain.name for chain in chain_set.chains if chain.table == self.table]
        return names + sorted(n for n in self.rules if n not in names and chain_set.owned(self.table, n))

    def state_of(self, name, above=None):
        """``name`` as it is here; ``above`` as in ChainState, to find the hooks out of place."""
        hooks = {}
        for builtin in BUILTIN_CHAINS[self.table]:
            for body in self.rules.get(builtin, ()):
                if jump_target(body) == name:
                    hooks[(builtin, body)] = hooks.get((builtin, body), 0) + 1
        misplaced = [hook for hook, prefix in (above or {}).items() if hook in hooks and self._below(hook, prefix)]
        return ChainState(self.rules.get(name), hooks, misplaced=misplaced)

    def _below(self, hook, prefix):
        builtin, body = hook
        bodies = self.rules.get(builtin, [])
        return any((jump_target(other) or "").startswith(prefix) for other in bodies[:bodies.index(body)])


def jump_target(body):
    """The chain or target a rule body jumps to (``-j name``), or None."""
    words = body.split()
    return words[-1] if words[-2:-1] == ["-j"] else None


def restore_lines(current, target):
    """The iptables-restore lines from ``current`` to ``target`` ({name: ChainState}, same names).

    In phases, so that every chain exists before a rule jumps to it and no jump is left when
    one is deleted: declare (and empty) the rewritten chains, fill them, fix the hooks, then
    flush and delete the chains that go.
    """
    rewritten = [n for n, want in target.items() if want.rules is not None and current[n].rules != want.rules]
    removed = [n for n, want in target.items() if want.rules is None and current[n].rules is not None]
    lines = [":%s - [0:0]" % name for name in rewritten]
    lines += ["-A %s %s" % (name, rule) for name in rewritten for rule in target[name].rules]
    deletions, insertions = [], []
    for name in target:
        have, want = dict(current[name].hooks), target[name].hooks
        for hook in current[name].misplaced:  # deleted here, inserted on top again below
            deletions.append("-D %s %s" % hook)
            have[hook] -= 1
        for hook in list(want) + [hook for hook in have if hook not in want]:
            extra = have.get(hook, 0) - want.get(hook, 0)
            deletions += ["-D %s %s" % hook] * max(0, extra)
            insertions += ["-I %s 1 %s" % hook] * max(0, -extra)
    lines += deletions + list(reversed(insertions))  # inserted last is on top: the first declared wins
    lines += ["-F " + name for name in removed] + ["-X " + name for name in removed]
    return lines


def apply_restore(run_command, table, lines):
    if lines:
        script = "*%s\n%sCOMMIT\n" % (table, "".join(line + "\n" for line in lines))
        run_checked(run_command, ["iptables-restore", "-w", "--noflush"], data=script, binary_data=True)


class IptablesStep:
    """A ``ChainSet`` made true on the host, one restore per changed table; undone to what was."""

    name = "iptables"

    def __init__(self, run_command, chain_set, lock_path, probed=None):
        """``probed``: {table: TableState} the caller has read already (not read again here)."""
        self.run_command = run_command
        self.chain_set = chain_set
        self.lock_path = lock_path
        self.current, self.target = {}, {}
        for table in chain_set.tables():
            state = (probed or {}).get(table) or TableState.probe(run_command, table)
            names = state.chain_names(chain_set)
            self.target[table] = chain_set.target(table, names)
            self.current[table] = {name: state.state_of(name, self.target[table][name].above) for name in names}
        self.changed = any(restore_lines(self.current[t], self.target[t]) for t in self.current)
        self.before, self.after = _describe(self.current), _describe(self.target)

    def apply(self):
        self._restore(self.target)

    def undo(self):
        self._restore(self.current)

    def _restore(self, wanted):
        """Re-read each table under the lock: the lines go from what is now to ``wanted``."""
        with exclusive_lock(self.lock_path):  # Nova's external "iptables" lock, for other writers
            for table, states in wanted.items():
                now = TableState.probe(self.run_command, table)
                apply_restore(self.run_command, table,
                              restore_lines({name: now.state_of(name, state.above) for name, state in states.items()},
                                            states))


def _describe(tables):
    """{table: {chain: {rules, hooks}}} of the chains that exist, for the diff."""
    described = {}
    for table, states in tables.items():
        present = {name: state.describe() for name, state in states.items() if state.rules is not None}
        if present:
            described[table] = present
    return described
