"""numpy side of the TensorIO cross-check tests (Tests/TensorIOTests/NumpyCrossCheckTests.swift).

  python3 Tests/numpy_crosscheck.py read DIR    check the .npy files TensorIO wrote in DIR
  python3 Tests/numpy_crosscheck.py write DIR   write .npy files for TensorIO to read
  python3 Tests/numpy_crosscheck.py npz-read DIR check the .npz archives TensorIO wrote
  python3 Tests/numpy_crosscheck.py casts DIR    numpy astype results for every numeric pair
  python3 Tests/numpy_crosscheck.py npz_update_check BEFORE AFTER SPEC   an archive edited in place
  python3 Tests/numpy_crosscheck.py float_specials DIR   float <-> float casts of NaN payloads, infinities, subnormals
  python3 Tests/numpy_crosscheck.py converts DIR what np.save writes for the conversions listed
  python3 Tests/numpy_crosscheck.py stats FILE...  numpy statistics of each file, as JSON lines

Each .npy file NAME.npy comes with NAME.bin, its canonical bytes (C order,
little-endian), and a line in DIR/list.txt: NAME DESCR SHAPE FORTRAN.
"read" prints one line per problem and then "checked N"; "write" prints "wrote N".
"""
import io
import sys

import numpy as np


def canonical(a):
    out = np.zeros(a.shape, dtype=a.dtype.newbyteorder("<"))
    out[...] = a
    return out.tobytes(order="C")


def check(directory):
    problems = 0
    count = 0
    for line in open(directory + "/list.txt"):
        name, descr, shape, fortran = line.split("\t")
        count += 1
        path = "%s/%s.npy" % (directory, name)
        a = np.load(path)
        expected_shape = tuple(int(d) for d in shape.split(",") if d)
        issues = []
        if repr(np.lib.format.dtype_to_descr(a.dtype)) != descr:
            issues.append("descr %r" % (np.lib.format.dtype_to_descr(a.dtype),))
        if a.shape != expected_shape:
            issues.append("shape %r" % (a.shape,))
        if bool(a.flags.f_contiguous and not a.flags.c_contiguous) != (fortran.strip() == "F"):
            issues.append("memory order")
        if canonical(a) != open("%s/%s.bin" % (directory, name), "rb").read():
            issues.append("values differ")
        buf = io.BytesIO()
        np.save(buf, a)
        if buf.getvalue() != open(path, "rb").read():
            issues.append("np.save writes different bytes")
        if issues:
            problems += 1
            print("FAIL %s: %s" % (name, ", ".join(issues)))
    print("checked %d" % count)


def write(directory):
    rng = np.random.default_rng(7)
    entries = []

    def add(name, a):
        np.save("%s/%s.npy" % (directory, name), a)
        open("%s/%s.bin" % (directory, name), "wb").write(canonical(a))
        fortran = "F" if a.flags.f_contiguous and not a.flags.c_contiguous else "C"
        entries.append("%s\t%r\t%s\t%s" % (name, np.lib.format.dtype_to_descr(a.dtype), ",".join(map(str, a.shape)), fortran))

    codes = ["b1", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8", "c8", "c16"]
    for code in codes:
        for order in "<>":
            dt = np.dtype(order + code)
            for shape in [(), (7,), (3, 5), (2, 3, 4)]:
                n = int(np.prod(shape))
                if code == "b1":
                    raw = rng.integers(0, 2, size=n, dtype=np.uint8).tobytes()
                else:
                    raw = rng.integers(0, 256, size=n * dt.itemsize, dtype=np.uint8).tobytes()
                a = np.frombuffer(raw, dtype=dt.newbyteorder("<")).astype(dt).reshape(shape)
                tag = "%s%s_%s" % ("le" if order == "<" else "be", code, "x".join(map(str, shape)) or "0d")
                add(tag + "_C", a)
                if len(shape) >= 2:
                    add(tag + "_F", np.asfortranarray(a))
                    add(tag + "_T", a.T)  # a transposed view: numpy writes it in Fortran order
                    add(tag + "_strided", a[..., ::2])  # neither order: numpy writes C order
    strings = np.array([["ab", "日本語"], ["é", ""]], dtype=">U3")
    add("unicode_be", strings)
    add("unicode_le_F", np.asfortranarray(strings.astype("<U3")))
    add("bytes", np.array([b"x", b"\x00\xff", b"abcdef"], dtype="S6"))
    rec = np.zeros((4,), dtype=[("a", ">i4"), ("b", [("c", "<f8"), ("d", "S2")]), ("e", ">f2", (2,))])
    rec["a"] = [1, -2, 3, -4]
    rec["b"]["c"] = [0.5, np.nan, -np.inf, 1e300]
    rec["b"]["d"] = [b"ab", b"c", b"", b"zz"]
    rec["e"] = [[1, 2], [3, 4], [5, 6], [7, 8]]
    add("record", rec)
    open(directory + "/list.txt", "w").write("\n".join(entries) + "\n")
    print("wrote %d" % len(entries))


if __name__ == "__main__" and sys.argv[1] in ("read", "write"):
    {"read": check, "write": write}[sys.argv[1]](sys.argv[2])


def check_npz(directory):
    """Each line of DIR/npz.txt: ARCHIVE KEY DESCR SHAPE FORTRAN; KEY's canonical bytes in ARCHIVE.KEY.bin."""
    count = 0
    for line in open(directory + "/npz.txt"):
        archive, key, descr, shape, fortran = line.rstrip("\n").split("\t")
        count += 1
        with np.load("%s/%s" % (directory, archive)) as z:
            a = z[key]
        issues = []
        if repr(np.lib.format.dtype_to_descr(a.dtype)) != descr:
            issues.append("descr %r" % (np.lib.format.dtype_to_descr(a.dtype),))
        if a.shape != tuple(int(d) for d in shape.split(",") if d):
            issues.append("shape %r" % (a.shape,))
        if bool(a.flags.f_contiguous and not a.flags.c_contiguous) != (fortran == "F"):
            issues.append("memory order")
        if canonical(a) != open("%s/%s.%s.bin" % (directory, archive, key.replace("/", "_")), "rb").read():
            issues.append("values differ")
        if issues:
            print("FAIL %s:%s: %s" % (archive, key, ", ".join(issues)))
    print("checked %d" % count)


if __name__ == "__main__" and sys.argv[1] == "npz-read":
    check_npz(sys.argv[2])


def write_weights(directory):
    """DIR/w.npy: 3 Mi float32 that compress like weights; DIR/w.npz: np.savez_compressed of it."""
    w = np.round(np.random.default_rng(7).standard_normal(3 << 20) * 64).astype(np.float32) / 64
    np.save(directory + "/w.npy", w)
    np.savez_compressed(directory + "/w.npz", a=w)


if __name__ == "__main__" and sys.argv[1] == "weights":
    write_weights(sys.argv[2])


def write_casts(directory):
    """For every numeric pair: SRC.npy and the numpy result DST.npy of astype(dst, casting='unsafe').
    Float to integer pairs leave out NaN, infinities and out-of-range values (numpy's result
    is undefined there). Lines of DIR/casts.txt: SOURCE_FILE TARGET_FILE TARGET_DESCR."""
    import warnings
    warnings.simplefilter("ignore")
    codes = ["?", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8", "c8", "c16"]
    specials = [0, 1, -1, 2, 127, 128, 255, 256, -128, -129, 32767, 32768, 65535, 65536, -32769,
                2**31 - 1, 2**31, 2**32 - 1, 2**32, -2**31, 2**53 + 1, 2**63 - 1, -2**63, 2**64 - 1,
                0.5, -0.5, 1.5, 2.5, -2.5, 1e-8, 3.4e38, 1e39, 65504.0, 65520.0, 1e300, -0.0, 0.1, 1 / 3,
                float("nan"), float("inf"), float("-inf"), 1.0000001, 16777217.0]
    lines = []
    for s in codes:
        sdt = np.dtype(s) if s == "?" else np.dtype("<" + s)
        src_values = []
        for v in specials:
            try:
                with np.errstate(all="ignore"):
                    x = np.array([v]).astype(sdt)  # what this dtype makes of v (wraps ints)
                if sdt.kind in "iu" and isinstance(v, float):
                    continue
                src_values.append(x[0])
            except (OverflowError, ValueError):
                pass
        if sdt.kind == "c":
            src_values += [np.array([complex(1.5, -2)]).astype(sdt)[0], np.array([complex(0, 3)]).astype(sdt)[0]]
        src = np.array(src_values, dtype=sdt)
        for d in codes:
            ddt = np.dtype(d) if d == "?" else np.dtype("<" + d)
            a = src
            if sdt.kind in "fc" and ddt.kind in "iu":
                info = np.iinfo(ddt)
                re = a.real.astype(np.float64)
                keep = np.isfinite(re) & (re > float(info.min) - 1) & (re < float(info.max) + 1)
                # values near 2**63 / 2**64 round in float64: keep a margin
                keep &= np.abs(re) < 2.0**62
                a = a[keep]
            with np.errstate(all="ignore"):
                out = a.astype(ddt, casting="unsafe")
            name = "%s_to_%s" % (s.replace("?", "b1"), d.replace("?", "b1"))
            np.save("%s/%s.src.npy" % (directory, name), a)
            np.save("%s/%s.dst.npy" % (directory, name), out)
            lines.append("%s.src.npy\t%s.dst.npy" % (name, name))
    open(directory + "/casts.txt", "w").write("\n".join(lines) + "\n")
    print("wrote %d" % len(lines))


if __name__ == "__main__" and sys.argv[1] == "casts":
    write_casts(sys.argv[2])


def write_float_specials(directory):
    """Float <-> float casts of the special values (signalling and quiet NaNs with payloads,
    infinities, subnormals, -0.0) in both source byte orders: SRC.npy and numpy's
    astype result DST.npy. Lines of DIR/float_specials.txt: SOURCE_FILE TARGET_FILE."""
    import warnings
    warnings.simplefilter("ignore")
    bits = {
        "f2": [0x7C01, 0xFC01, 0x7D55, 0x7DFF, 0x7E00, 0x7E01, 0x7FFF, 0xFE00, 0x7C00, 0xFC00, 0x0001, 0x8001,
               0x03FF, 0x0400, 0x8000, 0x0000, 0x3C00, 0x7BFF],
        "f4": [0x7F800001, 0xFF800001, 0x7FA00000, 0x7F802000, 0x7FBFE000, 0x7FC00000, 0x7FC00001, 0xFFFFFFFF,
               0x7FC02000, 0x7F800000, 0xFF800000, 0x00000001, 0x807FFFFF, 0x00800000, 0x80000000, 0x33800000,
               0x33000000, 0x387FC000, 0x477FF000, 0x477FEFFF],
        "f8": [0x7FF0000000000001, 0xFFF0000000000001, 0x7FF4000000000000, 0x7FF0040000000000,
               0x7FF8000000000000, 0x7FF8000000000001, 0x7FF8000020000000, 0xFFFFFFFFFFFFFFFF,
               0x7FF0000000000000, 0xFFF0000000000000, 0x0000000000000001, 0x800FFFFFFFFFFFFF,
               0x0010000000000000, 0x8000000000000000, 0x36A0000000000000, 0x3E70000000000000,
               0x3E6FFFFFFFFFFFFF, 0x40EFFE0000000000, 0x47EFFFFFE0000000],
    }
    unsigned = {"f2": np.uint16, "f4": np.uint32, "f8": np.uint64}
    lines = []
    for s, words in bits.items():
        for order in "<>":
            src = np.array(words, dtype=unsigned[s]).view(np.dtype("<" + s)).astype(order + s)
            for d in bits:
                if d == s:
                    continue
                out = src.astype("<" + d, casting="unsafe")
                name = "%s%s_to_%s" % ("le" if order == "<" else "be", s, d)
                np.save("%s/%s.src.npy" % (directory, name), src)
                np.save("%s/%s.dst.npy" % (directory, name), out)
                lines.append("%s.src.npy\t%s.dst.npy" % (name, name))
    open(directory + "/float_specials.txt", "w").write("\n".join(lines) + "\n")


if __name__ == "__main__" and sys.argv[1] == "float_specials":
    write_float_specials(sys.argv[2])


def npz_update_check(before, after, spec):
    """Checks an archive edited in place: AFTER's member names are SPEC's "order", numpy
    loads each member equal to the .npy file SPEC's "values" names for it, every member
    not in SPEC's "changed" has BEFORE's method, CRC-32 and compressed bytes, stored
    members' data is 64-byte aligned, and zipfile's testzip finds nothing wrong."""
    import json, zipfile, struct
    spec = json.load(open(spec))

    def raw(path):
        out = {}
        with zipfile.ZipFile(path) as z, open(path, "rb") as f:
            for info in z.infolist():
                f.seek(info.header_offset)
                local = f.read(30)
                name_len, extra_len = struct.unpack("<HH", local[26:30])
                start = info.header_offset + 30 + name_len + extra_len
                f.seek(start)
                out[info.filename] = (info.compress_type, info.CRC, info.compress_size, f.read(info.compress_size), start)
        return out

    old, new = raw(before), raw(after)
    keys = [n[:-4] if n.endswith(".npy") else n for n in new]
    assert keys == spec["order"], (keys, spec["order"])
    for name, (method, crc, size, data, start) in new.items():
        key = name[:-4] if name.endswith(".npy") else name
        if method == 0:
            assert start % 64 == 0, (name, start)
        if key not in spec["changed"]:
            assert old[name][:4] == (method, crc, size, data), name
    with zipfile.ZipFile(after) as z:
        assert z.testzip() is None
    z = np.load(after)
    for key, path in spec["values"].items():
        want = np.load(path)
        got = z[key]
        assert got.dtype == want.dtype and got.shape == want.shape, (key, got.dtype, want.dtype)
        assert got.tobytes() == want.tobytes(), key
    print("ok")


if __name__ == "__main__" and sys.argv[1] == "npz_update_check":
    npz_update_check(sys.argv[2], sys.argv[3], sys.argv[4])


def expect_converts(directory):
    """Lines of DIR/convert.txt: SRC OUT DESCR ORDER (C, F or -) BYTEORDER (little, big, native or -).
    Writes OUT.expected.npy: what np.save writes for np.load(SRC).astype(...)."""
    import warnings
    warnings.simplefilter("ignore")
    count = 0
    for line in open(directory + "/convert.txt"):
        src, out, descr, order, byteorder = line.rstrip("\n").split("\t")
        a = np.load(src)
        t = a.dtype if descr == "-" else np.dtype(descr)
        if byteorder != "-":
            t = t.newbyteorder({"little": "<", "big": ">", "native": "="}[byteorder])
        o = {"C": "C", "F": "F", "-": "K"}[order]
        with np.errstate(all="ignore"):
            b = a.astype(t, order=o, casting="unsafe")
        np.save("%s.expected.npy" % out, b)
        count += 1
    print("wrote %d" % count)


if __name__ == "__main__" and sys.argv[1] == "converts":
    expect_converts(sys.argv[2])


def print_stats(paths):
    """One JSON line per .npy: numpy's count, nan and inf counts, and min/max/mean/std of the
    non-NaN values (population std)."""
    import json
    import warnings
    warnings.simplefilter("ignore")
    for path in paths:
        a = np.load(path)
        if a.dtype.kind == "b":
            a = a.astype(np.float64)
        nan = np.isnan(a)
        v = a[~nan]
        out = {"path": path, "nan": int(nan.sum()), "inf": int(np.isinf(a).sum())}
        if v.size:
            if a.dtype.kind == "c":
                m = v.astype(np.complex128).mean()
                out.update({"mean": [m.real, m.imag], "std": float(np.std(v.astype(np.complex128)))})
            else:
                w = v.astype(np.float64)
                out.update({"min": float(w.min()), "max": float(w.max()), "mean": float(w.mean()), "std": float(w.std())})
        def finite(x):
            if isinstance(x, list):
                return [finite(y) for y in x]
            return x if isinstance(x, int) or np.isfinite(x) else None
        print(json.dumps({k: finite(v) if k not in ("path",) else v for k, v in out.items()}))


if __name__ == "__main__" and sys.argv[1] == "stats":
    print_stats(sys.argv[2:])
