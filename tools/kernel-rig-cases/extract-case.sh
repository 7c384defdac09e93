#!/bin/sh
# Print the interesting kernel lines of a rig log, from the dmesg dump (timestamps
# stripped): everything after the test module is loaded, minus the register dump
# and Code: lines of each WARNING (the console instead if the guest panicked), but an oops's first RIP line;
# of each "Call Trace:" only the first 3 frames
# are kept (marked "  |"), "Mapped at:" frames are kept in full.
# Usage: extract-case.sh LOG [LOG...]
for f in "$@"; do
    [ $# -gt 1 ] && echo "=== $f"
    # the dmesg dump if the guest got that far, else (panic) the console
    if grep -q '===== RIG DMESG BEGIN' "$f"; then
        sed -n '/===== RIG DMESG BEGIN =====/,/===== RIG DMESG END =====/p' "$f"
    else
        grep '^\[ *[0-9.]*\] ' "$f"
    fi \
    | sed 's/^\[ *[0-9.]*\] //' \
    | awk '
        /loading out-of-tree module taints kernel/ { on = 1; next }
        !on { next }
        /^(Oops|invalid opcode|general protection fault|kernel stack overflow)[^:]*: [0-9a-f][0-9a-f][0-9a-f][0-9a-f] \[#/ { oops = 1 }
        oops && /^RIP: 0010:/ { oops = 0; print; next }   # where an oops happened
        /===== RIG DMESG END/ { next }
        /^Call Trace:/ { ct = 1; nf = 0; print; next }
        ct && /^(input|tsc|clocksource): / { print; next }   # unrelated, interleaved
        ct && /^ *<\/?(TASK|IRQ)>/ { print "  |" $0; next }
        ct && /^---\[ end trace/ { ct = 0; print; next }
        ct && /^ [^ ]/ { if (nf++ < 3) print "  |" $0; next }
        ct && /^(RIP|RSP|RAX|RDX|RBP|R10|R13|FS|CS|CR2|Code): / { next }
        ct { ct = 0 }
        /^Mapped at:|DMA-API: Mapped at:/ { ma = 1; print; next }
        ma && /^ [^ ]/ { print "  " $0; next }
        { ma = 0 }
        /^(RIP|RSP|RAX|RDX|RBP|R10|R13|FS|CS|CR2|Code|Hardware name): / { next }
        /^ ?(RIP|RSP|RAX|RDX|RBP|R10|R13|FS|CS|CR2|Code):/ { next }
        { print }
    '
    grep -E '^RIG: (dma-api error_count|insmod|rmmod|/test.sh)' "$f"
done
