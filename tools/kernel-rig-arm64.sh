#!/usr/bin/env bash
# The arm64 WARN sites (sim/dma/kernel-6.1-arm64-bug-sites.json): build the rig's Linux 6.1 for
# arm64 (vmlinux only, never booted) and read its __bug_table. About 6 minutes on 2 cores.
#   apt-get install gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu   # once
#   bash tools/kernel-rig-arm64.sh
# The config is tinyconfig + tools/kernel-rig-arm64.config: ../shared/kernel-rig/rig.config
# without its x86 options, with the arm64 virt machine's PCI host, GIC, SMMUv3 and PL011, and
# CONFIG_DEBUG_VIRTUAL (the sim's virt_to_phys() warning).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
W=${RIG:-$HOME/.cache/dmalab-kernel-rig}/arm64
SRC=$W/linux-source-6.1
mkdir -p "$W"
[ -d "$SRC" ] || tar -C "$W" -xf /usr/src/linux-source-6.1.tar.xz
cd "$SRC"
make ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- tinyconfig >/dev/null
./scripts/kconfig/merge_config.sh -m .config "$HERE/kernel-rig-arm64.config" >/dev/null
make ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- olddefconfig >/dev/null
make ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- -j"$(nproc)" vmlinux
python3 "$HERE/kernel-rig-bug-table.py" "$SRC/vmlinux" > "$W/bug-table.txt"
cd "$ROOT"
python3 - "$W/bug-table.txt" <<'PY'
# Keep the file:line sites the sim prints (in sim/ and the measured JSON), with the arm64
# functions each sits in.
import glob, json, re, sys
used = set()
for f in glob.glob('sim/**/*.ts', recursive=True):
    if '/test/' in f: continue
    used.update(m.group(1) for m in re.finditer(r"([a-z_/0-9.-]+\.(?:c|h):\d+) [\w.]+\+0x[0-9a-f]+/0x[0-9a-f]+", open(f).read()))
for v in json.load(open('sim/dma/kernel-6.1-warn-sites.json')).values():
    if isinstance(v, dict) and v.get('where'): used.add(v['where'])
sites = {}
for line in open(sys.argv[1]):
    where, _, func = line.strip().partition(' ')
    if where in used and func not in sites.setdefault(where, []): sites[where].append(func)
out = {'_about': 'WARN sites of an arm64 build of the rig kernel (Linux 6.1.192; tools/kernel-rig-arm64.sh), read from its __bug_table with tools/kernel-rig-bug-table.py. For each file:line the sim prints in a WARNING line, the arm64 functions it sits in, as func+off/len. sim/kernel/diag.ts uses it on the arm64 shapes.'}
out.update({k: sites[k] for k in sorted(sites)})
json.dump(out, open('sim/dma/kernel-6.1-arm64-bug-sites.json', 'w'), indent=1)
print('sites without an arm64 entry:', sorted(used - set(sites)))
PY
