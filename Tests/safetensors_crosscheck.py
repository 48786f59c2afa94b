"""Cross-checks tensortool's safetensors writer and reader against the reference
implementation (the `safetensors` package): random tensors of every dtype numpy and
safetensors share, from big-endian and Fortran-order sources, with random names and
metadata; our file must equal `save_file`'s byte for byte, and the reference's file must
read back to the same values.

Usage: safetensors_crosscheck.py TENSORTOOL DIR [CASES]"""
import os, random, subprocess, sys
import numpy as np
from safetensors.numpy import save_file

tool, d = sys.argv[1], sys.argv[2]
cases = int(sys.argv[3]) if len(sys.argv) > 3 else 60
rnd = random.Random(3)
rng = np.random.default_rng(3)
dtypes = ['?', 'u1', 'i1', 'u2', 'i2', 'u4', 'i4', 'u8', 'i8', 'f2', 'f4', 'f8', 'c8']
names = ['w', 'b', 'embed.weight', 'layers/0/attn', 'x y', 'é', '中文', 'a' * 40, 'Z', '0', 'w2', 'bias']
fails = 0
for case in range(cases):
    tensors = {}
    for name in rnd.sample(names, rnd.randint(1, 5)):
        dt = np.dtype(rnd.choice(dtypes))
        shape = tuple(rnd.randint(0 if rnd.random() < 0.1 else 1, 5) for _ in range(rnd.randint(0, 3)))
        n = int(np.prod(shape)) if shape else 1
        if dt.kind == 'b':
            a = rng.random(n) < 0.5
        elif dt.kind in 'iu':
            info = np.iinfo(dt)
            a = rng.integers(info.min, info.max, n, dtype=dt, endpoint=True)
        elif dt.kind == 'c':
            a = (rng.normal(size=n) + 1j * rng.normal(size=n)).astype(dt)
        else:
            a = rng.normal(size=n).astype(dt)
        a = np.asarray(a).reshape(shape)
        if dt.itemsize > 1 and rnd.random() < 0.3:
            a = a.astype(a.dtype.newbyteorder('>'))
        if a.ndim >= 2 and rnd.random() < 0.3:
            a = np.asfortranarray(a)
        tensors[name] = a
    metadata = {'format': rnd.choice(['pt', 'np', 'é "quoted"\n'])} if rnd.random() < 0.5 else None
    src = os.path.join(d, 'src.npz')
    ours = os.path.join(d, 'ours.safetensors')
    ref = os.path.join(d, 'ref.safetensors')
    back = os.path.join(d, 'back.npz')
    np.savez(src, **tensors)
    normalized = {k: v.astype(v.dtype.newbyteorder('<'), order='C') for k, v in tensors.items()}
    save_file(normalized, ref, metadata=metadata)
    args = [tool, 'convert', src, ours, '-q', '--no-sync']
    for k, v in (metadata or {}).items():
        args += ['--metadata', f'{k}={v}']
    r = subprocess.run(args, capture_output=True, text=True)
    same = r.returncode == 0 and open(ours, 'rb').read() == open(ref, 'rb').read()
    # The reference's file, read by tensortool: the same values and dtypes.
    r2 = subprocess.run([tool, 'convert', ref, back, '-q', '--no-sync'], capture_output=True, text=True)
    if r2.returncode == 0:
        with np.load(back) as z:
            read_ok = sorted(z.files) == sorted(tensors) and all(
                z[k].dtype == normalized[k].dtype and z[k].shape == tensors[k].shape
                and np.array_equal(z[k], tensors[k], equal_nan=True) for k in tensors)
    else:
        read_ok = False
    if not (same and read_ok) and os.environ.get("DEBUG"):
        print(open(ours, "rb").read()[:300]); print(open(ref, "rb").read()[:300])
    if not (same and read_ok):
        fails += 1
        if fails <= 10:
            print('FAIL', {k: (v.dtype.str, v.shape, v.flags['F_CONTIGUOUS']) for k, v in tensors.items()}, metadata,
                  'write', same, r.stderr.strip(), 'read', read_ok, r2.stderr.strip())
print(cases, 'cases,', fails, 'failures')
sys.exit(1 if fails else 0)
