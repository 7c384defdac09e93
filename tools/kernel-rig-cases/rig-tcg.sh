#!/bin/sh
# run.sh under TCG on a machine whose /dev/kvm exists but cannot run the rig (QEMU's "-cpu host"
# stops with "failed to set MSR 0x10a"): /dev/kvm is made read-only in a private mount
# namespace, so run.sh picks -accel tcg, as in every measurement here. Needs root.
# Usage (from the folder holding kernel-rig/): rig-tcg.sh <run.sh options> <case-dir>
touch /tmp/rig-nokvm
exec unshare -m sh -c 'mount --bind -o ro /tmp/rig-nokvm /dev/kvm && mount -o remount,bind,ro /dev/kvm; exec "$@"' \
  sh "${RIGDIR:-/work/shared/kernel-rig}/run.sh" "$@"
