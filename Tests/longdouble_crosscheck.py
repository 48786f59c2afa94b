"""Cross-checks tensortool convert --dtype against numpy's astype for long double
(x86-64 80-bit in 16 bytes, '<f16') and complex long double ('<c32'): to and from every
numeric dtype, in both byte orders, on random and special values. Values compare as
numbers (NaN equal to NaN, the sign of zero included); the six padding bytes of each
long double are not compared (numpy leaves whatever memory held). Casts whose result C
leaves undefined (NaN, infinity or out-of-range floats to integers) are skipped.

Usage: longdouble_crosscheck.py TENSORTOOL DIR"""
import numpy as np, subprocess, sys, os, warnings
warnings.simplefilter("ignore")
tool, d = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(5)
ld = np.longdouble
special = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 1 / 3, 2.0 ** 64, -(2.0 ** 63), 2.0 ** 53 + 1,
                    1e-310, 65504.0, 65520.0, 1e300, 5e-324], dtype=ld)
rand = (rng.standard_normal(40) * 10.0 ** rng.integers(-30, 30, 40)).astype(ld) * (1 + ld(2) ** -60)
big_ints = rng.integers(-(2 ** 63), 2 ** 63 - 1, 20, dtype=np.int64)
values = np.concatenate([special, rand, big_ints.astype(ld), (big_ints // 1000).astype(ld) + ld(0.5)])
others = ["<f8", "<f4", "<f2", "<i8", "<u8", "<i4", "<i1", "|b1", "<c16", "<c8"]
n = fails = 0


def same(a, b):
    if a.dtype.kind == "c":
        return same(a.real, b.real) and same(a.imag, b.imag)
    if a.dtype.kind == "f":
        return bool(np.all((a == b) & (np.signbit(a) == np.signbit(b)) | (np.isnan(a) & np.isnan(b))))
    return bool(np.array_equal(a, b))


def check(src, target):
    global n, fails
    expected = src.astype(target)
    if np.dtype(target).kind in "iub" and src.dtype.kind in "fc" and np.dtype(target).kind != "b":
        real = src.real if src.dtype.kind == "c" else src
        info = np.iinfo(target)
        keep = np.isfinite(real) & (real > ld(info.min) - 1) & (real < ld(info.max) + 1)
        src, expected = src[keep], expected[keep]
    n += 1
    p, o = os.path.join(d, "src.npy"), os.path.join(d, "out.npy")
    np.save(p, src)
    r = subprocess.run([tool, "convert", p, o, "--dtype", np.dtype(target).str, "-q", "--no-sync"],
                       capture_output=True, text=True)
    got = np.load(o) if r.returncode == 0 else None
    if got is None or got.dtype != expected.dtype or not same(got, expected):
        fails += 1
        if fails < 10:
            print("FAIL", src.dtype.str, "->", np.dtype(target).str, r.stderr.strip()[:200])


for order in "<>":
    for kind, source in (("f16", values), ("c32", values + 1j * values[::-1])):
        src = source.astype(order + kind)
        for target in others + ["<f16", ">f16", "<c32"]:
            check(src, target)
    for other in others:
        src = values.astype(other) if other[1] != "b" else values != 0
        for target in (order + "f16", order + "c32"):
            check(src, target)
print(n, "cases,", fails, "failures")
sys.exit(1 if fails else 0)
