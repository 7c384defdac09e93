# Regenerates docs/kernel-6.1-measured.md from template.md: every @@<case>/<run>.txt@@ marker is
# replaced by that extract, condensed (WARNING boilerplate and RIG lines dropped).
# Usage: python3 tools/kernel-rig-cases/doc-gen/gen.py   (after run-all.sh)
import os,re
HERE=os.path.dirname(os.path.abspath(__file__))
C=os.path.join(HERE,'..')+'/'
OUT=os.path.join(HERE,'..','..','..','docs','kernel-6.1-measured.md')
skip=re.compile(r'^(------------\[ cut here \]|Modules linked in:|CPU: 0 PID: \d+ Comm:|Call Trace:|---\[ end trace|  \||ACPI: |input: |tsc: |clocksource: |RIG: )')
def cond(f, frm=None, to=None, keep_cut=False):
    out=[]; on = frm is None
    for l in open(C+f):
        l=l.rstrip('\n')
        if not on and frm and re.search(frm,l): on=True
        if not on: continue
        if to and re.search(to,l) and out: break
        if l.startswith('RIG: dma-api error_count='):
            out.append('(dma-api error_count=%s)'%re.match(r'RIG: dma-api error_count=(\d+)',l).group(1)); continue
        if skip.match(l): continue
        if re.match(r'^ {2,}\S',l): l=' '+l.strip()
        out.append(l)
    return '\n'.join(out)
t=open(os.path.join(HERE,'template.md')).read()
def rep(m):
    args=m.group(1).split('|')
    f=args[0]; frm=args[1] if len(args)>1 and args[1] else None; to=args[2] if len(args)>2 and args[2] else None
    return cond(f,frm,to)
t=re.sub(r'@@([^@]+)@@',rep,t)
open(OUT,'w').write(t)
