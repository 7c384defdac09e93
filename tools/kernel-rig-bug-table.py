# Every WARN/BUG site of the rig kernel, as the kernel prints it on a WARNING line:
#   kernel/dma/debug.c:984 check_unmap+0x1f4/0x69b
# Reads the __bug_table of an x86-64 vmlinux built by ../shared/kernel-rig (relative pointers:
# bug address, file, line, flags) and resolves each bug address against the symbol table.
#   python3 tools/kernel-rig-bug-table.py [VMLINUX] | grep kernel/dma/
# Used for the WARN sites sim/dma/warn-sites.ts could not measure by making the check fire.
import os, subprocess, struct, sys, bisect
V = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser('~/.cache/dmalab-kernel-rig/linux/vmlinux')
out=subprocess.run(['readelf','-SW',V],capture_output=True,text=True).stdout
secs={}
for line in out.splitlines():
    p=line.replace('[ ','[').split()
    if len(p)>6 and p[0].startswith('['):
        name=p[1]; 
        try: addr=int(p[3],16); off=int(p[4],16); size=int(p[5],16)
        except: continue
        secs[name]=(addr,off,size)
data=open(V,'rb').read()
def read_at(vaddr,n):
    for name,(a,o,s) in secs.items():
        if a and a<=vaddr<a+s: return data[o+vaddr-a:o+vaddr-a+n]
    return None
def cstr(vaddr):
    b=read_at(vaddr,200); return b.split(b'\0')[0].decode()
syms=[]
for l in subprocess.run(['nm','-S','--defined-only',V],capture_output=True,text=True).stdout.splitlines():
    p=l.split()
    if len(p)==4 and p[2] in 'tTwW': syms.append((int(p[0],16),int(p[1],16),p[3]))
syms.sort()
addrs=[s[0] for s in syms]
def sym(a):
    i=bisect.bisect_right(addrs,a)-1
    while i>=0 and not (syms[i][0]<=a<syms[i][0]+syms[i][1]): i-=1
    s=syms[i]; return f"{s[2]}+{a-s[0]:#x}/{s[1]:#x}"
a,o,s=secs['__bug_table']
for i in range(0,s,12):
    d1,d2,line,flags=struct.unpack('<iiHH',data[o+i:o+i+12])
    ea=a+i
    bug=ea+d1; f=cstr(ea+4+d2)
    print(f"{f}:{line} {sym(bug)}")
