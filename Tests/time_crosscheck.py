"""Cross-checks tensortool convert --dtype against numpy's astype for datetime64 and
timedelta64: every unit pair at random multipliers and byte orders, NaT, negative values,
wrapping overflow for fixed units, and casts to and from integers, floats and bools.

Usage: time_crosscheck.py TENSORTOOL DIR"""
import numpy as np, subprocess, sys, os, random
tool = sys.argv[1]; d = sys.argv[2]
rng = np.random.default_rng(11)
units = ['Y','M','W','D','h','m','s','ms','us','ns','ps','fs','as']
fails = 0; n = 0
def check(src, target):
    global fails, n
    n += 1
    p = os.path.join(d, 'src.npy'); o = os.path.join(d, 'out.npy'); e = os.path.join(d, 'exp.npy')
    np.save(p, src)
    try:
        exp = src.astype(target)
    except Exception as ex:
        # numpy refuses (a conversion factor that overflows): so must we.
        r = subprocess.run([tool, 'convert', p, o, '--dtype', np.dtype(target).str, '-q', '--no-sync'], capture_output=True, text=True)
        if r.returncode == 0:
            fails += 1
            print('FAIL accepted', src.dtype.str, '->', np.dtype(target).str, 'which numpy refuses:', ex)
        return
    np.save(e, exp)
    r = subprocess.run([tool, 'convert', p, o, '--dtype', np.dtype(target).str, '-q', '--no-sync'], capture_output=True, text=True)
    if (np.dtype(target).kind, np.dtype(target).itemsize) in [('f', 16), ('c', 32)]:
        # Long double: compare values (numpy leaves its six padding bytes unset).
        differs = r.returncode != 0 or not (np.load(o).dtype == exp.dtype and np.array_equal(np.load(o), exp, equal_nan=True))
    else:
        differs = r.returncode != 0 or open(o,'rb').read() != open(e,'rb').read()
    if differs:
        fails += 1
        if fails < 15:
            got = np.load(o) if r.returncode == 0 else r.stderr.strip()
            print('FAIL', src.dtype.str, '->', np.dtype(target).str, src.view('i8')[:6], 'expected', exp.view('i8')[:6] if exp.dtype.kind in 'Mm' else exp[:6], 'got', got.view('i8')[:6] if hasattr(got,'view') and got.dtype.kind in 'Mm' else got)
for kind in 'Mm':
    for _ in range(200):
        a = random.Random(n).choice(units); b = random.Random(n+7).choice(units)
        ma = random.Random(n+1).choice([1,1,1,3,10]); mb = random.Random(n+2).choice([1,1,1,2,7])
        # Values whose conversions overflow int64 wrap as numpy's do, calendar units
        # included.
        scale = random.Random(n+3).choice([10, 1000, 10**6, 10**12, 2**62])
        vals = rng.integers(-scale, scale, 12, dtype=np.int64)
        vals[0] = np.iinfo(np.int64).min  # NaT
        vals[1] = -1; vals[2] = 0
        src = vals.view(f'{kind}8[{ma}{a}]' if ma != 1 else f'{kind}8[{a}]')
        if random.Random(n+4).random() < 0.3: src = src.astype(src.dtype.newbyteorder('>'))
        check(src, f'{kind}8[{mb}{b}]' if mb != 1 else f'{kind}8[{b}]')
    for it in ['<i8', '<i4', '>u2', '<u8']:
        src = rng.integers(-10**6, 10**6, 8).view(f'{kind}8[s]')
        check(src, it)
        check(rng.integers(-1000, 1000, 8).astype(it), f'{kind}8[D]')
    # Floats and bools: NaT becomes the smallest int64's value; NaN, infinities and
    # out-of-range floats become NaT.
    for ft in ['<f8', '>f4', '<f2', '|b1', '<f16', '<c16', '>c8', '<c32']:
        src = rng.integers(-10**6, 10**6, 8).view(f'{kind}8[ms]').copy()
        src[0] = np.iinfo(np.int64).min
        check(src, ft)
        if ft == '|b1':
            check(np.array([True, False, True]), f'{kind}8[s]')
        else:
            values = np.array([1.5, -1.5, np.nan, np.inf, -np.inf, 1e30, -2.7, 0.0, 65504.0])
            if ft[1] == 'c': values = values + 1j * values[::-1]
            check(values.astype(ft), f'{kind}8[us]')
print(n, 'cases,', fails, 'failures')

# inspect --stats: min and max printed as numpy's str() prints them, NaT counted.
import json
stats_cases = stats_fails = 0
for kind in 'Mm':
    for u in units:
        for mult in ['', '3']:
            dt = f'{kind}8[{mult}{u}]'
            scale = 10**4 if u in 'YMW' else 10**9
            v = rng.integers(-scale, scale, 50).view(dt).copy()
            v[3] = np.datetime64('NaT') if kind == 'M' else np.timedelta64('NaT')
            p = os.path.join(d, 'stats.npy')
            np.save(p, v)
            out = json.loads(subprocess.run([tool, 'inspect', '--stats', '--json', p], capture_output=True, text=True).stdout)['stats']
            valid = v[~np.isnat(v)]
            stats_cases += 1
            if out != {'min': str(valid.min()), 'max': str(valid.max()), 'nat': 1}:
                stats_fails += 1
                print('FAIL stats', dt, out, str(valid.min()), str(valid.max()))
print(stats_cases, 'stats cases,', stats_fails, 'stats failures')
sys.exit(1 if fails or stats_fails else 0)
