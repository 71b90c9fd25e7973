#!/usr/bin/env python3
"""C-ES ΔTc top-30 of an experiment folder at the KIAGO sample count and at the full count, and de-duplicated on atom
fractions (docs/EXPERIMENTS.md, "Diagnosis"): how much of C-ES's top-30 comes from drawing more samples than KIAGO has
candidates, and from counting one composition at several supercell sizes.

    python3 tools/ces_sample_size.py EXPERIMENT_DIR [KIAGO_CANDIDATES]

Rows of ces/candidates.csv are in Tc order, so the first occurrence of a formula is the one the summaries count;
"first N samples" keeps the samples with index < N (the generator draws them in that order). Standard library only.
"""
import csv
import re
import sys
def key(f, normalise):
    d={}
    for e,n in re.findall(r'([A-Z][a-z]?)([\d.]*)',f): d[e]=d.get(e,0)+float(n or 1)
    t=sum(d.values()) if normalise else 1.0
    return tuple(sorted((e,round(v/t,9)) for e,v in d.items()))
d=sys.argv[1]
first=int(sys.argv[2]) if len(sys.argv) > 2 else 1024
ces=list(csv.DictReader(open(d+'/ces/candidates.csv')))
summ={r['base']:r for r in csv.DictReader(open(d+'/ces/summary.csv'))}
ks={r['base']:r for r in csv.DictReader(open(d+'/kiago/summary.csv'))}
print(f"| base | KIAGO ΔTc top-30 | C-ES, first {first} samples | C-ES, 4096 samples | C-ES 4096, one row per atom-fraction composition |")
print("|---|---|---|---|---|")
for base in summ:
    rows=[r for r in ces if r['base']==base]
    btc=float(summ[base]['base_tc'])
    out=[]
    for n,norm in ((first,False),(4096,False),(4096,True)):
        sub=[r for r in rows if int(r['candidate'])<n]   # rows are in Tc order: first occurrence = the reference's
        seen=set(); vals=[]
        for r in sub:
            k=key(r['formula'],norm)
            if k in seen: continue
            seen.add(k)
            if r['all_pass']=='true': vals.append(float(r['tc_rounded'])-btc)
        vals.sort(reverse=True); top=vals[:30]
        out.append(f"{sum(top)/len(top):.2f} ({len(vals)} pass)" if top else "N/A")
    print(f"| {base} | {float(ks[base]['delta_tc_top30']):.2f} | {out[0]} | {out[1]} | {out[2]} |")
