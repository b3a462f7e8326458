#!/bin/sh
# /init of the novalite test guest. It stays PID 1 for the guest's whole life
# (no switch_root). Every milestone is printed as one line on the console
# (ttyS0), which the tests read from the serial log; keep the formats stable.
export PATH=/bin

MAC=none
IP=none

mount_basics() {
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev
	# Kernel chatter would interleave with our lines on the serial console.
	dmesg -n 4
	ip link set lo up
	hostname novalite-guest
}

load_modules() {
	failed=
	for module in $(cat /lib/modules/load-order); do
		insmod "/lib/modules/$module.ko" 2>/dev/null || failed="$failed $module"
	done
	if [ -z "$failed" ]; then
		echo "novalite-guest modules ok"
	else
		echo "novalite-guest modules failed:$failed"
	fi
}

# ACPI power button (virDomainShutdown / qemu system_powerdown): busybox acpid
# reads the button's evdev node and runs /etc/acpi/PWRF/00000080.
start_acpid() {
	mkdir -p /etc/acpi/PWRF
	cat > /etc/acpi/PWRF/00000080 <<-'EOF'
	#!/bin/sh
	echo "novalite-guest acpi power button: powering off" > /dev/console
	sync
	poweroff -f
	EOF
	chmod 755 /etc/acpi/PWRF/00000080
	if acpid -l /var/log/acpid.log; then
		echo "novalite-guest acpid ok"
	else
		echo "novalite-guest acpid failed"
	fi
}

# What the guest was given, as it sees it: a resize changes it.
report_memory() {
	echo "memory $(sed -n 's/^MemTotal: *\([0-9]*\) kB$/\1/p' /proc/meminfo) kB vcpus=$(grep -c '^processor' /proc/cpuinfo)"
}

report_disk() {
	[ -b /dev/vda ] || return 0
	mkdir -p /mnt/disk
	size=$(( $(cat /sys/block/vda/size) * 512 ))
	if mount -t ext4 -o ro /dev/vda /mnt/disk 2>/dev/null; then
		echo "disk $(cat /mnt/disk/novalite-disk-id 2>/dev/null) size=$size"
		# the filesystem's own size: it grows when a resize grows the disk and its filesystem
		echo "disk-fs size=$(( $(df -k /mnt/disk | sed -n '2s/^[^ ]* *\([0-9]*\).*/\1/p') * 1024 ))"
		umount /mnt/disk
	else
		echo "disk unreadable size=$size"
	fi
}

wait_for() { # wait_for TEST_ARGS... : poll up to $WAIT tenths of a second
	n=0
	until test "$@"; do
		n=$((n + 1))
		[ "$n" -gt "$WAIT" ] && return 1
		usleep 100000
	done
}

# udhcpc keeps running in the background so it renews; /etc/udhcpc.sh sets the
# address, prints "lease IP MAC" and records the address in /run/lease.
start_dhcp() {
	WAIT=50 wait_for -e /sys/class/net/eth0 || { echo "lease none none"; return; }
	MAC=$(cat /sys/class/net/eth0/address)
	ip link set eth0 up
	udhcpc -f -i eth0 -s /etc/udhcpc.sh -t 5 -T 2 -A 3 >/dev/console 2>&1 &
	if WAIT=600 wait_for -s /run/lease; then
		IP=$(cat /run/lease)
	else
		echo "lease none $MAC"
	fi
}

# Top-level string field of a one-object JSON file. Nested objects and arrays
# are cut out first (innermost first) so e.g. keys[].name cannot match "name".
json_field() { # json_field FILE KEY
	tr -d '\n' < "$1" | sed -e 's/^[^{]*{//' -e 's/}[^}]*$//' \
		-e ':a' -e 's/{[^{}]*}//g' -e 's/\[[^][]*\]//g' -e 'ta' |
		sed -n "s/.*\"$2\": *\"\([^\"]*\)\".*/\1/p"
}

# Values of the "public_keys" object, one per line (a trailing \n escape dropped).
json_public_keys() {
	tr -d '\n' < "$1" | sed -n 's/.*"public_keys": *{\([^}]*\)}.*/\1/p' |
		grep -o '"[^"]*": *"[^"]*"' | sed -e 's/^"[^"]*": *"//' -e 's/"$//' -e 's/\\n$//'
}

config_drive() {
	WAIT=50 wait_for -b /dev/sr0
	mkdir -p /mnt/config
	# ISO 9660 volume id: 32 bytes at offset 32808 (sector 16, byte 40).
	label=$(dd if=/dev/sr0 bs=8 skip=4101 count=4 2>/dev/null | tr -d ' \0')
	if [ "$label" != config-2 ] || ! mount -t iso9660 -o ro /dev/sr0 /mnt/config 2>/dev/null; then
		echo "config-drive none"
		return
	fi
	dir=/mnt/config/openstack/latest
	if [ -f "$dir/meta_data.json" ]; then
		meta=$dir/meta_data.json
		uuid=$(json_field "$meta" uuid)
		name=$(json_field "$meta" name)
		host=$(json_field "$meta" hostname)
		[ -n "$host" ] && hostname "$host"
		echo "config-drive uuid=$uuid hostname=$host"
		echo "config-drive name=$name"
		mkdir -p /root/.ssh
		json_public_keys "$meta" > /root/.ssh/authorized_keys
		chmod 600 /root/.ssh/authorized_keys
		echo "config-drive public_keys=$(grep -c . /root/.ssh/authorized_keys)"
		grep -q '"admin_pass"' "$meta" && echo "config-drive admin_pass=set"
	fi
	[ -f "$dir/network_data.json" ] && echo "config-drive network_data=present"
	[ -f "$dir/user_data" ] && cp "$dir/user_data" /tmp/user-data
	umount /mnt/config
}

# After DHCP and HTTP, as cloud-init runs user scripts late; a long-running script
# (a test that claims another address, say) must not keep the ports closed.
run_user_data() {
	if [ -f /tmp/user-data ] && [ "$(head -c 2 /tmp/user-data)" = '#!' ]; then
		chmod 700 /tmp/user-data
		timeout 120 /tmp/user-data </dev/null >/dev/console 2>&1
		echo "user-data exit=$?"
	fi
}

serve_http() {
	echo "novalite-guest $(hostname) $IP $MAC" > /www/index.html
	# Port 80 plays "open in the security group", 8080 "closed".
	httpd -p 80 -h /www
	httpd -p 8080 -h /www
}

echo "novalite-guest init"
mount_basics
load_modules
start_acpid
report_memory
report_disk
start_dhcp
config_drive
serve_http
echo "novalite-guest ready"
run_user_data
# PID 1 must never exit; the foreground wait also reaps orphaned children.
while :; do sleep 3600; done
