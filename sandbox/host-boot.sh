#!/bin/sh
# Boots one simulated compute host. Runs as: ip netns exec NS unshare --mount --uts
# --propagation private sh host-boot.sh STATE_DIR HOSTNAME
# so every mount below is private to this host, and the host keeps its own libvirtd,
# sockets, domains, nwfilters, logs, facts and instances. The shell ends as the
# namespace anchor (`sleep`), whose pid the sandbox records and enters.
set -eu
state=$1
hostname "$2"

bind() {  # bind STATE_SUBDIR TARGET
    mkdir -p "$state/$1" "$2"
    mount --bind "$state/$1" "$2"
}

bind run /run
mkdir -p /run/lock /run/libvirt
bind etc/libvirt /etc/libvirt
bind lib/libvirt /var/lib/libvirt
bind log/libvirt /var/log/libvirt
bind cache/libvirt /var/cache/libvirt
bind facts.d /etc/ansible/facts.d
bind etc/sysctl.d /etc/sysctl.d  # host preparation persists sysctls here, not on the machine
bind lib/novalite /var/lib/novalite

# The host's own name must resolve locally, as on any Debian host: libvirtd looks it up on
# every domain start and would otherwise wait 10 s for a DNS server no namespace can reach.
printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n' "$2" > "$state/hosts"
mount --bind "$state/hosts" /etc/hosts
# No resolver: lookups of other names fail at once instead of timing out.
printf '# sandbox host: no DNS resolver\n' > "$state/resolv.conf"
mount --bind "$state/resolv.conf" /etc/resolv.conf

ip link set lo up
libvirtd --daemon --pid-file /run/libvirtd.pid
exec sleep infinity
