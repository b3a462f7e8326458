#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: novalite.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: libvirt_domain
short_description: Define, start, stop and remove a batch of instances' libvirt domains as Nova's libvirt driver did
version_added: 0.1.0
description:
  - Does what C(LibvirtDriver.spawn) in Nova's C(nova/virt/libvirt/driver.py) did (C(to_xml), C(_create_domain),
    C(_wait_for_boot)) for every instance of O(instances) in one call on the compute host. It builds the domain XML
    (Nova's C(libvirt.xml)), writes C(<instance_dir>/libvirt.xml) atomically, creates an empty C(console.log),
    defines the domain, starts it and waits for it.
  - The domains of the batch are started at once and paused (C(VIR_DOMAIN_START_PAUSED)), then resumed together,
    as Nova's C(_create_guest_with_network) started a guest paused until its network was ready; so no booting
    guest takes the CPU from libvirt's filter setup of the next. Domains to destroy are destroyed at once too.
  - Idempotent by meaning, not by text. libvirt's own inactive definition (C(XMLDesc) with
    C(VIR_DOMAIN_XML_INACTIVE)) is parsed into the same classes that build the wanted one, keeping only what
    this module sets, so what libvirt adds (PCI addresses, controllers, aliases, emulator, serial targets, the
    implicit PS/2 devices) never counts as a change. libvirt's uuid is kept when the spec gives none.
    A real change (memory, vcpus, a NIC, a disk path) shows a diff and redefines; a running guest keeps
    running on the old definition until it is restarted (RV(instances[].restart_required)).
  - Each NIC is a bridge interface (virtio) whose C(filterref) names C(nova-instance-<name>-<mac without colons>)
    and carries the parameters C(IP), C(DHCPSERVER), C(PROJNET) and C(PROJMASK) from O(instances[].network_info),
    as Nova's libvirt VIF driver set them. Define those filters first with M(novalite.compute.nwfilter); starting
    a domain whose filter is missing fails before anything is changed.
  - Any failure while applying (a failed start, a guest that is not up within O(wait_timeout), an error writing the
    instance directory, any libvirt error) undoes everything this call did (domains it defined are undefined,
    previous definitions restored, guests it started destroyed, files it wrote restored or removed). The failure
    names its step in RV(failed_step) and lists what was undone in RV(rolled_back) and what could not be undone in
    RV(rollback_failures); a failed start carries libvirt's message and the last lines of
    C(/var/log/libvirt/qemu/<name>.log).
  - Input is checked before anything changes, for the whole batch.
author:
  - novalite.compute contributors (@novalite)
requirements:
  - libvirt-python (Debian python3-libvirt) and lxml and netaddr on the compute host
  - iproute2 (C(ip)) on the compute host when O(wait_for=lease)
options:
  uri:
    description: libvirt connection URI.
    type: str
    default: qemu:///system
  instances:
    description:
      - The instances of this host to act on, each a subset of the instance record plus optional paths.
      - For O(state=shutdown), O(state=destroyed) and O(state=absent) only O(instances[].name) (and, if given,
        O(instances[].uuid) and O(instances[].instance_dir)) is used.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - libvirt name, Nova's C(instance-%08x), also the name of the instance directory (letters, digits, C(_),
            C(.), C(-), starting with a letter or digit; at most 64; not C(_base) or C(locks)).
        type: str
        required: true
      uuid:
        description:
          - The instance uuid. When given it must match the existing domain of that name (and no other domain
            may have it); when left out an existing domain keeps its uuid and a new one gets a random uuid.
        type: str
      display_name:
        description: Shown as the domain's C(<title>); escaped by the XML library. One line, at most 255 characters.
        type: str
      flavor:
        description:
          - The instance's flavor (Nova's instance type) as in the instance record. Only O(instances[].flavor.memory_mb)
            and O(instances[].flavor.vcpus) shape the domain; the other Nova flavor fields are accepted and ignored;
            anything else is refused. Required for O(state=present) and O(state=running).
        type: dict
        suboptions:
          memory_mb:
            description: Memory in MiB, 16 to 16777216 (C(<memory>) is written in KiB, as Nova did).
            type: int
            required: true
          vcpus:
            description: Virtual CPUs, 1 to 255.
            type: int
            required: true
          id: {description: Ignored (Nova flavor field)., type: raw}
          flavorid: {description: Ignored (Nova flavor field)., type: raw}
          name: {description: Ignored (Nova flavor field)., type: str}
          root_gb: {description: Ignored (Nova flavor field)., type: int}
          ephemeral_gb: {description: Ignored (Nova flavor field)., type: int}
          swap: {description: Ignored (Nova flavor field)., type: int}
          rxtx_factor: {description: Ignored (Nova flavor field)., type: float}
          is_public: {description: Ignored (Nova flavor field)., type: bool}
          disabled: {description: Ignored (Nova flavor field)., type: bool}
          vcpu_weight: {description: Ignored (Nova flavor field)., type: int}
          extra_specs: {description: Ignored (Nova flavor field)., type: dict}
      kernel_id:
        description:
          - Set (non-empty) for an AMI-style image; then O(instances[].kernel) defaults to C(<instance_dir>/kernel).
        type: str
      ramdisk_id:
        description:
          - Set (non-empty) for an AMI-style image; then O(instances[].ramdisk) defaults to
            C(<instance_dir>/ramdisk).
        type: str
      instance_dir:
        description: The instance directory (an absolute path). Defaults to C(<instances_path>/<name>).
        type: path
      disk:
        description: Root disk image; must exist. Defaults to C(<instance_dir>/disk). Attached as virtio C(vda).
        type: path
      disk_format:
        description: Format of O(instances[].disk) (Nova's Qcow2 or Raw image backend).
        type: str
        choices: [qcow2, raw]
        default: qcow2
      kernel:
        description:
          - Kernel to boot (must exist). Without a kernel (and no O(instances[].kernel_id)) the guest boots from its
            disk.
        type: path
      ramdisk:
        description: Initial ramdisk (must exist); needs a kernel.
        type: path
      cmdline:
        description:
          - Kernel command line (one line); needs a kernel. With a kernel it defaults to
            V(root=/dev/vda console=ttyS0).
        type: str
      config_drive:
        description:
          - Config drive ISO attached as IDE cdrom C(hdb) (the guest's C(/dev/sr0)); must exist.
          - V(true) means Nova's C(<instance_dir>/disk.config); V(false) or empty means none.
        type: raw
      network_info:
        description:
          - "The instance's VIFs as M(novalite.compute.nova_network) returns them
            (C({id, address, network: {id, label, bridge, subnets: [{cidr, ips: [{address}], gateway, dns,
            meta: {dhcp_server}}], meta}})). From each come the MAC (unicast), the bridge, the filter name and
            the filter parameters C(IP) (first fixed IP of the first IPv4 subnet), C(DHCPSERVER)
            (C(meta.dhcp_server)), C(PROJNET) and C(PROJMASK) (the subnet's cidr). Other keys are ignored."
        type: list
        elements: dict
        default: []
  instances_path:
    description: Nova's C($instances_path), where the instance directories are.
    type: path
    default: /var/lib/novalite/instances
  virt_type:
    description:
      - Domain type. V(auto) picks V(kvm) only when C(/dev/kvm) opens read-write, the CPU has the C(vmx) or C(svm)
        flag and libvirt reports kvm domain capabilities; otherwise V(qemu) (TCG). A paravirtual KVM that has
        C(/dev/kvm) but cannot run a guest therefore gets V(qemu).
    type: str
    choices: [auto, qemu, kvm]
    default: auto
  state:
    description:
      - V(present) defined (not started; a running guest keeps running).
      - V(running) defined and running (a paused guest is resumed).
      - V(shutdown) ACPI power button, then wait up to O(shutdown_timeout).
      - V(destroyed) powered off at once.
      - V(absent) powered off and undefined.
      - V(shutdown), V(destroyed) and V(absent) act only on domains that exist.
    type: str
    choices: [present, running, shutdown, destroyed, absent]
    default: present
  autostart:
    description: Start the domain when libvirtd starts. Left as it is when not given.
    type: bool
  graphics_listen:
    description: VNC listen address (an IP address); the default keeps VNC to the host itself.
    type: str
    default: 127.0.0.1
  disk_cache:
    description: Cache mode of the root disk.
    type: str
    choices: [none, writethrough, writeback, directsync, unsafe, default]
    default: writeback
  shutdown_timeout:
    description: Seconds to wait for a guest to power off after the ACPI request (O(state=shutdown)).
    type: int
    default: 60
  destroy_after_timeout:
    description: Power off a guest that is still running after O(shutdown_timeout); otherwise fail.
    type: bool
    default: true
  remove_instance_dir:
    description:
      - With O(state=absent), also remove the instance directory (only one inside O(instances_path), never through
        a symlink).
    type: bool
    default: false
  wait_for:
    description:
      - With O(state=running), what to wait for after starting.
      - V(running) the domain is running (Nova's C(_wait_for_boot)).
      - V(lease) every NIC's MAC is seen with an address in the host's neighbour table (complete entries of
        C(/proc/net/arp); libvirt 9.0's C(interfaceAddresses) with the ARP source fails on current kernels).
        dnsmasq puts the client there when it hands out the lease, and the host pokes each fixed IP from
        O(instances[].network_info) (one empty UDP datagram to port 9) so a guest that has its address answers
        ARP. Needs the host to have an address in the subnet (the DHCP-server address on the bridge, as
        nova-network sets up). Stale entries for the addresses of guests started by this call are flushed first
        (C(ip neigh flush to <ip>)). The address seen is returned in RV(instances[].addresses).
      - V(port) a TCP connection from the host to the first NIC's address and O(wait_port) succeeds.
      - V(none) no wait.
    type: str
    choices: [none, running, lease, port]
    default: running
  wait_timeout:
    description: Seconds to wait for O(wait_for), for the whole batch together.
    type: int
    default: 300
  wait_port:
    description: TCP port for O(wait_for=port), 1 to 65535.
    type: int
  assume_prepared:
    description:
      - Only in check mode, for a check of a whole run whose earlier steps (image cache, config drive, network,
        nwfilter) changed nothing because they ran in check mode too. A missing disk, kernel, ramdisk or config
        drive, a missing bridge and a missing per-interface filter are then taken as made by those steps, listed in
        RV(instances[].assumed), instead of failing the check.
      - Outside check mode it has no effect; everything must really be there.
    type: bool
    default: false
notes:
  - In diff mode there is one entry per changed instance for its definition (normalised XML before and after) and
    one for its power state and autostart.
  - Nova's hairpin_mode and the disk images themselves are not this module's work (see
    M(novalite.compute.image_cache)).
seealso:
  - module: novalite.compute.nwfilter
  - module: novalite.compute.image_cache
extends_documentation_fragment:
  - novalite.compute.attributes
"""

EXAMPLES = r"""
- name: Define and boot an instance and wait until dnsmasq has given it its lease
  novalite.compute.libvirt_domain:
    state: running
    wait_for: lease
    instances:
      - name: instance-0000000a
        uuid: b110ed3b-9cc3-4d30-b433-a71090166b2c
        display_name: my vm
        flavor: {name: m1.tiny, memory_mb: 512, vcpus: 1, root_gb: 0}
        kernel_id: "1"
        ramdisk_id: "2"
        network_info:
          - id: 99a3c937-1a0f-48f7-8015-166d7644e9a0
            address: fa:16:3e:5a:f4:23
            network:
              id: e011b388-163b-4080-a083-bb63ebed7f6a
              label: private
              bridge: br100
              subnets:
                - cidr: 10.1.0.0/16
                  ips: [{address: 10.1.0.2}]
                  gateway: {address: 10.1.0.1}
                  dns: [{address: 8.8.4.4}]
                  meta: {dhcp_server: 10.1.0.3}

- name: Boot every instance scheduled to this host in one call
  novalite.compute.libvirt_domain:
    state: running
    wait_for: port
    wait_port: 22
    instances: "{{ novalite_host_instances }}"

- name: Stop gracefully, power off after 30 s
  novalite.compute.libvirt_domain:
    state: shutdown
    shutdown_timeout: 30
    instances: [{name: instance-0000000a}]

- name: Delete, with the instance directory
  novalite.compute.libvirt_domain:
    state: absent
    remove_instance_dir: true
    instances: [{name: instance-0000000a}]
"""

RETURN = r"""
failed_step:
  description: The step that failed while applying; everything this call had done before it was undone.
  returned: when applying failed
  type: str
  sample: starting instance-0000000a
rolled_back:
  description: What was undone after a failure while applying, newest first.
  returned: when applying failed
  type: list
  elements: str
  sample: [destroy instance-00000009, undefine instance-0000000a, undefine instance-00000009]
rollback_failures:
  description: Undos that failed themselves (the host may need a look), as messages; empty when all were undone.
  returned: when applying failed
  type: list
  elements: str
  sample: []
virt_type:
  description: The domain type used (V(qemu) or V(kvm)); null for states that define nothing.
  returned: always
  type: str
  sample: qemu
virt_type_reason:
  description: Why that domain type (V(forced), or what O(virt_type=auto) found); null for states that define nothing.
  returned: always
  type: str
  sample: "auto: the CPU has no vmx/svm flag"
instances:
  description: One entry per instance, in the order of O(instances).
  returned: always
  type: list
  elements: dict
  sample:
    - name: instance-0000000a
      uuid: b110ed3b-9cc3-4d30-b433-a71090166b2c
      state: running
      autostart: false
      changes: [define, write libvirt.xml, start]
      definition: "<domain type=\"qemu\">...</domain>"
      libvirt_xml: /var/lib/novalite/instances/instance-0000000a/libvirt.xml
      addresses: [{mac: "fa:16:3e:5a:f4:23", address: 10.1.0.2}]
      restart_required: false
  contains:
    name:
      description: libvirt name.
      type: str
      returned: always
      sample: instance-0000000a
    uuid:
      description: The domain's uuid (libvirt's for an existing domain); null if it does not exist.
      type: str
      returned: always
      sample: b110ed3b-9cc3-4d30-b433-a71090166b2c
    state:
      description:
        - Power state after the call (predicted in check mode), one of V(running), V(shutoff), V(paused),
          V(crashed), or V(absent).
      type: str
      returned: always
      sample: running
    autostart:
      description: Whether libvirtd starts it at boot, after the call.
      type: bool
      returned: always
      sample: false
    changes:
      description:
        - What was (or in check mode, would be) done, in order, from V(define), V(redefine), V(write libvirt.xml),
          V(autostart on), V(autostart off), V(start), V(resume), V(shutdown), V(destroy),
          V(destroy after shutdown timeout), V(undefine), V(remove instance dir). Empty when nothing changed.
      type: list
      elements: str
      returned: always
      sample: [define, write libvirt.xml, start]
    definition:
      description: The wanted domain XML, as written to C(libvirt.xml); null for states that define nothing.
      type: str
      returned: always
      sample: "<domain type=\"qemu\">\n  <uuid>b110ed3b-9cc3-4d30-b433-a71090166b2c</uuid>\n  ...\n</domain>\n"
    libvirt_xml:
      description: Path of the instance's C(libvirt.xml); null for states that define nothing.
      type: str
      returned: always
      sample: /var/lib/novalite/instances/instance-0000000a/libvirt.xml
    addresses:
      description: With O(wait_for=lease), per NIC the MAC and the address seen for it; empty otherwise.
      type: list
      elements: dict
      returned: always
      sample: [{mac: "fa:16:3e:5a:f4:23", address: 10.1.0.2}]
      contains:
        mac:
          description: The NIC's MAC address.
          type: str
          returned: always
          sample: "fa:16:3e:5a:f4:23"
        address:
          description: The address seen for it in the host's neighbour table (null if none was seen).
          type: str
          returned: always
          sample: 10.1.0.2
    restart_required:
      description: The definition changed while the guest was running; it runs the old one until restarted.
      type: bool
      returned: always
      sample: false
    assumed:
      description:
        - In check mode with O(assume_prepared), what was missing and taken as made by an earlier step (file paths,
          C(bridge <name>), C(nwfilter <name>)); otherwise empty.
      type: list
      elements: str
      returned: always
      sample: [/var/lib/novalite/instances/instance-0000000a/disk, bridge br100]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.novalite.compute.plugins.module_utils.common.host_paths import (
    DEFAULT_INSTANCES_PATH, DEFAULT_LIBVIRT_URI)
from ansible_collections.novalite.compute.plugins.module_utils.common.runner import run_module
from ansible_collections.novalite.compute.plugins.module_utils.virt.connection import VIRT_TYPES
from ansible_collections.novalite.compute.plugins.module_utils.virt.domain import STATES, ensure_domains
from ansible_collections.novalite.compute.plugins.module_utils.virt.guest import DISK_FORMATS
from ansible_collections.novalite.compute.plugins.module_utils.virt.waits import WAIT_KINDS

_IGNORED = {"type": "raw"}
FLAVOR_OPTIONS = dict(
    memory_mb=dict(type="int", required=True), vcpus=dict(type="int", required=True),
    id=_IGNORED, flavorid=_IGNORED, name=dict(type="str"), root_gb=dict(type="int"), ephemeral_gb=dict(type="int"),
    swap=dict(type="int"), rxtx_factor=dict(type="float"), is_public=dict(type="bool"), disabled=dict(type="bool"),
    vcpu_weight=dict(type="int"), extra_specs=dict(type="dict"),
)
INSTANCE_OPTIONS = dict(
    name=dict(type="str", required=True), uuid=dict(type="str"), display_name=dict(type="str"),
    flavor=dict(type="dict", options=FLAVOR_OPTIONS), kernel_id=dict(type="str"), ramdisk_id=dict(type="str"),
    instance_dir=dict(type="path"), disk=dict(type="path"),
    disk_format=dict(type="str", choices=list(DISK_FORMATS), default="qcow2"),
    kernel=dict(type="path"), ramdisk=dict(type="path"), cmdline=dict(type="str"), config_drive=dict(type="raw"),
    network_info=dict(type="list", elements="dict", default=[]),
)
ARGUMENT_SPEC = dict(
    uri=dict(type="str", default=DEFAULT_LIBVIRT_URI),
    instances=dict(type="list", elements="dict", required=True, options=INSTANCE_OPTIONS),
    instances_path=dict(type="path", default=DEFAULT_INSTANCES_PATH),
    virt_type=dict(type="str", choices=list(VIRT_TYPES), default="auto"),
    state=dict(type="str", choices=list(STATES), default="present"),
    autostart=dict(type="bool"),
    graphics_listen=dict(type="str", default="127.0.0.1"),
    disk_cache=dict(type="str", choices=["none", "writethrough", "writeback", "directsync", "unsafe", "default"],
                    default="writeback"),
    shutdown_timeout=dict(type="int", default=60),
    destroy_after_timeout=dict(type="bool", default=True),
    remove_instance_dir=dict(type="bool", default=False),
    wait_for=dict(type="str", choices=list(WAIT_KINDS), default="running"),
    wait_timeout=dict(type="int", default=300),
    wait_port=dict(type="int"),
    assume_prepared=dict(type="bool", default=False),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                           required_if=[("wait_for", "port", ("wait_port",))])
    run_module(module, ensure_domains)


if __name__ == "__main__":
    main()
