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

# /etc/hosts (the host's own name, and with a management network the other hosts' names) and
# an empty resolv.conf, both written by sandbox.py: lookups never wait for a DNS server.
mount --bind "$state/hosts" /etc/hosts
mount --bind "$state/resolv.conf" /etc/resolv.conf

if [ -d "$state/etc-ssh" ]; then
    # With --ssh: the host's own /etc/ssh (sshd config, host key, root's keys and known hosts),
    # its own empty /root/.ssh over the machine's, and its own login records, so sshd and ssh
    # inside the host never read or write the machine's.
    mount --bind "$state/etc-ssh" /etc/ssh
    if [ -d /root/.ssh ]; then
        mount --bind "$state/root-ssh" /root/.ssh
    fi
    for record in wtmp btmp lastlog; do
        if [ -f "/var/log/$record" ]; then
            : > "$state/log/$record"
            mount --bind "$state/log/$record" "/var/log/$record"
        fi
    done
fi

ip link set lo up
libvirtd --daemon --pid-file /run/libvirtd.pid
exec sleep infinity
