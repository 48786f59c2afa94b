#!/usr/bin/env python3
"""Writes the .npy fixture set and Fixtures/manifest.json, using NumPy as the oracle.

valid/      files np.save wrote, plus hand-made headers that np.load accepts
malformed/  files np.load refuses (or, under "unsupported", files numpy reads that
            TensorIO refuses on purpose, each with the reason)

For every valid file the manifest records what numpy says of it (descr as numpy writes
it, dtype name, shape, fortran_order, count, header length, data offset) and two sha256
digests: of the canonical bytes (C order, little-endian, zeroed padding) and of the bytes
np.save writes when the loaded array is saved again. For every malformed file it records
numpy's error and the reason TensorIO must give.

Run from anywhere: python3 Fixtures/generate.py   (deterministic; rewrites the set)
"""
import hashlib
import io
import json
import os
import re
import shutil
import struct
import sys
import warnings
import zipfile

# Deterministic: numpy's messages print sets, whose order follows the string hash seed.
if os.environ.get("PYTHONHASHSEED") != "0":
    os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, PYTHONHASHSEED="0"))

import numpy as np
from numpy.lib import format as npformat

HERE = os.path.dirname(os.path.abspath(__file__))
VALID = os.path.join(HERE, "valid")
BAD = os.path.join(HERE, "malformed")
warnings.simplefilter("ignore")
rng = np.random.default_rng(20261126)

valid = []
malformed = []


def sha(b):
    return hashlib.sha256(b).hexdigest()


def verdict(e):
    """numpy's error, as the manifest records it: type and first line, with object
    addresses (which change from run to run) left out."""
    text = str(e).splitlines()[0] if str(e) else ""
    return "%s: %s" % (type(e).__name__, re.sub(r" at 0x[0-9a-f]+", "", text))


def canonical(a):
    if a.dtype.itemsize == 0:  # S0, U0, V0: no bytes (np.zeros would widen S0 to S1)
        return b""
    out = np.zeros(a.shape, dtype=a.dtype.newbyteorder("<"))
    out[...] = a
    return out.tobytes(order="C")


def saved_bytes(a):
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def header_info(data):
    major = data[6]
    if major == 1:
        hlen = struct.unpack("<H", data[8:10])[0]
        start = 10
    else:
        hlen = struct.unpack("<I", data[8:12])[0]
        start = 12
    return "%d.%d" % (data[6], data[7]), hlen, start + hlen


def add_valid(name, data, how, max_header_size=None):
    path = os.path.join(VALID, name + ".npy")
    with open(path, "wb") as f:
        f.write(data)
    kwargs = {} if max_header_size is None else {"max_header_size": max_header_size}
    a = np.load(path, **kwargs)  # must succeed: numpy is the judge
    version, hlen, offset = header_info(data)
    entry = {
        "file": "valid/" + name + ".npy",
        "written_by": how,
        "version": version,
        "descr": repr(npformat.dtype_to_descr(a.dtype)),
        "dtype": a.dtype.name,
        "itemsize": a.dtype.itemsize,
        "shape": list(a.shape),
        "fortran_order": bool(a.flags.f_contiguous and not a.flags.c_contiguous),
        "count": int(a.size),
        "header_length": hlen,
        "data_offset": offset,
        "data_bytes": int(a.nbytes),
        "sha256": sha(canonical(a)),
        "resave_sha256": sha(saved_bytes(a)),
    }
    # What the header itself says (a crafted F-order empty array is C-contiguous once loaded).
    with open(path, "rb") as f:
        major, minor = npformat.read_magic(f)
        reader = npformat.read_array_header_1_0 if major == 1 else npformat.read_array_header_2_0
        shape, fortran, _ = reader(f, max_header_size=max_header_size or 10000)
    entry["header_fortran_order"] = bool(fortran)
    if max_header_size is not None:
        entry["max_header_size"] = max_header_size
    valid.append(entry)


def save_valid(name, a, **kw):
    add_valid(name, saved_bytes(a), "np.save", **kw)


def npy_bytes(header_text, data=b"", version=(1, 0), raw_header=None):
    body = raw_header if raw_header is not None else header_text.encode("latin1" if version < (3, 0) else "utf8")
    fmt = "<H" if version == (1, 0) else "<I"
    return b"\x93NUMPY" + bytes(version) + struct.pack(fmt, len(body)) + body + data


def add_bad(name, data, reason, max_header_size=None, numpy_loads=False):
    path = os.path.join(BAD, name + ".npy")
    with open(path, "wb") as f:
        f.write(data)
    try:
        np.load(path) if max_header_size is None else np.load(path, max_header_size=max_header_size)
        numpy_result = "loads"
    except Exception as e:  # numpy's verdict, recorded as-is
        numpy_result = verdict(e)
    if numpy_loads != (numpy_result == "loads"):
        raise SystemExit("fixture %s: expected numpy_loads=%s, numpy said %r" % (name, numpy_loads, numpy_result))
    entry = {"file": "malformed/" + name + ".npy", "reason": reason, "numpy": numpy_result}
    if max_header_size is not None:
        entry["max_header_size"] = max_header_size
    malformed.append(entry)


def values_for(dt, shape):
    n = int(np.prod(shape))
    k = dt.kind
    if k == "b":
        v = (np.arange(n) % 3 == 0)
    elif k in "iu":
        info = np.iinfo(dt)
        v = rng.integers(info.min, info.max, size=n, dtype=dt.newbyteorder("="), endpoint=True)
        v[0] = info.min
        v[-1] = info.max
    elif k == "f":
        v = (rng.standard_normal(n) * 100).astype(dt)
    elif k == "c":
        v = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(dt)
    return np.asarray(v, dtype=dt).reshape(shape)


def build():
    for d in (VALID, BAD):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)

    # Every numeric dtype in both byte orders (one-byte types have none).
    for code in ["b1", "i1", "u1", "i2", "i4", "i8", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16"]:
        orders = ["|"] if code in ("b1", "i1", "u1") else ["<", ">"]
        for order in orders:
            dt = np.dtype(order + code)
            tag = {"|": "", "<": "le_", ">": "be_"}[order]
            save_valid("dtype_%s%s" % (tag, code), values_for(dt, (2, 3)))

    # Memory order.
    save_valid("order_f_f4_2d", np.asfortranarray(values_for(np.dtype("<f4"), (3, 4))))
    save_valid("order_f_be_i2_3d", np.asfortranarray(values_for(np.dtype(">i2"), (2, 3, 4))))
    save_valid("order_f_c16_2d", np.asfortranarray(values_for(np.dtype("<c16"), (2, 5))))
    # datetime64 / timedelta64: units, multipliers, byte orders, NaT, generic, F order.
    times = np.array([0, 1, -1, 1_700_000_000, -86_401, np.iinfo(np.int64).min], dtype=np.int64)
    for descr in ("<M8[ns]", ">M8[s]", "<M8[D]", "<M8[Y]", "<M8[M]", "<M8[W]", "<M8[10s]", "<M8[25us]",
                  "<m8[s]", ">m8[ms]", "<m8[h]", "<m8[3D]", "<m8[as]", "<M8[as]", "<m8[Y]"):
        tag = descr.replace("<", "le_").replace(">", "be_").replace("[", "_").replace("]", "")
        save_valid("time_%s" % tag, times.view(np.dtype(descr).newbyteorder("=")).astype(descr))
    save_valid("time_generic_M8_nat", np.array(["NaT", "NaT"], dtype="M8"))
    save_valid("time_generic_m8_nat", np.array(["NaT"], dtype="m8"))
    save_valid("time_order_f_M8_us", np.asfortranarray(np.arange(12).astype("M8[us]").reshape(3, 4)))
    # x86-64 long double (80-bit extended in 16 bytes) and its complex.
    longs = np.array([0.0, -0.0, 1 / 3, -2.5, np.inf, -np.inf, np.nan, 2.0 ** 64 + 1, 1e-4940, 1e4931],
                     dtype=np.longdouble)
    save_valid("dtype_le_f16", longs.astype("<f16"))
    save_valid("dtype_be_f16", longs.astype(">f16"))
    save_valid("dtype_le_c32", (longs + 1j * longs[::-1]).astype("<c32"))
    save_valid("order_f_be_c32_2d", np.asfortranarray((longs[:6] - 1j).astype(">c32").reshape(2, 3)))
    save_valid("order_c_u8_3d", values_for(np.dtype("<u8"), (2, 3, 2)))

    # 0-d and empty arrays.
    save_valid("zero_d_f8", np.array(3.25, dtype="<f8"))
    save_valid("zero_d_be_i4", np.array(-7, dtype=">i4"))
    save_valid("empty_f4", np.zeros((0,), dtype="<f4"))
    save_valid("empty_3_0_2_i8", np.zeros((3, 0, 2), dtype="<i8"))
    save_valid("empty_0_0_b1", np.zeros((0, 0), dtype="?"))
    # A Fortran-order header for an empty array: numpy loads it C-contiguous.
    add_valid("empty_3_0_2_fortran_header",
              npy_bytes("{'descr': '<i8', 'fortran_order': True, 'shape': (3, 0, 2), }"), "crafted")

    # Ranks 1 to 5.
    for shape in [(5,), (2, 3), (2, 3, 4), (2, 1, 3, 2), (1, 2, 1, 2, 3)]:
        save_valid("rank%d_i4" % len(shape), values_for(np.dtype("<i4"), shape))
    save_valid("rank5_f_f8", np.asfortranarray(values_for(np.dtype("<f8"), (2, 1, 3, 1, 2))))

    # Strings.
    save_valid("bytes_S5", np.array([b"ab", b"hello", b"", b"\x00x\xff"], dtype="S5"))
    save_valid("unicode_le_U4", np.array(["ab", "héllo"[:4], "日本", "\U0001F600!"], dtype="<U4"))
    save_valid("unicode_be_U3", np.array([["a", "bc"], ["déf", ""]], dtype=">U3"))

    # Records.
    def record(dt, shape, fill):
        a = np.zeros(shape, dtype=dt)
        fill(a)
        return a

    simple = np.dtype([("x", "<f4"), ("y", "<i8")])
    save_valid("struct_simple", record(simple, (3,), lambda a: (a.__setitem__("x", [1.5, -2, 3]), a.__setitem__("y", [1, -2, 2**40]))))
    aligned = np.dtype([("a", "u1"), ("b", "<f8"), ("c", "<i2")], align=True)
    save_valid("struct_aligned", record(aligned, (2,), lambda a: (a.__setitem__("a", [7, 9]), a.__setitem__("b", [0.5, -1e300]), a.__setitem__("c", [-3, 4]))))
    offsets = np.dtype({"names": ["a", "b"], "formats": ["<i4", ">f2"], "offsets": [0, 8], "itemsize": 16})
    save_valid("struct_offsets", record(offsets, (2, 2), lambda a: (a.__setitem__("a", [[1, 2], [3, 4]]), a.__setitem__("b", [[0.5, 1], [-2, 65504]]))))
    nested = np.dtype([("id", "<u4"), ("pos", [("x", ">f4"), ("y", "<f4")]), ("tag", "S3")])
    def fill_nested(a):
        a["id"] = [10, 20]
        a["pos"]["x"] = [1.25, -4]
        a["pos"]["y"] = [2.5, 8]
        a["tag"] = [b"ab", b"xyz"]
    save_valid("struct_nested", record(nested, (2,), fill_nested))
    subarray = np.dtype([("m", "<f8", (2, 2)), ("v", ">i2", (3,)), ("u", "<U2")])
    def fill_sub(a):
        a["m"] = np.arange(12, dtype="f8").reshape(3, 2, 2)
        a["v"] = np.arange(9).reshape(3, 3) - 4
        a["u"] = ["é", "ab", ""]
    save_valid("struct_subarray", record(subarray, (3,), fill_sub))
    big = np.dtype([("a", ">i4"), ("b", ">c8"), ("c", "?"), ("raw", "V3")])
    def fill_big(a):
        a["a"] = [-1, 2**31 - 1]
        a["b"] = [1 + 2j, -3.5j]
        a["c"] = [True, False]
        a["raw"] = [b"\x01\x02\x03", b"abc"]
    save_valid("struct_big_endian", record(big, (2,), fill_big))
    titled = np.dtype([(("Title A", "a"), "<f4"), ("b", "<i2")])
    save_valid("struct_titles", record(titled, (2,), lambda a: (a.__setitem__("a", [1, 2]), a.__setitem__("b", [3, 4]))))
    save_valid("struct_zero_d", record(simple, (), lambda a: (a.__setitem__("x", 9.5), a.__setitem__("y", -1))))
    save_valid("struct_f_order", np.asfortranarray(record(simple, (2, 3), lambda a: (a.__setitem__("x", np.arange(6).reshape(2, 3)), a.__setitem__("y", -np.arange(6).reshape(2, 3))))))
    save_valid("struct_latin1_names", record(np.dtype([("café", "<f4"), ("ñ", "<i2")]), (2,), lambda a: a.__setitem__("café", [1, 2])))

    # Format 2.0 (header over 65535 bytes) and 3.0 (UTF-8 field names).
    wide = np.dtype([("field_%05d_with_a_long_descriptive_name" % i, "<i2") for i in range(1600)])
    a = np.zeros((2,), dtype=wide)
    a["field_00000_with_a_long_descriptive_name"] = [1, 2]
    a["field_01599_with_a_long_descriptive_name"] = [-3, 4]
    save_valid("version2_wide_record", a, max_header_size=200000)
    utf8 = np.dtype([("温度", "<f4"), ("é", "<i2"), ("名前", "<U2")])
    save_valid("version3_utf8_names", record(utf8, (2,), lambda a: (a.__setitem__("温度", [36.6, -1]), a.__setitem__("名前", ["日本", "x"]))))

    # NaN, infinities, negative zero and NaN payloads, bit for bit.
    f4 = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 1.0, np.float32(3.4e38), 1e-45], dtype="<f4")
    f4_bits = f4.view("<u4").copy()
    f4_bits[0] = 0x7FC00001  # quiet NaN with a payload
    f4_bits[5] = 0xFFA00000  # negative signalling-pattern NaN
    save_valid("nan_inf_le_f4", f4_bits.view("<f4"))
    save_valid("nan_inf_be_f4", f4_bits.view("<f4").astype(">f4"))
    f8_bits = np.array([0x7FF8000000000001, 0x7FF0000000000000, 0xFFF0000000000000, 0x8000000000000000, 0x7FF4000000000000, 1], dtype="<u8")
    save_valid("nan_inf_le_f8", f8_bits.view("<f8"))
    save_valid("nan_inf_be_f8", f8_bits.view("<f8").byteswap().view(">f8"))
    f2_bits = np.array([0x7E01, 0x7C00, 0xFC00, 0x8000, 0x0001, 0x7BFF], dtype="<u2")
    save_valid("nan_inf_le_f2", f2_bits.view("<f2"))
    save_valid("nan_inf_be_f2", f2_bits.view("<f2").byteswap().view(">f2"))
    save_valid("nan_inf_c8", np.array([complex(np.nan, -0.0), complex(np.inf, np.nan), complex(-0.0, -np.inf)], dtype="<c8"))
    save_valid("nan_inf_be_c16", np.array([complex(np.nan, -0.0), complex(np.inf, 1e-310), complex(-0.0, -np.inf)], dtype=">c16"))

    # Headers numpy accepts that np.save never writes.
    f4data = np.arange(3, dtype="<f4").tobytes()
    f8data = np.arange(3, dtype="<f8").tobytes()
    crafted = {
        "keys_reordered": ("{'shape': (3,), 'fortran_order': False, 'descr': '<f4'}", f4data),
        "no_trailing_comma_no_padding": ("{'descr':'<f4','fortran_order':False,'shape':(3,)}", f4data),
        "no_newline": ("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }    ", f4data),
        "python2_long": ("{'descr': '<f4', 'fortran_order': False, 'shape': (3L,), }\n", f4data),
        "native_order_eq_f8": ("{'descr': '=f8', 'fortran_order': False, 'shape': (3,), }\n", f8data),
        "typecode_d": ("{'descr': 'd', 'fortran_order': False, 'shape': (3,), }\n", f8data),
        "name_float32": ("{'descr': 'float32', 'fortran_order': False, 'shape': (3,), }\n", f4data),
        "pipe_order_f4": ("{'descr': '|f4', 'fortran_order': False, 'shape': (3,), }\n", f4data),
        "double_quotes": ('{"descr": "<f4", "fortran_order": False, "shape": (3,)}\n', f4data),
        "whitespace_and_comment": ("{ 'descr' :\t'<f4' ,\n 'fortran_order' : False ,\n 'shape' : ( 3 , ) } # made by hand\n", f4data),
        "hex_and_plus_dims": ("{'descr': '<f4', 'fortran_order': False, 'shape': (+0x3,)}", f4data),
        "string_concatenation": ("{'descr': '<' 'f4', 'fortran_order': False, 'shape': (3,)}", f4data),
        "duplicate_key_last_wins": ("{'descr': '<i2', 'descr': '<f4', 'fortran_order': False, 'shape': (3,)}", f4data),
        "trailing_bytes": ("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n", f4data + b"extra"),
        "rank0_empty_tuple_shape": ("{'descr': '<f8', 'fortran_order': True, 'shape': ()}", f8data[:8]),
        "bool_question_mark": ("{'descr': '?', 'fortran_order': False, 'shape': (3,)}", b"\x00\x01\x00"),
        "list_of_fields_with_padding": ("{'descr': [('', '|V4'), ('b', '<f4')], 'fortran_order': False, 'shape': (1,)}", b"\x00" * 4 + f4data[4:8]),
        "subarray_field_int_shape": ("{'descr': [('a', '<f4', 3)], 'fortran_order': False, 'shape': (1,)}", f4data),
    }
    for name, (text, data) in crafted.items():
        add_valid("header_" + name, npy_bytes(text, data), "crafted")
    add_valid("header_version2_small", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n", f4data, (2, 0)), "crafted")
    add_valid("header_version3_ascii", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n", f4data, (3, 0)), "crafted")
    add_valid("header_max_header_size_override", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }" + " " * 12000 + "\n", f4data), "crafted", max_header_size=20000)

    # --- Malformed files -------------------------------------------------------
    good = saved_bytes(np.arange(6, dtype="<f4").reshape(2, 3))
    add_bad("empty_file", b"", "truncatedPreamble")
    add_bad("bad_magic", b"\x93NUMPX" + good[6:], "badMagic")
    add_bad("text_file", b"descr,shape\n<f4,3\n", "badMagic")
    for major, minor in [(0, 0), (1, 1), (2, 1), (4, 0), (255, 255)]:
        add_bad("version_%d_%d" % (major, minor), good[:6] + bytes([major, minor]) + good[8:], "unsupportedVersion")
    add_bad("truncated_preamble", good[:9], "truncatedPreamble")
    add_bad("truncated_preamble_v2", npy_bytes("{}", b"", (2, 0))[:11], "truncatedPreamble")
    add_bad("truncated_header", good[:40], "truncatedHeader")
    add_bad("header_length_past_eof", good[:8] + struct.pack("<H", 60000) + good[10:], "truncatedHeader")
    add_bad("header_length_past_eof_v2", npy_bytes("{}", b"", (2, 0))[:8] + struct.pack("<I", 0xFFFFFFFF) + b"{}", "truncatedHeader")
    add_bad("truncated_data", good[:-5], "truncatedData")
    add_bad("no_data", good[:128], "truncatedData")

    def hdr(text, data=f4data, version=(1, 0)):
        return npy_bytes(text, data, version)

    add_bad("not_dict_list", hdr("['descr', '<f4', 'fortran_order', False, 'shape', (3,)]"), "headerNotDictionary")
    add_bad("not_dict_string", hdr("'<f4'"), "headerNotDictionary")
    add_bad("not_dict_tuple", hdr("('<f4', False, (3,))"), "headerNotDictionary")
    add_bad("not_dict_set", hdr("{'descr', 'fortran_order', 'shape'}"), "headerNotDictionary")
    add_bad("missing_key", hdr("{'descr': '<f4', 'shape': (3,)}"), "headerKeys")
    add_bad("extra_key", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'extra': 1}"), "headerKeys")
    add_bad("empty_dict", hdr("{}"), "headerKeys")
    add_bad("fortran_order_int", hdr("{'descr': '<f4', 'fortran_order': 0, 'shape': (3,)}"), "invalidFortranOrder")
    add_bad("fortran_order_string", hdr("{'descr': '<f4', 'fortran_order': 'False', 'shape': (3,)}"), "invalidFortranOrder")
    add_bad("fortran_order_none", hdr("{'descr': '<f4', 'fortran_order': None, 'shape': (3,)}"), "invalidFortranOrder")
    add_bad("negative_dim", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}"), "negativeDimension")
    add_bad("negative_dim_2d", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (3, -2)}"), "negativeDimension")
    add_bad("shape_list", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': [3]}"), "invalidShape")
    add_bad("shape_int", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': 3}"), "invalidShape")
    add_bad("shape_float_dim", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (3.0,)}"), "invalidShape")
    add_bad("shape_bool_dim", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (True,)}"), "invalidShape")
    add_bad("shape_string_dim", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': ('3',)}"), "invalidShape")
    add_bad("shape_none", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': None}"), "invalidShape")
    add_bad("shape_overflow_product", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776)}"), "shapeOverflow")
    add_bad("shape_overflow_bigint", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (%d,)}" % 2**70), "shapeOverflow")
    add_bad("shape_overflow_with_zero", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (0, %d, %d)}" % (2**62, 2**62)), "shapeOverflow")
    add_bad("shape_overflow_itemsize", hdr("{'descr': '<f8', 'fortran_order': False, 'shape': (%d,)}" % (2**62)), "shapeOverflow")
    add_bad("huge_shape_past_eof", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 1000)}"), "truncatedData")
    add_bad("too_many_dims", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (%s)}" % ("1, " * 65)), "tooManyDimensions")
    add_bad("descr_unknown_f3", hdr("{'descr': '<f3', 'fortran_order': False, 'shape': (3,)}"), "invalidDescr")
    add_bad("descr_unknown_name", hdr("{'descr': 'foo', 'fortran_order': False, 'shape': (3,)}"), "invalidDescr")
    add_bad("descr_unknown_q9", hdr("{'descr': '<q9', 'fortran_order': False, 'shape': (3,)}"), "invalidDescr")
    add_bad("descr_int", hdr("{'descr': 5, 'fortran_order': False, 'shape': (3,)}"), "invalidDescr")
    add_bad("descr_bad_field", hdr("{'descr': [('a',)], 'fortran_order': False, 'shape': (3,)}"), "invalidDescr")
    add_bad("descr_bytes", hdr("{'descr': b'<f4', 'fortran_order': False, 'shape': (3,)}"), "invalidDescr")
    add_bad("descr_duplicate_field", hdr("{'descr': [('a', '<f4'), ('a', '<i4')], 'fortran_order': False, 'shape': (1,)}", f4data[:8]), "invalidDescr")
    add_bad("object_array", hdr("{'descr': '|O', 'fortran_order': False, 'shape': (3,)}", b"\x80\x04N." * 6), "objectDType")
    add_bad("object_field", hdr("{'descr': [('a', '|O')], 'fortran_order': False, 'shape': (3,)}", b"\x80\x04N." * 6), "objectDType")
    add_bad("header_over_max_size", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }" + " " * 20000 + "\n"), "headerTooLarge")
    add_bad("header_over_max_size_v3", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }" + " " * 20000 + "\n", version=(3, 0)), "headerTooLarge")
    add_bad("header_over_custom_limit", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }" + " " * 200 + "\n"), "headerTooLarge", max_header_size=100)
    add_bad("expr_import", hdr("{'descr': __import__('os').system('true'), 'fortran_order': False, 'shape': (3,)}"), "headerSyntax")
    add_bad("expr_arithmetic", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (1+2,)}"), "headerSyntax")
    add_bad("expr_multiply", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (3*1,)}"), "headerSyntax")
    add_bad("expr_not", hdr("{'descr': '<f4', 'fortran_order': not True, 'shape': (3,)}"), "headerSyntax")
    add_bad("expr_call", hdr("dict(descr='<f4', fortran_order=False, shape=(3,))"), "headerSyntax")
    add_bad("expr_lambda", hdr("{'descr': (lambda: '<f4')(), 'fortran_order': False, 'shape': (3,)}"), "headerSyntax")
    add_bad("expr_fstring", hdr("{'descr': f'<f4', 'fortran_order': False, 'shape': (3,)}"), "headerSyntax")
    add_bad("expr_name", hdr("{'descr': float32, 'fortran_order': False, 'shape': (3,)}"), "headerSyntax")
    add_bad("expr_comprehension", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': tuple(3 for _ in [0])}"), "headerSyntax")
    add_bad("syntax_unterminated_string", hdr("{'descr': '<f4, 'fortran_order': False, 'shape': (3,)}"), "headerSyntax")
    add_bad("syntax_unclosed_dict", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (3,)"), "headerSyntax")
    add_bad("syntax_leading_indent", hdr("\n  {'descr': '<f4', 'fortran_order': False, 'shape': (3,)}"), "headerSyntax")
    add_bad("syntax_nul_byte", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (3,)}\x00"), "headerSyntax")
    add_bad("syntax_long_suffix_in_v3", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (3L,)}", version=(3, 0)), "headerSyntax")
    add_bad("syntax_deep_nesting", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': " + "(" * 300 + ")" * 300 + "}"), "headerSyntax")
    add_bad("header_invalid_utf8_v3", npy_bytes(None, f4data, (3, 0), raw_header=b"{'descr': '\xff\xfe', 'fortran_order': False, 'shape': (3,)}"), "headerEncoding")

    # numpy reads these; TensorIO refuses them on purpose, with a reason naming the dtype.
    add_bad("time_unknown_unit", hdr("{'descr': '<M8[xs]', 'fortran_order': False, 'shape': (3,)}", b"\x00" * 24), "invalidDescr")
    # numpy accepts a zero multiplier ([0s]) and reads such files: so do we (no casts).
    add_valid("time_zero_multiplier", hdr("{'descr': '<m8[0s]', 'fortran_order': False, 'shape': (3,)}", b"\x00" * 24), "crafted header")
    add_bad("time_negative_multiplier", hdr("{'descr': '<M8[-2s]', 'fortran_order': False, 'shape': (3,)}", b"\x00" * 24), "invalidDescr")
    add_bad("time_wrong_size", hdr("{'descr': '<M4[s]', 'fortran_order': False, 'shape': (3,)}", b"\x00" * 24), "invalidDescr")
    add_bad("unsupported_longdouble_12", hdr("{'descr': '<f12', 'fortran_order': False, 'shape': (1,)}", b"\x00" * 12), "unsupportedDType")
    # Zero-size elements: numpy reads |S0 and <U0 headers and writes |V0 arrays.
    add_valid("zero_size_S0", hdr("{'descr': '|S0', 'fortran_order': False, 'shape': (3,)}", b""), "crafted header")
    add_valid("zero_size_U0", hdr("{'descr': '<U0', 'fortran_order': False, 'shape': (2, 2)}", b""), "crafted header")
    save_valid("zero_size_V0", np.zeros((4,), dtype="V0"))

    build_npz()
    build_safetensors()

    manifest = {
        "generator": "Fixtures/generate.py",
        "numpy_version": np.__version__,
        "default_max_header_size": 10000,
        "valid": valid,
        "malformed": malformed,
        "npz_valid": npz_valid,
        "npz_malformed": npz_malformed,
        "safetensors_version": safetensors_version(),
        "safetensors_valid": st_valid,
        "safetensors_malformed": st_malformed,
    }
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False, sort_keys=True)
        f.write("\n")
    print("wrote %d valid and %d malformed .npy fixtures, %d valid and %d malformed .npz fixtures,"
          " %d valid and %d malformed .safetensors fixtures"
          % (len(valid), len(malformed), len(npz_valid), len(npz_malformed), len(st_valid), len(st_malformed)))


# --- NPZ ------------------------------------------------------------------------------

NPZ_VALID = os.path.join(HERE, "npz", "valid")
NPZ_BAD = os.path.join(HERE, "npz", "malformed")
npz_valid = []
npz_malformed = []


class Unseekable:
    """A write-only stream without tell/seek: zipfile then writes data descriptors."""

    def __init__(self):
        self.data = bytearray()

    def write(self, b):
        self.data += b
        return len(b)

    def read(self, n=-1):
        raise io.UnsupportedOperation("read")

    def flush(self):
        pass

    def tell(self):
        raise io.UnsupportedOperation("tell")

    def seek(self, *a):
        raise io.UnsupportedOperation("seek")


def describe_npz(data):
    """What numpy and zipfile say of an npz: members, their arrays and zip facts."""
    z = zipfile.ZipFile(io.BytesIO(data))
    loaded = np.load(io.BytesIO(data), max_header_size=10**6)
    members = []
    for info in z.infolist():
        raw = z.read(info)
        entry = {
            "name": info.filename,
            "key": info.filename[:-4] if info.filename.endswith(".npy") else info.filename,
            "compression": {0: "stored", 8: "deflate"}[info.compress_type],
            "compressed_bytes": info.compress_size,
            "uncompressed_bytes": info.file_size,
            "crc32": info.CRC,
            "data_descriptor": bool(info.flag_bits & 8),
            "sha256_member": sha(raw),
        }
        if info.filename.endswith(".npy") or raw[:6] == b"\x93NUMPY":
            a = loaded[entry["key"]] if entry["key"] in loaded.files else np.load(io.BytesIO(raw))
            entry.update({
                "descr": repr(npformat.dtype_to_descr(a.dtype)),
                "shape": list(a.shape),
                "fortran_order": bool(a.flags.f_contiguous and not a.flags.c_contiguous),
                "count": int(a.size),
                "data_bytes": int(a.nbytes),
                "sha256": sha(canonical(a)),
            })
        members.append(entry)
    return members


def add_npz(name, data, how):
    path = os.path.join(NPZ_VALID, name + ".npz")
    with open(path, "wb") as f:
        f.write(data)
    npz_valid.append({"file": "npz/valid/" + name + ".npz", "written_by": how, "members": describe_npz(data)})


def add_npz_bad(name, data, reason, numpy_loads=False, member=None):
    path = os.path.join(NPZ_BAD, name + ".npz")
    with open(path, "wb") as f:
        f.write(data)
    try:
        with np.load(path) as z:
            for key in z.files:
                z[key]
        numpy_result = "loads"
    except Exception as e:
        numpy_result = verdict(e)
    if numpy_loads != (numpy_result == "loads"):
        raise SystemExit("npz fixture %s: expected numpy_loads=%s, numpy said %r" % (name, numpy_loads, numpy_result))
    entry = {"file": "npz/malformed/" + name + ".npz", "reason": reason, "numpy": numpy_result}
    if member is not None:
        entry["member"] = member  # refused when this member is read, not at open
    npz_malformed.append(entry)


def savez_bytes(compressed=False, *args, **kwds):
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, *args, **kwds)
    return buf.getvalue()


# Member timestamps in the zips built here (zipfile would stamp the current time).
FIXED_TIME = (2026, 1, 1, 0, 0, 0)


def zip_bytes(entries, compression=zipfile.ZIP_STORED, comment=b"", stream=None):
    """A zip written by zipfile: to memory, or to `stream` (an Unseekable one makes
    zipfile write data descriptors, 32-bit ones for members under 4 GiB)."""
    buf = stream if stream is not None else io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as z:
        for name, payload in entries:
            z.writestr(zipfile.ZipInfo(name, date_time=FIXED_TIME), payload, compress_type=compression)
        z.comment = comment
    return bytes(buf.data) if stream is not None else buf.getvalue()


def npy(a):
    return saved_bytes(a)


def build_npz():
    for d in (NPZ_VALID, NPZ_BAD):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    arrays = {
        "a": values_for(np.dtype("<f4"), (2, 3)),
        "b": values_for(np.dtype(">i8"), (4,)),
        "scalar": np.array(2.5),
        "record": np.zeros(3, dtype=[("x", "<f4"), ("y", ">i2")]),
        "fortran": np.asfortranarray(values_for(np.dtype("<u2"), (3, 4))),
        "empty": np.zeros((0, 3), dtype="<c8"),
    }
    big = (np.arange(200000, dtype=np.float32) % 97).astype(np.float32)
    add_npz("savez", savez_bytes(False, **arrays), "np.savez")
    add_npz("savez_compressed", savez_bytes(True, big=big, **arrays), "np.savez_compressed")
    add_npz("positional", savez_bytes(False, arrays["a"], arrays["b"]), "np.savez")
    add_npz("empty_archive", savez_bytes(False), "np.savez")
    for compressed in (False, True):
        stream = Unseekable()
        (np.savez_compressed if compressed else np.savez)(stream, a=arrays["a"], big=big[:5000])
        add_npz("data_descriptors_" + ("deflate" if compressed else "stored"), bytes(stream.data), "np.savez to a stream")
    add_npz("data_descriptors_32bit", zip_bytes([("a.npy", npy(arrays["a"])), ("big.npy", npy(big[:5000]))], zipfile.ZIP_DEFLATED, stream=Unseekable()), "zipfile to a stream (32-bit data descriptors)")
    add_npz("names_without_npy_and_text_member", zip_bytes([("noext", npy(arrays["a"])), ("readme.txt", b"hello\n"), ("b.npy", npy(arrays["b"]))]), "zipfile")
    add_npz("names_with_slash_and_dots", zip_bytes([("dir/sub.name.v2.npy", npy(arrays["a"]))], zipfile.ZIP_DEFLATED), "zipfile")
    add_npz("archive_comment", zip_bytes([("a.npy", npy(arrays["a"]))], comment=b"an archive comment, made by zipfile"), "zipfile")
    add_npz("zip64_end_records", zip64_end_records(zip_bytes([("a.npy", npy(arrays["a"])), ("b.npy", npy(arrays["b"]))])), "crafted ZIP64 end records")

    # Malformed archives.
    good = savez_bytes(False, a=arrays["a"], b=arrays["b"])
    good_deflate = savez_bytes(True, a=arrays["a"], zeros=np.zeros(100000, np.float32))
    add_npz_bad("empty_file", b"", "archiveStructure")
    add_npz_bad("not_a_zip", b"this is not a zip file at all, just text" * 3, "archiveStructure")
    add_npz_bad("truncated_end", good[:-10], "archiveStructure")
    add_npz_bad("truncated_middle", good[: len(good) // 2], "archiveStructure")
    cd = good.rfind(b"PK\x01\x02")
    add_npz_bad("central_directory_past_end", patch_eocd(good, cd_offset=len(good) + 100), "archiveStructure")
    add_npz_bad("entry_count_lies", patch_eocd(good, entries=5), "archiveStructure", numpy_loads=True)
    add_npz_bad("multi_disk", patch_eocd(good, disk=1), "unsupportedArchive", numpy_loads=True)
    first_data = 30 + 5 + 20  # local header + 'a.npy' + numpy's zip64 extra
    flipped = bytearray(good)
    flipped[first_data + 130] ^= 0xFF
    add_npz_bad("bad_crc", bytes(flipped), "checksumMismatch", member="a")
    add_npz_bad("compressed_size_lies", patch_central(good, 0, compressed=len(good) * 4), "archiveStructure", numpy_loads=True)
    add_npz_bad("local_name_differs", good.replace(b"a.npy", b"x.npy", 1), "archiveStructure", member="a")
    add_npz_bad("npy_header_promises_more", zip_bytes([("a.npy", npy(arrays["a"])[:-8])]), "truncatedData", member="a")
    add_npz_bad("member_not_npy", zip_bytes([("a.npy", b"not an npy file at all" * 10)]), "badMagic", member="a", numpy_loads=True)
    add_npz_bad("duplicate_names", duplicate_names(good), "archiveStructure", numpy_loads=True)
    add_npz_bad("path_traversal", zip_bytes([("../evil.npy", npy(arrays["a"]))]), "unsafeMemberName", numpy_loads=True)
    add_npz_bad("absolute_path", zip_bytes([("/etc/evil.npy", npy(arrays["a"]))]), "unsafeMemberName", numpy_loads=True)
    add_npz_bad("inner_dotdot", zip_bytes([("a/../../evil.npy", npy(arrays["a"]))]), "unsafeMemberName", numpy_loads=True)
    add_npz_bad("method_bzip2", zip_bytes([("a.npy", npy(arrays["a"]))], zipfile.ZIP_BZIP2), "unsupportedArchive", numpy_loads=True)
    add_npz_bad("encrypted_flag", set_flag(good, 0x1), "unsupportedArchive")
    # A deflate stream carrying 400 KB of zeros after a 16-element array: numpy reads the
    # array and ignores the rest; we stop at the size the npy header declares and refuse.
    bomb = npy(np.zeros(16, np.float32)) + b"\x00" * 400000
    add_npz_bad("inflates_past_npy_size", zip_bytes([("a.npy", bomb)], zipfile.ZIP_DEFLATED), "inflateOverrun", numpy_loads=True, member="a")
    add_npz_bad("uncompressed_size_lies_small", patch_central(good_deflate, 1, uncompressed=1000), "truncatedData", member="zeros")
    add_npz_bad("uncompressed_size_implausible", patch_central(good_deflate, 1, uncompressed=1 << 40), "archiveStructure", numpy_loads=True)
    corrupt = bytearray(good_deflate)
    second = good_deflate.find(b"zeros.npy")
    for i in range(second + 40, second + 60):
        corrupt[i] ^= 0x55
    add_npz_bad("corrupt_deflate_stream", bytes(corrupt), "inflateFailed", member="zeros")


def find_eocd(data):
    return data.rfind(b"PK\x05\x06")


def patch_eocd(data, cd_offset=None, entries=None, disk=None):
    b = bytearray(data)
    e = find_eocd(data)
    if cd_offset is not None:
        struct.pack_into("<I", b, e + 16, cd_offset)
    if entries is not None:
        struct.pack_into("<HH", b, e + 8, entries, entries)
    if disk is not None:
        struct.pack_into("<HH", b, e + 4, disk, disk)
    return bytes(b)


def central_entries(data):
    e = find_eocd(data)
    count, size, offset = struct.unpack_from("<HII", data, e + 10)
    out = []
    p = offset
    for _ in range(count):
        nl, el, cl = struct.unpack_from("<HHH", data, p + 28)
        out.append(p)
        p += 46 + nl + el + cl
    return out


def patch_central(data, index, compressed=None, uncompressed=None):
    b = bytearray(data)
    p = central_entries(data)[index]
    if compressed is not None:
        struct.pack_into("<I", b, p + 20, compressed)
    if uncompressed is not None:
        if uncompressed >= 1 << 32:
            # Say so through a ZIP64 extra: rebuild this entry's extra with the big size.
            nl, el, cl = struct.unpack_from("<HHH", data, p + 28)
            struct.pack_into("<I", b, p + 24, 0xFFFFFFFF)
            extra = struct.pack("<HHQ", 1, 8, uncompressed)
            b[p + 46 + nl: p + 46 + nl + el] = extra
            struct.pack_into("<H", b, p + 30, len(extra))
            e = find_eocd(bytes(b))
            struct.pack_into("<I", b, e + 12, struct.unpack_from("<I", b, e + 12)[0] + len(extra) - el)
        else:
            struct.pack_into("<I", b, p + 24, uncompressed)
    return bytes(b)


def set_flag(data, flag):
    b = bytearray(data)
    for p in central_entries(data):
        struct.pack_into("<H", b, p + 8, struct.unpack_from("<H", b, p + 8)[0] | flag)
    struct.pack_into("<H", b, 6, struct.unpack_from("<H", b, 6)[0] | flag)
    return bytes(b)


def duplicate_names(data):
    # Rename the second member ("b.npy") to "a.npy" in both headers.
    b = bytearray(data)
    second_local = data.find(b"PK\x03\x04", 1)
    b[second_local + 30: second_local + 35] = b"a.npy"
    p = central_entries(data)[1]
    b[p + 46: p + 51] = b"a.npy"
    return bytes(b)


def zip64_end_records(data):
    """The same archive with ZIP64 end records (and 0xFFFF/0xFFFFFFFF in the classic end)."""
    e = find_eocd(data)
    count, size, offset = struct.unpack_from("<HII", data, e + 10)
    body = data[:e]
    z64_offset = len(body)
    record = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, size, offset)
    locator = struct.pack("<IIQI", 0x07064B50, 0, z64_offset, 1)
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return body + record + locator + eocd


# --- safetensors ----------------------------------------------------------------------
# Valid files are written by the reference implementation (the `safetensors` package);
# malformed ones are crafted, each with the reference's own refusal and the reason
# TensorIO must give.

ST_VALID = os.path.join(HERE, "safetensors", "valid")
ST_BAD = os.path.join(HERE, "safetensors", "malformed")
st_valid = []
st_malformed = []


def safetensors_version():
    import safetensors
    return safetensors.__version__


def e4m3_to_f32(b):
    sign = -1.0 if b & 0x80 else 1.0
    exponent, mantissa = (b >> 3) & 0xF, b & 7
    if exponent == 0xF and mantissa == 7:
        return float("nan")
    if exponent == 0:
        return sign * mantissa / 8 * 2.0 ** -6
    return sign * (1 + mantissa / 8) * 2.0 ** (exponent - 7)


def extended_as_f32(dtype, raw):
    """BF16 / F8 raw bytes as their exact float32 values (little-endian bytes)."""
    if dtype == "BF16":
        return (np.frombuffer(raw, "<u2").astype("<u4") << 16).tobytes()
    u = np.frombuffer(raw, "u1")
    if dtype == "F8_E5M2":
        return (u.astype("<u2") << 8).view("<f2").astype("<f4").tobytes()
    return np.array([e4m3_to_f32(int(b)) for b in u], "<f4").tobytes()


def add_st(name, data, how):
    from safetensors import deserialize
    os.makedirs(ST_VALID, exist_ok=True)
    with open(os.path.join(ST_VALID, name + ".safetensors"), "wb") as f:
        f.write(data)
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    tensors = []
    for tname, info in deserialize(data):
        entry = {"name": tname, "dtype": info["dtype"], "shape": list(info["shape"]), "sha256": sha(bytes(info["data"]))}
        if info["dtype"] in ("BF16", "F8_E5M2", "F8_E4M3"):
            entry["float32_sha256"] = sha(extended_as_f32(info["dtype"], bytes(info["data"])))
        tensors.append(entry)
    tensors.sort(key=lambda t: t["name"])
    st_valid.append({"file": "safetensors/valid/" + name + ".safetensors", "written_by": how,
                     "metadata": header.get("__metadata__") or {}, "tensors": tensors})


def add_st_bad(name, data, reason, reference_reads=False):
    """A file TensorIO refuses: malformed (the reference refuses it too), or with
    `reference_reads` a dtype the reference reads that TensorIO refuses by name."""
    from safetensors import deserialize
    os.makedirs(ST_BAD, exist_ok=True)
    with open(os.path.join(ST_BAD, name + ".safetensors"), "wb") as f:
        f.write(data)
    try:
        deserialize(data)
        said = None
    except Exception as e:
        said = "%s: %s" % (type(e).__name__, e)
    if (said is None) != reference_reads:
        raise SystemExit("safetensors fixture %s: expected reference_reads=%s, the reference said %r" % (name, reference_reads, said))
    st_malformed.append({"file": "safetensors/malformed/" + name + ".safetensors", "reason": reason,
                         "reference": said or "reads it"})


def st_header(header, data=b"", raw=None, pad=True):
    text = raw if raw is not None else json.dumps(header, separators=(",", ":")).encode()
    if pad and raw is None:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def build_safetensors():
    from safetensors import TensorSpec, serialize
    from safetensors.numpy import save
    for d in (ST_VALID, ST_BAD):
        shutil.rmtree(d, ignore_errors=True)
    every = {
        "bool": rng.random(6) < 0.5,
        "u8": rng.integers(0, 256, (2, 3), dtype="u1"),
        "i8": rng.integers(-128, 128, (3,), dtype="i1"),
        "u16": rng.integers(0, 2**16, (4,), dtype="<u2"),
        "i16": rng.integers(-2**15, 2**15, (2, 2), dtype="<i2"),
        "u32": rng.integers(0, 2**32, (3,), dtype="<u4"),
        "i32": rng.integers(-2**31, 2**31, (3, 1), dtype="<i4"),
        "u64": rng.integers(0, 2**63, (2,), dtype="<u8") * 2 + 1,
        "i64": rng.integers(-2**63, 2**63 - 1, (2,), dtype="<i8"),
        "f16": rng.normal(size=(5,)).astype("<f2"),
        "f32": rng.normal(size=(2, 3, 2)).astype("<f4"),
        "f64": np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1e-300, 5e-324]),
        "c64": (rng.normal(size=3) + 1j * rng.normal(size=3)).astype("<c8"),
    }
    for key, a in every.items():
        add_st("dtype_" + key, save({"t": a}), "safetensors.numpy.save")
    add_st("every_dtype", save(every), "safetensors.numpy.save")
    add_st("metadata", save({"w": every["f32"]}, metadata={"format": "pt", "note": "caf\u00e9 \"q\" \\ \n"}),
           "safetensors.numpy.save with metadata")
    add_st("scalar_and_empty", save({"scalar": np.array(3.5, "<f4"), "empty": np.zeros((0, 3), "<i4")}),
           "safetensors.numpy.save")
    add_st("empty_file", save({}), "safetensors.numpy.save")
    add_st("names", save({"a/b.c": every["i8"], "\u00e9\u4e2d": every["u8"], "x y": every["bool"]}),
           "safetensors.numpy.save")
    add_st("big_endian_source", save({"be": every["f64"].astype(">f8"), "bi": every["i32"].astype(">i4")}),
           "safetensors.numpy.save of big-endian arrays")
    # BF16 and F8: numpy has no dtype; the reference writes their raw bytes.
    bf = np.array([0x3F80, 0xC000, 0x7F80, 0xFF80, 0x7FC0, 0x0001, 0x8000, 0x4049], "<u2")
    f8 = np.arange(256, dtype="u1")
    specs = {
        "bf": TensorSpec(dtype="bfloat16", shape=(2, 4), data_ptr=bf.ctypes.data, data_len=bf.nbytes),
        "e4m3": TensorSpec(dtype="float8_e4m3fn", shape=(16, 16), data_ptr=f8.ctypes.data, data_len=256),
        "e5m2": TensorSpec(dtype="float8_e5m2", shape=(256,), data_ptr=f8.ctypes.data, data_len=256),
        "f": TensorSpec(dtype="float32", shape=(3,), data_ptr=every["f32"].ctypes.data, data_len=12),
    }
    add_st("bf16_f8", bytes(serialize(specs)), "safetensors.serialize")

    f4 = b"\0" * 4
    one = {"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}
    add_st_bad("empty", b"", "headerTooSmall")
    add_st_bad("short_length", b"\x01\x00\x00", "headerTooSmall")
    add_st_bad("header_too_large", struct.pack("<Q", 100_000_001) + b"{}", "headerTooLarge")
    add_st_bad("length_past_end", struct.pack("<Q", 64) + b"{}", "headerLengthPastEnd")
    add_st_bad("invalid_utf8", st_header(None, f4, raw=b'{"\xff":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'), "invalidUTF8")
    add_st_bad("not_json", st_header(None, f4, raw=b'{"a":{"dtype":"F32",'), "invalidJSON")
    add_st_bad("not_an_object", st_header(None, b"", raw=b"[]"), "invalidJSON")
    add_st_bad("nul_padding", st_header(None, f4, raw=json.dumps(one, separators=(",", ":")).encode() + b"\0\0"), "invalidJSON")
    add_st_bad("unknown_dtype", st_header({"a": {"dtype": "F31", "shape": [1], "data_offsets": [0, 4]}}, f4), "invalidJSON")
    add_st_bad("unsupported_dtype_f4", st_header({"a": {"dtype": "F4", "shape": [2], "data_offsets": [0, 1]}}, b"\0"),
               "invalidJSON", reference_reads=True)
    add_st_bad("negative_shape", st_header({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, f4), "invalidJSON")
    add_st_bad("float_shape", st_header({"a": {"dtype": "F32", "shape": [1.0], "data_offsets": [0, 4]}}, f4), "invalidJSON")
    add_st_bad("three_offsets", st_header({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4, 4]}}, f4), "invalidJSON")
    add_st_bad("missing_shape", st_header({"a": {"dtype": "F32", "data_offsets": [0, 4]}}, f4), "invalidJSON")
    add_st_bad("duplicate_field", st_header(None, f4, raw=b'{"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}'), "invalidJSON")
    add_st_bad("metadata_not_strings", st_header({"__metadata__": {"x": 1}, **one}, f4), "invalidJSON")
    add_st_bad("gap", st_header({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, f4 * 2), "invalidOffset")
    add_st_bad("overlap", st_header({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                                     "b": {"dtype": "F32", "shape": [1], "data_offsets": [2, 6]}}, b"\0" * 6), "invalidOffset")
    add_st_bad("end_before_begin", st_header({"a": {"dtype": "F32", "shape": [0], "data_offsets": [4, 0]}}, f4), "invalidOffset")
    add_st_bad("wrong_byte_count", st_header({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, f4), "byteCountMismatch")
    add_st_bad("shape_overflow", st_header({"a": {"dtype": "F32", "shape": [2**40, 2**40], "data_offsets": [0, 4]}}, f4), "sizeOverflow")
    add_st_bad("trailing_bytes", st_header(one, f4 + b"\0"), "incompleteCoverage")
    add_st_bad("data_past_end", st_header({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, f4), "incompleteCoverage")


if __name__ == "__main__":
    build()
