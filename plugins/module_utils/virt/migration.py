# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The live_migration module's work: Nova's libvirt live migration (``nova/virt/libvirt/driver.py``).

- ``checked``, on the source (``check_can_live_migrate_source`` and ``_destination``): each domain
  runs here, the target's libvirtd answers at the migration URI with the same hypervisor type and
  a CPU that can run the guest's (``compareHypervisorCPU``, Nova's ``_compare_cpu``), and no domain
  of that name is there; the disk's virtual size and base are returned for the target.
- ``prepared``, on the target (``pre_live_migration``, ``_create_images_and_backing``): the overlay
  image_cache made there (same base) gets the source disk's virtual size, as block migration needs.
- ``migrated``, on the source (``live_migration``, ``_live_migration``): the config drive (a read-only
  cdrom that block migration does not copy) is sent through the target's libvirtd, then
  ``migrateToURI3`` with VIR_MIGRATE_LIVE | PEER2PEER | PERSIST_DEST | UNDEFINE_SOURCE | NON_SHARED_INC
  (only the overlay's own blocks travel; the base is cached on both ends), with the domain XML
  for the target (the interfaces' filter parameters with the target's DHCP server, its
  instance paths). The job is watched until the domain is gone from here, aborted after
  ``completion_timeout``. A failed migration leaves the guest running here (libvirt removes the
  incoming domain), and the config drive sent is deleted again.

Filters, the network and the records on both hosts are the roles' steps around these, as Nova's
``pre_live_migration`` and ``_post_live_migration`` did them around the driver's call.
"""

from __future__ import annotations

import os
import threading
import time

from ansible_collections.novalite.compute.plugins.module_utils.common import validate
from ansible_collections.novalite.compute.plugins.module_utils.common.errors import InvalidInput, NovaliteError
from ansible_collections.novalite.compute.plugins.module_utils.common.instance_dir import MovingInstance
from ansible_collections.novalite.compute.plugins.module_utils.common.rollback import undo_on_failure
from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_checked
from ansible_collections.novalite.compute.plugins.module_utils.image.fetch import C_LOCALE
from ansible_collections.novalite.compute.plugins.module_utils.image.instance_disk import disk_chain
from ansible_collections.novalite.compute.plugins.module_utils.virt import config
from ansible_collections.novalite.compute.plugins.module_utils.virt.connection import (
    LibvirtFailed, call, error_text, find_domain, libvirt, libvirt_connection, power_state, require_libraries)
from ansible_collections.novalite.compute.plugins.module_utils.virt.guest import parse_network_info
from ansible_collections.novalite.compute.plugins.module_utils.virt.remote_files import RemoteDirectory, remove_sent

STATES = ("checked", "prepared", "migrated")
POLL_SECONDS = 0.5
CONFIG_DRIVE = "disk.config"


def live_flags():
    """Nova's live_migration_flag with block migration (block_migration_flag): storage is not shared."""
    return (libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER | libvirt.VIR_MIGRATE_PERSIST_DEST
            | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE | libvirt.VIR_MIGRATE_NON_SHARED_INC)


def ensure_state(module):
    """``run_module`` entry point of live_migration."""
    require_libraries()
    params = module.params
    specs = [LiveSpec(raw, index, params) for index, raw in enumerate(params["instances"])]
    validate.reject_duplicates([spec.name for spec in specs], "instances: name")
    if params["state"] == "checked":
        return check_sources(params, specs)
    if params["state"] == "prepared":
        return prepare_targets(module, specs)
    return LiveMigration(params, specs, module.check_mode).run()


class LiveSpec(MovingInstance):
    def __init__(self, raw, index, params):
        super().__init__(raw, index, params["instances_path"], params.get("target_instances_path"))
        what = "instances[%d]" % index
        address = raw.get("migration_address")
        self.migration_uri = "tcp://%s" % validate.ip_address(address, what + ".migration_address") \
            if address else None
        self.vifs = parse_network_info(raw.get("network_info") or [], what + ".network_info")
        self.disk = raw.get("disk") or {}
        if params["state"] != "prepared" and not (self.target_host and self.target_uri):
            raise InvalidInput("%s: target_host and target_uri are needed to reach the target" % what)


# --- checked: the source ----------------------------------------------------------------------

def check_sources(params, specs):
    results = []
    with libvirt_connection(params["uri"], read_only=True) as conn:
        targets = {}
        for spec in specs:
            domain = find_domain(conn, spec.name)
            state = power_state(domain, spec.name) if domain is not None else "absent"
            if state != "running":
                raise InvalidInput("%s is %s on this host: a live migration needs it running" % (spec.what, state))
            if spec.target_uri not in targets:
                targets[spec.target_uri] = _open_target(spec)
            target = targets[spec.target_uri]
            results.append(_check_one(conn, domain, target, spec))
        for target in targets.values():
            target.close()
    return {"changed": False, "instances": results}


def _open_target(spec):
    try:
        return libvirt.open(spec.target_uri)
    except libvirt.libvirtError as exc:
        raise LibvirtFailed("cannot reach libvirt on %s at %s: %s" % (spec.target_host, spec.target_uri,
                                                                      error_text(exc)), uri=spec.target_uri) from exc


def _check_one(conn, domain, target, spec):
    source_type, target_type = conn.getType(), call("asking %s its hypervisor" % spec.target_host, target.getType)
    if source_type != target_type:
        raise InvalidInput("%s: %s runs %s and this host %s: a live migration needs the same hypervisor"
                           % (spec.what, spec.target_host, target_type, source_type))
    if find_domain(target, spec.name) is not None:
        raise InvalidInput("%s: a domain of that name exists on %s already" % (spec.what, spec.target_host))
    xml = call("reading %s" % spec.name, domain.XMLDesc, 0)
    cpu = compare_cpu(target, xml, spec)
    chain = disk_chain(spec.file("disk"))
    if chain.backing_file and chain.base_root_gb is None:
        raise InvalidInput("%s: its disk is backed by %s, which is not a _base file the target can cache"
                           % (spec.what, chain.backing_file))
    return {"name": spec.name, "uuid": spec.uuid, "state": "running", "disk": chain.as_dict(),
            "config_drive": os.path.isfile(spec.file("config_drive")), "cpu": cpu,
            "hypervisor_type": source_type}


def compare_cpu(target, domain_xml, spec):
    """Nova's _compare_cpu: can the target's hypervisor run the guest's CPU? Its answer, in words."""
    root = config.etree.fromstring(domain_xml.encode("utf-8"))
    cpu = root.find("cpu")
    if cpu is None or cpu.get("mode", "custom") != "custom" or cpu.find("model") is None:
        return "not compared (the guest's CPU is the host's: %s)" % (cpu.get("mode") if cpu is not None else "none")
    os_type = root.find("os/type")
    answer = call("comparing the CPU of %s with %s" % (spec.name, spec.target_host), target.compareHypervisorCPU,
                  None, os_type.get("arch") if os_type is not None else None, None, root.get("type"),
                  config.etree.tostring(cpu, encoding="unicode"), 0)
    if answer == libvirt.VIR_CPU_COMPARE_INCOMPATIBLE:
        raise InvalidInput("%s: the CPU of %s cannot run the guest's CPU (%s)"
                           % (spec.what, spec.target_host, cpu.findtext("model")))
    return {libvirt.VIR_CPU_COMPARE_IDENTICAL: "identical", libvirt.VIR_CPU_COMPARE_SUPERSET: "superset"}.get(
        answer, str(answer))


# --- prepared: the target ---------------------------------------------------------------------

def prepare_targets(module, specs):
    """The disk image_cache made gets the source disk's virtual size, on the same base."""
    assume = module.check_mode and module.params.get("assume_prepared")
    qemu_img = module.get_bin_path("qemu-img", required=True)
    results = []
    for spec in specs:
        wanted = validate.whole_number(spec.disk.get("virtual_size"), spec.what + " disk.virtual_size", 1)
        path = spec.file("disk")
        result = {"name": spec.name, "uuid": spec.uuid, "changes": [], "virtual_size": wanted}
        results.append(result)
        if not os.path.isfile(path):
            if not assume:
                raise InvalidInput("%s: no disk at %s (image_cache makes it before this step)" % (spec.what, path))
            result.update(assumed=[path], changes=["grow the disk to %d bytes" % wanted])
            continue
        chain = disk_chain(path)
        if chain.base_name != spec.disk.get("base_name"):
            raise InvalidInput("%s: the disk here is backed by %s, the source's by %s" % (
                spec.what, chain.base_name, spec.disk.get("base_name")))
        if chain.virtual_size > wanted:
            raise InvalidInput("%s: the disk here is %d bytes, larger than the source's %d"
                               % (spec.what, chain.virtual_size, wanted))
        if chain.virtual_size < wanted:
            result["changes"].append("grow the disk to %d bytes" % wanted)
    if not module.check_mode:
        for spec, result in zip(specs, results):
            if result["changes"]:
                run_checked(module.run_command, [qemu_img, "resize", "-q", "-f", "qcow2", spec.file("disk"),
                                                 str(result["virtual_size"])], environ_update=C_LOCALE)
    return {"changed": any(r["changes"] for r in results), "instances": results,
            "diff": {"before": {}, "after": {r["name"]: r["changes"] for r in results if r["changes"]}}}


# --- migrated: the source ---------------------------------------------------------------------

class LiveMigration:
    """One instance after the other (Nova's max_concurrent_live_migrations=1); the first failure
    stops the batch: what migrated before it stays migrated, what comes after is not tried."""

    def __init__(self, params, specs, check_mode, clock=time.monotonic, sleep=time.sleep):
        self.params = params
        self.specs = specs
        self.check_mode = check_mode
        self.clock = clock
        self.sleep = sleep

    def run(self):
        results, migrated = [], []
        with libvirt_connection(self.params["uri"]) as conn:
            for spec in self.specs:
                result = self._plan(conn, spec)
                results.append(result)
                if self.check_mode or not result["changes"]:
                    continue
                try:
                    self._migrate(conn, spec, result)
                except NovaliteError as exc:
                    exc.msg = "live migration of %s to %s failed: %s%s" % (
                        spec.name, spec.target_host, exc.msg,
                        " (migrated before it, and kept there: %s)" % ", ".join(migrated) if migrated else "")
                    exc.details.update(migrated=list(migrated), failed=spec.name, instances=results)
                    raise
                migrated.append(spec.name)
        return {"changed": any(r["changes"] for r in results), "instances": results, "migrated": migrated,
                "diff": {"before": {r["name"]: "on this host" for r in results if r["changes"]},
                         "after": {r["name"]: "on %s" % r["target_host"] for r in results if r["changes"]}}}

    def _plan(self, conn, spec):
        result = {"name": spec.name, "uuid": spec.uuid, "target_host": spec.target_host, "changes": []}
        domain = find_domain(conn, spec.name)
        if domain is None:
            with libvirt_connection(spec.target_uri, read_only=True) as target:
                there = find_domain(target, spec.name)
                if there is None or power_state(there, spec.name) != "running":
                    raise InvalidInput("%s is neither here nor running on %s" % (spec.what, spec.target_host))
            return result  # migrated already: a re-run
        state = power_state(domain, spec.name)
        if state != "running":
            raise InvalidInput("%s is %s on this host: a live migration needs it running" % (spec.what, state))
        if os.path.isfile(spec.file("config_drive")):
            result["changes"].append("send disk.config to %s:%s" % (spec.target_host, spec.target_dir))
        result["changes"].append("live-migrate to %s" % spec.target_host)
        return result

    def _migrate(self, conn, spec, result):
        domain = find_domain(conn, spec.name)
        params = {
            libvirt.VIR_MIGRATE_PARAM_DEST_XML: target_xml(
                call("reading %s" % spec.name, domain.XMLDesc, libvirt.VIR_DOMAIN_XML_MIGRATABLE), spec),
            libvirt.VIR_MIGRATE_PARAM_PERSIST_XML: target_xml(call(
                "reading %s" % spec.name, domain.XMLDesc,
                libvirt.VIR_DOMAIN_XML_MIGRATABLE | libvirt.VIR_DOMAIN_XML_INACTIVE), spec),
            libvirt.VIR_MIGRATE_PARAM_MIGRATE_DISKS: copied_disks(domain),
        }
        if spec.migration_uri:
            params[libvirt.VIR_MIGRATE_PARAM_URI] = spec.migration_uri
        with libvirt_connection(spec.target_uri) as target, undo_on_failure() as rollback:
            if os.path.isfile(spec.file("config_drive")):
                with rollback.step("sending the config drive of %s to %s" % (spec.name, spec.target_host)):
                    with RemoteDirectory(target, spec.target_dir, "%s to %s" % (spec.name, spec.target_host),
                                         create=False) as directory:
                        if directory.missing:
                            raise InvalidInput("%s: %s does not exist on %s (image_cache and live_migration "
                                               "state=prepared make it there first)"
                                               % (spec.what, spec.target_dir, spec.target_host))
                        rollback.record("delete the config drive sent to %s" % spec.target_host,
                                        lambda: remove_sent(target, spec.target_dir, directory.sent, False,
                                                            spec.name))
                        result["sent"] = [directory.send(spec.file("config_drive"), CONFIG_DRIVE)]
            with rollback.step("live-migrating %s to %s" % (spec.name, spec.target_host)):
                started = self.clock()
                self._run_job(domain, spec, params)
                result["seconds"] = round(self.clock() - started, 2)
                result["stats"] = _completed_stats(target, spec)

    def _run_job(self, domain, spec, params):
        """migrateToURI3 in a thread, watched here (Nova's _live_migration_monitor) until it ends."""
        outcome = {}

        def migrate():
            try:
                domain.migrateToURI3(spec.target_uri, params, live_flags())
            except libvirt.libvirtError as exc:
                outcome["error"] = exc

        worker = threading.Thread(target=migrate, name="migrate-%s" % spec.name, daemon=True)
        worker.start()
        deadline = self.clock() + self.params["completion_timeout"]
        aborted = False
        while worker.is_alive():
            worker.join(POLL_SECONDS)
            if worker.is_alive() and not aborted and self.clock() > deadline:
                aborted = True
                try:
                    domain.abortJob()
                except libvirt.libvirtError:
                    pass  # it may have ended meanwhile; the outcome says how
        if "error" in outcome:
            _resume_if_paused(domain, spec)
            reason = "aborted after %ss (completion_timeout)" % self.params["completion_timeout"] \
                if aborted else error_text(outcome["error"])
            raise LibvirtFailed(reason, libvirt_error_code=outcome["error"].get_error_code())
        if _still_here(domain):
            raise NovaliteError("the migration ended and %s is still defined here" % spec.name)


def _resume_if_paused(domain, spec):
    """A migration that failed after pausing the guest for its last round leaves it paused."""
    try:
        if power_state(domain, spec.name) == "paused":
            domain.resume()
    except (libvirt.libvirtError, NovaliteError):
        pass


def _still_here(domain):
    try:
        domain.state()
    except libvirt.libvirtError:
        return False
    return True


def _completed_stats(target, spec):
    """libvirt's statistics of the finished job, as the target keeps them (downtime in ms)."""
    domain = find_domain(target, spec.name)
    try:
        stats = domain.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED)
    except libvirt.libvirtError:
        return {}
    kept = ("time_elapsed", "downtime", "setup_time", "data_total", "memory_iteration", "memory_dirty_rate",
            "disk_total")
    return {key: stats[key] for key in kept if key in stats}


def copied_disks(domain):
    """The targets of the writable file disks (block migration copies them; a read-only cdrom is sent)."""
    root = config.etree.fromstring(call("reading the disks", domain.XMLDesc, 0).encode("utf-8"))
    return [disk.find("target").get("dev") for disk in root.findall("devices/disk")
            if disk.get("device", "disk") == "disk" and disk.find("readonly") is None and disk.find("target") is not None]


def target_xml(xml, spec):
    """The domain XML for the target: each interface's filter parameters from the target's network
    info (its DHCP server), and the instance's paths under the target's instances_path."""
    root = config.etree.fromstring(xml.encode("utf-8"))
    by_mac = {vif.mac: vif for vif in spec.vifs}
    for interface in root.findall("devices/interface"):
        mac = interface.find("mac")
        filterref = interface.find("filterref")
        vif = by_mac.get(mac.get("address").lower()) if mac is not None else None
        if vif is None or filterref is None:
            continue
        for parameter in filterref.findall("parameter"):
            filterref.remove(parameter)
        for name, value in sorted(vif.filter_parameters().items()):
            config.etree.SubElement(filterref, "parameter", name=name, value=value)
    if spec.target_dir != spec.instance_dir:
        _move_paths(root, spec.instance_dir + "/", spec.target_dir + "/")
    return config.etree.tostring(root, encoding="unicode")


def _move_paths(root, old, new):
    for element, attribute in ([(source, "file") for source in root.iter("source")]
                               + [(source, "path") for source in root.iter("source")]):
        value = element.get(attribute)
        if value and value.startswith(old):
            element.set(attribute, new + value[len(old):])
    for tag in ("kernel", "initrd"):
        element = root.find("os/" + tag)
        if element is not None and element.text and element.text.startswith(old):
            element.text = new + element.text[len(old):]
