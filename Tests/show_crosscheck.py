"""Cross-checks `tensortool show` against numpy's print(a[INDEX]): random arrays of every
dtype (byte orders, Fortran order, 0-d, empty, summarised), random basic indices and
random print options; and `show --json` against the values, bit for bit.

Usage: show_crosscheck.py TENSORTOOL DIR [CASES]"""
import json, os, random, subprocess, sys
import numpy as np

tool, d = sys.argv[1], sys.argv[2]
cases = int(sys.argv[3]) if len(sys.argv) > 3 else 600
rnd = random.Random(7)
rng = np.random.default_rng(7)


def floats(n, dtype):
    """Values that exercise numpy's float printing: every magnitude, ties, specials."""
    kind = rnd.choice(['normal', 'wide', 'integers', 'ties', 'small', 'mixed', 'large'])
    if kind == 'normal':
        v = rng.normal(size=n) * 10 ** rnd.randint(-3, 3)
    elif kind == 'wide':
        v = rng.normal(size=n) * 10.0 ** rng.integers(-40, 40, n)
    elif kind == 'integers':
        v = rng.integers(-1000, 1000, n).astype(float)
    elif kind == 'ties':
        v = rng.integers(-64, 64, n) / 8.0 + rng.choice([0, 0.005, 0.125, 1e-9], n)
    elif kind == 'small':
        v = rng.uniform(0, 2e-4, n)
    elif kind == 'large':
        v = rng.uniform(5e7, 2e8, n) * rng.choice([1, -1], n)
    else:
        v = rng.choice([0.0, -0.0, np.nan, np.inf, -np.inf, 1e-4, 1e8, 1e16, 0.1, 0.5, 1.5, 65504.0, 5e-324], n)
    with np.errstate(over='ignore', invalid='ignore'):
        return v.astype(dtype)


def strings(n, kind, size):
    alphabet = ['a', 'b', ' ', "'", '"', '\\', '\n', '\t', '\x00', '\x7f', 'é', '中', '\u2028', '\U0001F600']
    out = []
    for _ in range(n):
        length = rnd.randint(0, size)
        chars = [rnd.choice(alphabet) for _ in range(length)]
        if kind == 'S':
            out.append(''.join(c for c in chars if ord(c) < 128).encode('latin-1') + bytes([rnd.choice([0x80, 0xff, 0x41])]) * rnd.randint(0, 1))
        else:
            out.append(''.join(chars))
    return np.array(out, dtype=f'{kind}{size}')


def random_array(dtype_kind):
    ndim = rnd.choice([0, 1, 1, 2, 2, 3, 4])
    shape = tuple(rnd.choice([0, 1, 2, 3, 4, 5, 7, 12]) if rnd.random() < 0.15 else rnd.randint(1, 8) for _ in range(ndim))
    if rnd.random() < 0.1 and ndim >= 1:
        shape = (rnd.randint(1001, 3000),) if ndim == 1 else tuple([rnd.randint(30, 60)] * 2)
    n = int(np.prod(shape)) if shape else 1
    k = dtype_kind
    if k == 'b1':
        a = rng.random(n) < 0.5
    elif k[0] in 'iu':
        info = np.iinfo(k)
        a = rng.integers(info.min, info.max, n, dtype=k, endpoint=True)
        if rnd.random() < 0.5:
            a = (a % 100).astype(k)
    elif k[0] == 'f':
        a = floats(n, k)
    elif k[0] == 'c':
        half = 'f' + str(int(k[1:]) // 2)
        a = floats(n, half).astype(k) + 1j * floats(n, half).astype(k)
    elif k[0] in 'SU':
        a = strings(n, k[0], int(k[1:]))
    elif k[0] == 'V':
        a = np.frombuffer(rng.integers(0, 256, n * int(k[1:]), dtype='u1').tobytes(), dtype=k)
    elif k[0] in 'Mm':
        a = rng.integers(-10**rnd.choice([3, 6, 9, 12]), 10**rnd.choice([3, 6, 9, 12]), n).view('i8')
        a[rng.random(n) < 0.1] = np.iinfo(np.int64).min
        a = a.view(k)
    elif k == 'struct':
        dt = np.dtype([('x', '<i2'), ('y', '<f8'), ('s', 'S3'), ('c', '<c8'), ('sub', '<f4', (2, 2)), ('t', '?')])
        a = np.zeros(n, dt)
        a['x'] = rng.integers(-300, 300, n)
        a['y'] = floats(n, 'f8')
        a['s'] = strings(n, 'S', 3)
        a['c'] = floats(n, 'f4') + 1j * floats(n, 'f4')
        a['sub'] = floats(n * 4, 'f4').reshape(n, 2, 2)
        a['t'] = rng.random(n) < 0.5
    elif k == 'struct1':
        a = np.zeros(n, [('only', '<u4')])
        a['only'] = rng.integers(0, 10**6, n)
    a = np.asarray(a).reshape(shape)
    if k[0] in 'iufcUMm' and rnd.random() < 0.3 and a.dtype.byteorder != '|':
        a = a.astype(a.dtype.newbyteorder('>'))
    if rnd.random() < 0.25 and ndim >= 2:
        a = np.asfortranarray(a)
    return a


def random_index(shape):
    if not shape or rnd.random() < 0.15:
        return ''
    items = []
    for n in shape[:rnd.randint(1, len(shape))]:
        r = rnd.random()
        if r < 0.3 and n > 0:
            i = rnd.randint(-n, n - 1)
            items.append(str(i))
        elif r < 0.85:
            parts = [rnd.choice(['', str(rnd.randint(-n - 2, n + 2))]) for _ in range(2)]
            step = rnd.choice(['', '', '1', '2', '-1', '-3'])
            items.append(':'.join(parts) + (':' + step if step else ''))
        else:
            items.append('...')
    if items.count('...') > 1:
        items = [x for x in items if x != '...']
    text = ', '.join(items)
    return '[' + text + ']' if rnd.random() < 0.5 else text


def flatten(values, depth):
    if depth == 0:
        return [values]
    return [x for v in values for x in flatten(v, depth - 1)]


def float_equal(text, value, dtype):
    """A JSON float (kept as text) against a numpy float, bit for bit."""
    if isinstance(text, str) and text in ('nan', 'inf', '-inf'):
        return (np.isnan(value) and text == 'nan') or (np.isinf(value) and str(float(value)) == text)
    parsed = np.array(text, dtype=dtype.newbyteorder('='))  # the text parsed in the element's own type
    want = np.array(value, dtype=dtype.newbyteorder('='))
    if dtype.itemsize == 16:  # long double: 6 padding bytes numpy leaves unset
        return parsed == want and np.signbit(parsed) == np.signbit(want)
    return parsed.tobytes() == want.tobytes()


def element_matches(v, x, dtype):
    k = dtype.kind
    if dtype.names:
        return isinstance(v, dict) and list(v) == list(dtype.names) and all(
            element_matches(v[name], x[name], dtype[name]) if dtype[name].shape == () else
            all(element_matches(p, q, dtype[name].base) for p, q in zip(flatten(v[name], len(dtype[name].shape)), np.ravel(x[name])))
            for name in dtype.names)
    if k == 'b':
        return v is bool(x)
    if k in 'iu':
        return isinstance(v, int) and v == int(x)
    if k == 'f':
        return float_equal(v, x, dtype)
    if k == 'c':
        part = np.dtype(f'{dtype.byteorder if dtype.byteorder in "<>" else "="}f{dtype.itemsize // 2}')
        return float_equal(v[0], x.real, part) and float_equal(v[1], x.imag, part)
    if k == 'S':
        return v == bytes(x).decode('latin-1')
    if k == 'U':
        return v == str(x)
    if k == 'V':
        return v == bytes(x).decode('latin-1')
    if k in 'Mm':
        return v == ('NaT' if np.isnat(x) else int(np.asarray(x).view('i8')))
    return False


def json_matches(doc, sel, dtype):
    if doc['shape'] != list(sel.shape) or doc['descr'] != json.loads(json.dumps(np.lib.format.dtype_to_descr(dtype))):
        return False
    values = flatten(doc['values'], sel.ndim)
    return len(values) == sel.size and all(element_matches(v, x, dtype) for v, x in zip(values, sel.ravel()))


kinds = ['b1', 'i1', 'i2', 'i4', 'i8', 'u1', 'u2', 'u4', 'u8', 'f2', 'f4', 'f8', 'f16', 'c8', 'c16', 'c32',
         'S5', 'U4', 'V3', 'M8[D]', 'M8[s]', 'M8[ms]', 'M8[10m]', 'm8[ns]', 'm8[3h]', 'M8[Y]', 'M8[M]', 'struct', 'struct1']
fails = 0
json_checked = 0
deflated_checked = 0
path = os.path.join(d, 'show.npy')
for case in range(cases):
    kind = kinds[case % len(kinds)]
    a = random_array(kind)
    np.save(path, a)
    index = random_index(a.shape)
    opts = {}
    if rnd.random() < 0.3:
        opts = rnd.choice([{'precision': rnd.randint(0, 12)}, {'threshold': rnd.randint(0, 50)},
                           {'edgeitems': rnd.randint(1, 4), 'threshold': 10}, {'linewidth': rnd.randint(10, 120)}])
    try:
        inner = index[1:-1] if index.startswith('[') else index
        selected = eval(f'a[{inner},]', {'a': a}) if inner else a
        with np.printoptions(**opts):
            expected = str(selected) + '\n'
        error = None
    except IndexError as e:
        expected, error = None, str(e)
    args = [tool, 'show', path] + [f'--{k}={v}' for k, v in opts.items()] + (['--', index] if index else [])
    r = subprocess.run(args, capture_output=True, text=True)
    if error is not None:
        ok = r.returncode == 1 and r.stderr.strip().endswith(error)
    else:
        ok = r.returncode == 0 and r.stdout == expected
    if ok and case % 4 == 0:
        # The same through a deflated npz member, inflated only as far as needed.
        member_path = os.path.join(d, 'show.npz')
        np.savez_compressed(member_path, a=a)
        r = subprocess.run([tool, 'show', member_path + ':a'] + args[3:], capture_output=True, text=True)
        ok = (r.returncode == 1 and r.stderr.strip().endswith(error)) if error is not None else (r.returncode == 0 and r.stdout == expected)
        deflated_checked += 1
    if not ok:
        fails += 1
        if fails <= 12:
            print(f'FAIL {a.dtype.str} shape {a.shape} index {index!r} opts {opts}')
            print('  expected:', repr(expected if error is None else error)[:600])
            print('  got:     ', repr(r.stdout if r.returncode == 0 else r.stderr)[:600])
        continue
    # --json: every value exact, bit for bit.
    if error is None and case % 3 == 0:
        r = subprocess.run(args[:3] + ['--json'] + args[3:], capture_output=True, text=True)
        same = r.returncode == 0 and json_matches(json.loads(r.stdout, parse_float=str), np.asarray(selected), a.dtype)
        json_checked += 1
        if same and case % 4 == 0:
            r = subprocess.run([tool, 'show', os.path.join(d, 'show.npz') + ':a', '--json'] + args[3:], capture_output=True, text=True)
            same = r.returncode == 0 and json_matches(json.loads(r.stdout, parse_float=str), np.asarray(selected), a.dtype)
        if not same:
            fails += 1
            if fails <= 12:
                print(f'FAIL json {a.dtype.str} shape {a.shape} index {index!r}: {r.stdout[:300]} {r.stderr[:300]}')
# Every valid fixture (numpy-written files of every dtype numpy saves), whole.
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'Fixtures')
manifest = json.load(open(os.path.join(root, 'manifest.json')))
fixtures = 0
for entry in manifest.get('valid', []):
    f = os.path.join(root, entry['file'])
    if not f.endswith('.npy'):
        continue
    limit = entry.get('max_header_size', manifest['default_max_header_size'])
    try:
        a = np.load(f, max_header_size=max(limit, 10000))
    except ValueError:
        continue  # pickled (object) arrays: not ours to print
    try:
        expected = str(a) + '\n'
    except Exception:
        continue  # numpy cannot print it either ([0s] time units)
    fixtures += 1
    r = subprocess.run([tool, 'show', f, f'--max-header-size={max(limit, 10000)}'], capture_output=True, text=True)
    if r.returncode != 0 or r.stdout != expected:
        fails += 1
        print(f'FAIL fixture {entry["file"]}:', repr(expected)[:300], repr(r.stdout or r.stderr)[:300])
print(cases, 'cases,', json_checked, 'json checks,', deflated_checked, 'through deflated members,', fixtures, 'fixtures,',
      fails, 'failures')
sys.exit(1 if fails else 0)
