#!/bin/busybox sh
# /init of the vtdscope real-kernel harness initramfs (scripts/real/mkinitramfs.py
# copies this file to /init).  The same initramfs serves both kernels:
#
#  first kernel  (no /proc/vmcore): load modules, load the capture kernel with
#                kexec -p, bring up virtio-net and e1000e, start DMA load (UDP
#                receive + virtio-blk reads), wait for traffic, crash (sysrq c).
#  capture kernel (/proc/vmcore):   bind only virtio-blk, mount the ext4 dump disk,
#                save the dump three ways with makedumpfile, save dmesg, power off.
#
# Every line meant for the host starts with "VTDSCOPE: " (scripts/real/run-guest.py
# timestamps console lines and keys on these markers).
# Parameters come from the kernel command line:
#   vtd.ports=P0,P1   guest UDP ports for the virtio-net / e1000e sinks (5555,5556)
#   vtd.minrx=N       packets each NIC must have received before the crash (20)
#   vtd.settle=S      seconds of load after that, before the crash (3)

/bin/busybox mkdir -p /proc /sys /dev /tmp /mnt /bin
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

log() { echo "VTDSCOPE: $*"; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }
param() {
	for w in $(cat /proc/cmdline); do
		case $w in "$1="*) echo "${w#*=}"; return ;; esac
	done
	echo "$2"
}
die() {
	log "FAIL: $*"
	sleep 1
	poweroff -f
}
loadmods() {
	for m in $(cat "/lib/modules/$1.list"); do
		insmod "/lib/modules/$m.ko" || log "insmod $m failed"
	done
}
ifname_of() {	# MAC -> interface name
	for d in /sys/class/net/*; do
		[ "$(cat "$d/address")" = "$1" ] && { basename "$d"; return; }
	done
}
rx_packets() { cat "/sys/class/net/$1/statistics/rx_packets" 2>/dev/null || echo 0; }

first_kernel() {
	log "first kernel $(uname -r) up at $(uptime_s)s: $(cat /proc/cmdline)"
	loadmods first
	log "crashkernel: $(grep -i 'crash kernel' /proc/iomem | tr -s ' ' | tr '\n' ';')"
	dmesg | grep -E 'DMAR|DMAR-IR|iommu' | head -n 40 | sed 's/^/VTDSCOPE: first-dmesg: /'

	# capture kernel: same kernel, same initramfs; command line as Debian's
	# kdump-tools builds it (our own minus crashkernel=, plus its three options)
	append=""
	for w in $(cat /proc/cmdline); do
		case $w in crashkernel=*|quiet|loglevel=*) ;; *) append="$append $w" ;; esac
	done
	append="${append# } nr_cpus=1 irqpoll reset_devices"
	kexec -p /boot/vmlinuz --initrd=/boot/initrd.img --append="$append" ||
		die "kexec -p failed"
	[ "$(cat /sys/kernel/kexec_crash_loaded)" = 1 ] || die "capture kernel not loaded"
	rm -f /boot/vmlinuz /boot/initrd.img
	log "capture kernel loaded: $append"

	ports=$(param vtd.ports 5555,5556)
	p0=${ports%,*}
	p1=${ports#*,}
	ip link set lo up
	if0=$(ifname_of 52:54:00:56:74:01)	# virtio-net
	if1=$(ifname_of 52:54:00:56:74:02)	# e1000e
	[ -n "$if0" ] && [ -n "$if1" ] || die "network interfaces missing ($if0/$if1)"
	ip addr add 10.0.2.15/24 dev "$if0" && ip link set "$if0" up || die "$if0 up"
	ip addr add 10.0.3.15/24 dev "$if1" && ip link set "$if1" up || die "$if1 up"
	udp-sink "$p0" "$p1" </dev/null &
	log "net-up virtio-net=$if0 e1000e=$if1 ports=$p0,$p1"

	[ -b /dev/vda ] || die "no /dev/vda"
	(
		while :; do
			dd if=/dev/vda of=/dev/null bs=64k count=512 iflag=direct 2>/dev/null ||
				dd if=/dev/vda of=/dev/null bs=64k count=512 2>/dev/null
		done
	) </dev/null &
	log "disk-load started"

	minrx=$(param vtd.minrx 20)
	b0=$(rx_packets "$if0")
	b1=$(rx_packets "$if1")
	i=0
	while :; do
		r0=$(($(rx_packets "$if0") - b0))
		r1=$(($(rx_packets "$if1") - b1))
		[ "$r0" -ge "$minrx" ] && [ "$r1" -ge "$minrx" ] && break
		i=$((i + 1))
		[ $i -ge 120 ] && die "no UDP traffic (rx $if0=$r0 $if1=$r1)"
		sleep 0.5
	done
	log "traffic flowing: rx $if0=$r0 $if1=$r1"
	sleep "$(param vtd.settle 3)"
	log "crashing at $(uptime_s)s: rx $if0=$(rx_packets "$if0") $if1=$(rx_packets "$if1")"
	echo c >/proc/sysrq-trigger
	die "still alive after sysrq-c"
}

capture_kernel() {
	log "capture kernel $(uname -r) up at $(uptime_s)s"
	dmesg | grep -E 'DMAR|DMAR-IR' | grep -iE 'copied|copy|already enabled' | sed 's/^/VTDSCOPE: capture-dmesg: /'
	# Bind virtio-pci to the virtio-blk disk only: the other devices (virtio-net,
	# e1000e) keep their old, copied context entries and go on DMAing into the
	# crashed kernel's buffers (virtio_pci's probe would reset virtio-net).
	echo 0 >/sys/bus/pci/drivers_autoprobe
	loadmods capture
	blk=""
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = 0x1af4 ] || continue
		case $(cat "$d/device") in 0x1042|0x1001) blk=$(basename "$d") ;; esac
	done
	[ -n "$blk" ] || die "no virtio-blk PCI device"
	# (6.12 builds virtio_pci in: it has probed every virtio device already,
	# resetting virtio-net; the e1000e still DMAs)
	[ -e "/sys/bus/pci/devices/$blk/driver" ] ||
		echo "$blk" >/sys/bus/pci/drivers/virtio-pci/bind || die "bind $blk"
	i=0
	while [ ! -b /dev/vda ]; do
		i=$((i + 1))
		[ $i -ge 100 ] && die "no /dev/vda"
		sleep 0.2
	done
	mount -t ext4 /dev/vda /mnt || die "mount /dev/vda"
	log "dump disk mounted at $(uptime_s)s"

	out=/mnt
	echo "capture_up $(uptime_s)" >$out/capture-times.txt
	# makedumpfile-vtd first, as Fedora's core_collector runs it (kdump-
	# compressed file), while the NICs still DMA into their posted buffers:
	# its messages go to the console too, where the host timestamps them
	# (the CHANGED check compares them with the packets' send times); then
	# plain makedumpfile with the same options, side by side, for the ratio
	t=$(uptime_s)
	VTD_LOG=/dev/console makedumpfile-vtd -l -d 31 --message-level 7 /proc/vmcore \
		$out/vmcore-vtd.kdump >$out/makedumpfile-vtd-kdump.log 2>&1 || log "makedumpfile-vtd -l failed"
	echo "vtd-kdump $t $(uptime_s)" >>$out/capture-times.txt
	log "vmcore-vtd.kdump written at $(uptime_s)s"
	t=$(uptime_s)
	makedumpfile -l -d 31 --message-level 7 /proc/vmcore $out/vmcore-again.kdump \
		>$out/makedumpfile-again.log 2>&1 || log "makedumpfile -l (again) failed"
	echo "kdump-again $t $(uptime_s)" >>$out/capture-times.txt
	makedumpfile --dump-dmesg /proc/vmcore $out/dmesg-crashed.txt >$out/makedumpfile-dmesg.log 2>&1 ||
		log "dump-dmesg failed"
	t=$(uptime_s)
	makedumpfile -l -d 31 --message-level 22 /proc/vmcore $out/vmcore.kdump >$out/makedumpfile-kdump.log 2>&1 ||
		log "makedumpfile -l failed"
	echo "kdump $t $(uptime_s)" >>$out/capture-times.txt
	log "vmcore.kdump written at $(uptime_s)s"
	t=$(uptime_s)
	makedumpfile -F -c -d 31 --message-level 22 /proc/vmcore >$out/vmcore.flat 2>$out/makedumpfile-flat.log ||
		log "makedumpfile -F failed"
	echo "flat $t $(uptime_s)" >>$out/capture-times.txt
	log "vmcore.flat written at $(uptime_s)s"
	t=$(uptime_s)
	makedumpfile -E -d 31 --message-level 22 /proc/vmcore $out/vmcore.elf >$out/makedumpfile-elf.log 2>&1 ||
		log "makedumpfile -E failed"
	echo "elf $t $(uptime_s)" >>$out/capture-times.txt
	log "vmcore.elf written at $(uptime_s)s"
	# makedumpfile-vtd as Debian's kdump-tools runs makedumpfile: the
	# flattened stream
	t=$(uptime_s)
	makedumpfile-vtd -F -c -d 31 --message-level 7 /proc/vmcore >$out/vmcore-vtd.flat \
		2>$out/makedumpfile-vtd-flat.log || log "makedumpfile-vtd -F failed"
	echo "vtd-flat $t $(uptime_s)" >>$out/capture-times.txt
	log "vmcore-vtd.flat written at $(uptime_s)s"

	dmesg >$out/dmesg-capture.txt
	cat /proc/cmdline >$out/cmdline-capture.txt
	echo "done $(uptime_s)" >>$out/capture-times.txt
	umount /mnt || log "umount failed"
	sync
	log "capture-done at $(uptime_s)s"
	poweroff -f
}

if [ -e /proc/vmcore ]; then
	capture_kernel
else
	first_kernel
fi
die "init fell through"
