"""numpy side of the TensorIO cross-check tests (Tests/TensorIOTests/NumpyCrossCheckTests.swift).

  python3 Tests/numpy_crosscheck.py read DIR    check the .npy files TensorIO wrote in DIR
  python3 Tests/numpy_crosscheck.py write DIR   write .npy files for TensorIO to read
  python3 Tests/numpy_crosscheck.py npz-read DIR check the .npz archives TensorIO wrote

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
