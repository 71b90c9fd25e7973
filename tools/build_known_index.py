#!/usr/bin/env python3
"""Build Kiago's known-compositions index (the novelty columns' reference list) from the shared SuperCon data.

    python3 tools/build_known_index.py [--shared ../shared] [--out src/Kiago.Design/Novelty/known-compositions.tsv.gz]

Reads ../shared/data/supercon.csv and non_superconductors.csv (column `formula`, plain `El amount` sequences) and
writes one gzip'd TSV that the product embeds, so no run reads ../shared. Each composition is keyed by its reduced
integer formula, exactly as Kiago's `Composition.IntegerCounts` (and KIAGO's screening) computes it: every amount ->
Fraction(float(amount)).limit_denominator(10**6), times the LCM of the denominators, divided by the gcd; elements in
atomic-number order, every count written (Y1Ba2Cu3O6.95 -> O139Cu60Y20Ba40). Rows sharing a key are merged:
`formula` = the first source spelling (supercon.csv first), `tc_kelvin` = the largest SuperCon Tc, else 0 for
SuperCon's measured "no Tc" entries (source supercon_stanev_tc0), else empty (experimental / DFT non-metals, never
measured for superconductivity); `sources` = the sources that list it. Header lines (#) hold the provenance: each
input's SHA-256 and row counts, and the rows skipped with the reason. The output is deterministic (gzip mtime 0).
tests/Kiago.Tests/Design/Trust/KnownIndexTests.cs rebuilds the index in C# from ../shared and compares every row.
"""
import argparse, csv, gzip, hashlib, io, math, os, re, sys
from fractions import Fraction

TOKEN = re.compile(r'([A-Z][a-z]?)(\d+(?:\.\d+)?)?')


def sha256(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def load_z(shared):
    with open(os.path.join(shared, 'data', 'elements.csv'), newline='') as f:
        return {r['symbol']: int(r['Z']) for r in csv.DictReader(f)}


def key_of(formula, z_of):
    """Reduced integer formula in Z order, or raise ValueError naming the problem."""
    pos, sums, order = 0, {}, []
    for m in TOKEN.finditer(formula):
        if m.start() != pos:
            raise ValueError(f'unexpected text at column {pos + 1}')
        pos = m.end()
        sym, amount = m.group(1), float(m.group(2)) if m.group(2) else 1.0
        if sym not in z_of:
            raise ValueError(f'unknown element "{sym}" at column {m.start() + 1}')
        if sym not in sums:
            sums[sym] = 0.0
            order.append(sym)
        sums[sym] += amount
    if pos != len(formula) or not order:
        raise ValueError(f'unexpected text at column {pos + 1}')
    terms = [(s, sums[s]) for s in order if sums[s] > 0]
    if not terms:
        raise ValueError('every amount is zero')
    fracs = [Fraction(a).limit_denominator(10 ** 6) for _, a in terms]
    lcm = 1
    for fr in fracs:
        lcm = lcm * fr.denominator // math.gcd(lcm, fr.denominator)
    counts = [fr.numerator * (lcm // fr.denominator) for fr in fracs]
    g = 0
    for c in counts:
        g = math.gcd(g, c)
    counts = [c // g for c in counts]
    ranked = sorted(zip((z_of[s] for s, _ in terms), (s for s, _ in terms), counts))
    return ''.join(f'{s}{c}' for _, s, c in ranked)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument('--shared', default=os.path.join(here, '..', '..', 'shared'))
    ap.add_argument('--out', default=os.path.join(here, '..', 'src', 'Kiago.Design', 'Novelty', 'known-compositions.tsv.gz'))
    a = ap.parse_args()
    z_of = load_z(a.shared)
    entries, skipped, provenance = {}, [], []
    for name, kind in (('supercon.csv', 'supercon'), ('non_superconductors.csv', 'non_superconductors')):
        path = os.path.join(a.shared, 'data', name)
        rows = used = 0
        with open(path, newline='', encoding='utf-8') as f:
            for line, r in enumerate(csv.DictReader(f), start=2):
                rows += 1
                try:
                    key = key_of(r['formula'], z_of)
                except ValueError as e:
                    skipped.append(f'{name}:{line}:formula: {e}')
                    continue
                used += 1
                source = 'supercon' if kind == 'supercon' else r['source']
                e = entries.setdefault(key, {'formula': r['formula'], 'tc': None, 'measured_zero': False, 'sources': set()})
                e['sources'].add(source)
                if kind == 'supercon':
                    tc = float(r['tc_kelvin'])
                    e['tc'] = tc if e['tc'] is None else max(e['tc'], tc)
                elif source == 'supercon_stanev_tc0':
                    e['measured_zero'] = True
        provenance.append(f'# source {name} sha256={sha256(path)} rows={rows} used={used}')
    out = io.StringIO()
    out.write('# kiago known-compositions index v1 (tools/build_known_index.py)\n')
    for p in provenance:
        out.write(p + '\n')
    out.write(f'# compositions={len(entries)} skipped={len(skipped)}\n')
    for s in skipped:
        out.write(f'# skipped {s}\n')
    out.write('key\tformula\ttc_kelvin\tsources\n')
    for key in sorted(entries):
        e = entries[key]
        tc = repr(e['tc']) if e['tc'] is not None else ('0' if e['measured_zero'] else '')
        out.write(f"{key}\t{e['formula']}\t{tc}\t{','.join(sorted(e['sources']))}\n")
    data = out.getvalue().encode('utf-8')
    with open(a.out + '.tmp', 'wb') as f:
        with gzip.GzipFile(filename='known-compositions.tsv', mode='wb', fileobj=f, mtime=0, compresslevel=9) as g:
            g.write(data)
    os.replace(a.out + '.tmp', a.out)
    print(f'{a.out}: {len(entries)} compositions, {len(skipped)} rows skipped, {len(data)} bytes raw', file=sys.stderr)


if __name__ == '__main__':
    main()
