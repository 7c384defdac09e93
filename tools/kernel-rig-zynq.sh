#!/usr/bin/env bash
# The engine's ground truth: build the rig's Linux 6.1 (Debian's linux-source-6.1) for ARM, boot it
# on QEMU's xilinx-zynq-a9 (Cortex-A9, a PL330 at 0xf8003000 driven by drivers/dma/pl330.c), run
# dmatest and the client-bug modules of tools/kernel-rig-zynq/bugs/, and save the console log.
# Optional, never part of the tests or CI. Outputs go to $RIG (default ~/.cache/dmalab-kernel-rig-zynq).
#   bash tools/kernel-rig-zynq.sh                  # all stages: deps unpack config kernel initramfs run
#   bash tools/kernel-rig-zynq.sh run              # boot again (rebuilds the bug modules)
#   nice -n 10 bash tools/kernel-rig-zynq.sh > ~/rig-zynq.log 2>&1 &   # the kernel takes ~15 min on 2 cores
# The config is tinyconfig + tools/kernel-rig-zynq.config; the guest's /init is
# tools/kernel-rig-zynq/init (busybox from Debian's busybox-static:armhf). Results are recorded in
# docs/kernel-6.1-measured.md.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
RIG=${RIG:-$HOME/.cache/dmalab-kernel-rig-zynq}
SRC=$RIG/linux-source-6.1
FRAG=$HERE/kernel-rig-zynq.config
JOBS=${JOBS:-$(nproc)}
TIMEOUT=${TIMEOUT:-900}
MK=(make -C "$SRC" ARCH=arm CROSS_COMPILE=arm-linux-gnueabihf-)
log() { echo "[kernel-rig-zynq $(date +%H:%M:%S)] $*"; }

stage_deps() {
    export DEBIAN_FRONTEND=noninteractive
    dpkg --add-architecture armhf
    apt-get update
    apt-get install -y --no-install-recommends qemu-system-arm linux-source-6.1 gcc-arm-linux-gnueabihf \
        binutils-arm-linux-gnueabihf libc6-dev-armhf-cross build-essential bc bison flex libssl-dev \
        cpio xz-utils kmod python3 gzip
    mkdir -p "$RIG"
    (cd "$RIG" && rm -f busybox-static_*.deb && apt-get download busybox-static:armhf)
}

stage_unpack() {
    mkdir -p "$RIG"
    [ -f "$SRC/Makefile" ] && { log "$SRC already unpacked"; return; }
    tar -C "$RIG" -xf /usr/src/linux-source-6.1.tar.xz
}

fragment_lines() { sed 's/#.*//; s/[[:space:]]//g; /^$/d' "$FRAG"; }

stage_config() {
    "${MK[@]}" tinyconfig >/dev/null
    # Some options appear only once their dependencies are on: apply the fragment a few times.
    local line key val
    for _ in 1 2 3; do
        while read -r line; do
            key=${line%%=*}; key=${key#CONFIG_}; val=${line#*=}
            case $val in
                y) "$SRC/scripts/config" --file "$SRC/.config" --enable "$key" ;;
                m) "$SRC/scripts/config" --file "$SRC/.config" --module "$key" ;;
                n) "$SRC/scripts/config" --file "$SRC/.config" --disable "$key" ;;
                *) "$SRC/scripts/config" --file "$SRC/.config" --set-val "$key" "$val" ;;
            esac
        done < <(fragment_lines)
        "${MK[@]}" olddefconfig >/dev/null
    done
    local bad=0 got
    while read -r line; do
        key=${line%%=*}; val=${line#*=}
        got=$(grep "^$key=" "$SRC/.config" | cut -d= -f2- || true)
        if [ "$val" = n ]; then [ -z "$got" ] || { echo "CONFIG MISMATCH: $key wanted n"; bad=1; }
        elif [ "$got" != "$val" ]; then echo "CONFIG MISMATCH: $key wanted $val got '${got:-unset}'"; bad=1; fi
    done < <(fragment_lines)
    [ $bad = 0 ] || exit 1
    log "config OK"
}

stage_kernel() {
    "${MK[@]}" -j"$JOBS" zImage modules xilinx/zynq-zc702.dtb 2>/dev/null || "${MK[@]}" -j"$JOBS" zImage modules zynq-zc702.dtb
    "${MK[@]}" -j"$JOBS" modules_prepare
    ls -la "$SRC/arch/arm/boot/zImage"
    log "kernel OK"
}

stage_initramfs() {
    local base=$RIG/initramfs-base app
    rm -rf "$base" "$RIG/busybox"
    mkdir -p "$base"/{bin,sbin,etc,proc,sys,dev,tmp,root,modules,usr/bin,usr/sbin} "$RIG/busybox"
    dpkg-deb -x "$RIG"/busybox-static_*armhf.deb "$RIG/busybox"
    cp "$RIG/busybox/bin/busybox" "$base/bin/busybox"
    # The applet list, from the x86 busybox's list when the armhf one cannot run here.
    for app in $(qemu-arm "$base/bin/busybox" --list 2>/dev/null || busybox --list 2>/dev/null ||
                 echo sh mount insmod rmmod cat echo dmesg sleep poweroff reboot ls sed grep cut tr basename sort); do
        [ "$app" = busybox ] || ln -sf busybox "$base/bin/$app"
    done
    log "initramfs base OK"
}

stage_run() {
    local work=$RIG/work d
    rm -rf "$work"; mkdir -p "$work/bugs"
    cp -a "$RIG/initramfs-base" "$work/root"
    install -m 0755 "$HERE/kernel-rig-zynq/init" "$work/root/init"
    cp "$SRC/drivers/dma/dmatest.ko" "$work/root/modules/"
    for d in "$HERE"/kernel-rig-zynq/bugs/*/; do
        [ -d "$d" ] || continue
        cp -a "$d" "$work/bugs/"
        "${MK[@]}" M="$work/bugs/$(basename "$d")" modules > "$work/build-$(basename "$d").log" 2>&1 ||
            { cat "$work/build-$(basename "$d").log"; exit 1; }
        cp "$work/bugs/$(basename "$d")"/*.ko "$work/root/modules/"
    done
    (cd "$work/root" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 > "$work/initramfs.cpio.gz"
    local dtb
    dtb=$(ls "$SRC"/arch/arm/boot/dts/zynq-zc702.dtb "$SRC"/arch/arm/boot/dts/xilinx/zynq-zc702.dtb 2>/dev/null | head -1 || true)
    # The zc702's console is uart1 (serial0 alias): QEMU's second serial port.
    local q=(qemu-system-arm -M xilinx-zynq-a9 -m 512 -nographic -no-reboot -monitor none
             -serial null -serial stdio -kernel "$SRC/arch/arm/boot/zImage" -dtb "$dtb"
             -initrd "$work/initramfs.cpio.gz" -append "console=ttyPS0,115200 panic=-1 loglevel=8")
    echo "== ${q[*]}" | tee "$RIG/qemu-cmd.txt"
    timeout "$TIMEOUT" "${q[@]}" < /dev/null 2>&1 | tr -d '\r' | tee "$RIG/console.log"
    log "console log: $RIG/console.log"
    grep -E 'dma-pl330|dmatest|DMA-API|RIG:|rigbug' "$RIG/console.log" || true
}

stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(deps unpack config kernel initramfs run)
for s in "${stages[@]}"; do log "stage $s"; "stage_$s"; done
