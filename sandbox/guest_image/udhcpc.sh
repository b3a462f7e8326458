#!/bin/sh
# udhcpc event hook (/etc/udhcpc.sh). busybox udhcpc only reports a lease via
# $ip/$subnet/$router/$dns; applying it is this script's job.
case "$1" in
deconfig)
	ip addr flush dev "$interface"
	ip link set "$interface" up
	;;
bound|renew)
	# Re-setting an unchanged address is a no-op, so renewals keep connections.
	ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}" up
	if [ -n "$router" ]; then
		ip route replace default via "${router%% *}" dev "$interface"
	fi
	: > /etc/resolv.conf
	[ -n "$domain" ] && echo "search $domain" >> /etc/resolv.conf
	for server in $dns; do
		echo "nameserver $server" >> /etc/resolv.conf
	done
	echo "$ip" > /run/lease
	echo "lease $ip $(cat "/sys/class/net/$interface/address")"
	;;
esac
exit 0
