#!/bin/busybox sh
# /init of the Linux peer guest (tools/linux-peer/README.md). The contract
# (fabric brief, "Linux peer guest contract"): kernel command line
#   console=ttyS0 peer.ip=A.B.C.D/24 peer.mtu=N peer.run=<command, spaces as %20>
# bring up eth0 with that address and MTU, load rdma_rxe and the RDMA CM,
# create rxe0 on eth0, print `PEER: READY`, run the command (if any), print
# `PEER: EXIT <status>` and power off; without peer.run, stay up serving.
/bin/busybox --install -s /bin
export PATH=/usr/bin:/bin
export HOME=/root

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp

# A setup failure still ends in the contract's last line, so a harness
# waiting for it fails fast with the reason instead of timing out.
fail() {
    echo "PEER: SETUP FAILED: $*"
    echo "PEER: EXIT 125"
    poweroff -f
    sleep 60
}

ip_cidr=""
mtu=1500
run=""
for word in $(cat /proc/cmdline); do
    case "$word" in
    peer.ip=*) ip_cidr="${word#peer.ip=}" ;;
    peer.mtu=*) mtu="${word#peer.mtu=}" ;;
    peer.run=*) run="${word#peer.run=}" ;;
    esac
done
[ -n "$ip_cidr" ] || fail "no peer.ip= on the kernel command line"
# %20 is a space and %25 a percent sign; %25 last, so "%2520" stays "%20".
run=$(printf '%s' "$run" | sed -e 's/%20/ /g' -e 's/%25/%/g')

while read -r module; do
    insmod "$module" || fail "insmod $module"
done </etc/peer-modules

ip link set lo up
[ -e /sys/class/net/eth0 ] || fail "no eth0 (is there a virtio-net NIC?)"
ip link set eth0 mtu "$mtu" || fail "MTU $mtu on eth0"
ip addr add "$ip_cidr" dev eth0 || fail "address $ip_cidr"
ip link set eth0 up || fail "eth0 up"
rdma link add rxe0 type rxe netdev eth0 || fail "rdma link add rxe0"

# rxe adds the IPv4 GID (index 1, ::ffff:a.b.c.d) when it sees the address;
# rdma_cm cannot bind before that.
address=${ip_cidr%/*}
gid_hex=$(printf '0000:0000:0000:0000:0000:ffff:%02x%02x:%02x%02x' $(echo "$address" | tr . ' '))
tries=0
until grep -qx "$gid_hex" /sys/class/infiniband/rxe0/ports/1/gids/1 2>/dev/null; do
    tries=$((tries + 1))
    [ $tries -le 100 ] || fail "rxe0 has no GID for $address"
    sleep 0.1
done

echo "PEER: READY"
if [ -z "$run" ]; then
    # Serve: rxe answers in the kernel; keep init alive and quiet.
    while :; do sleep 3600; done
fi
cd /tmp
sh -c "$run"
status=$?
echo "PEER: EXIT $status"
poweroff -f
