#!/bin/bash
# Run every case of this folder against the kernel rig (see README.md).
# Usage: run-all.sh [case-name-filter]     e.g. run-all.sh sg-
# Env: RIGDIR = the rig folder (default /work/shared/kernel-rig)
#      RIG    = its build output (default ~/.cache/dmalab-kernel-rig)
# Logs land next to each module: <case>/<case>[-suffix].log (full console, git-ignored)
# and <case>/<case>[-suffix].txt (extract-case.sh output, committed).
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
RIGDIR="${RIGDIR:-/work/shared/kernel-rig}"
RIG="${RIG:-${XDG_CACHE_HOME:-$HOME/.cache}/dmalab-kernel-rig}"
DBG="$RIG/linux-dbg"       # variant: DEBUG_ATOMIC_SLEEP, SLUB(+DEBUG, FREELIST_HARDENED)
FILTER="${1:-}"
# case | run.sh options
RUNS='
unmap-errors            |
unmap-errors            | --iommu
wrong-function          |
wrong-function          | --iommu
free-coherent-cpu-addr  |
free-coherent-cpu-addr  | --iommu
unmap-wrong-dir         |
sg-count                |
sg-count                | --iommu
sg-segment              |
sg-segment              | --iommu
sync-errors             |
sync-errors             | --iommu
sync-errors             | --mem 256 --append swiotlb=force
cacheline-overlap       |
map-rodata              |
map-module-static       |
map-module-static       | --iommu
leak-coherent           |
leak-coherent           | --iommu
leak-sg                 |
leak-sg                 | --iommu
direct-overflow         |
swiotlb-full            | --mem 256 --append swiotlb=128,force
pool-busy               |
pool-free-handle        |
irq-msleep              |
irq-msleep              | --kernel DBG
irq-mutex               |
irq-mutex               | --kernel DBG
dmar-fault              | --iommu
dmar-fault              | --iommu --append iommu.strict=1
dmar-fault-unmapped     | --iommu
irq-leak                |
irq-double-free         |
double-kfree            |
double-kfree            | --kernel DBG
double-kfree            | --kernel DBG --append slub_debug=F
'
echo "$RUNS" | while IFS='|' read -r c opts; do
    c="$(echo $c)"; [ -n "$c" ] || continue
    case "$c" in *"$FILTER"*) ;; *) continue ;; esac
    opts="${opts//DBG/$DBG}"
    echo "##### $c $opts"
    # shellcheck disable=SC2086
    out="$("$RIGDIR/run.sh" --quiet --timeout 120 $opts "$HERE/$c")"
    echo "$out" | grep -E '^== (qemu rc|wall)|^!!'
    log="$(echo "$out" | sed -n 's/^== qemu rc=.* log=//p')"
    # keep a short extract (committed) next to the (ignored) full log
    [ -n "$log" ] && "$HERE/extract-case.sh" "$log" > "${log%.log}.txt"
done
