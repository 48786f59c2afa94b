"""Benchmarks/run's driver: times TensorIO (through the tensorio-bench binary) and NumPy on
the same files, alternating rounds so that both see the same machine state, and prints
operation | tensortool | NumPy | ratio (ratio > 1: tensortool is faster).

Writes start from a clean page cache (sync before each timed write, both sides), and the
run starts by touching a few GiB of memory (see warm_memory). A write row says where it
writes: "to a new file" (the previous output removed before the clock starts, both
sides) or "replacing a synced file" (deleting the old file's blocks is timed, both
sides; on this project's virtual machines that alone takes about 0.6 ms per MiB)."""
import os
import statistics
import subprocess
import sys
import time

import numpy as np

BENCH, DATA, ROUNDS = sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 3
TENSORTOOL = os.environ.get("TENSORTOOL", "tensortool")
# BENCH_ROWS=REGEX: only the rows whose names match (and no size lines).
ROWS = os.environ.get("BENCH_ROWS")


def fresh(path):
    """Before a timed write to a new file: `path` removed and nothing left dirty."""
    if os.path.exists(path):
        os.remove(path)
    os.sync()


def process_time(args, repeats, new_file=None, stdin=None):
    """Best wall time of running a whole process (start-up included); `new_file`, an
    output path removed (and the page cache synced) before each run; `stdin`, bytes
    fed to the process."""
    samples = []
    for _ in range(repeats):
        if new_file:
            fresh(new_file)
        t = time.perf_counter()
        subprocess.run(args, stdout=subprocess.DEVNULL, input=stdin, check=True)
        samples.append(time.perf_counter() - t)
    return min(samples)


def ours(op, path, repeats, out=None, new_file=False):
    args = [BENCH, op, path, str(repeats)] + ([out] if out else []) + (["--new-file"] if new_file else [])
    return float(subprocess.check_output(args).decode().strip().splitlines()[-1])


def numpy_time(fn, repeats, inner=1, clean=False, new_file=None):
    samples = []
    for _ in range(repeats):
        if new_file:
            fresh(new_file)
        elif clean:
            os.sync()  # start from no dirty pages, as the tensortool side does
        t = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - t) / inner)
    return min(samples)  # the best of the samples, as the tensortool side reports


def save_fsync(a, path):
    with open(path, "wb") as f:
        np.save(f, a)
        f.flush()
        os.fsync(f.fileno())


def warm_memory(gib=6):
    """Touches (allocates, writes, frees) a few GiB first. On a virtual machine, memory the
    guest has never touched is backed lazily by the host, and the first write to each page
    costs a host fault: whichever side happened to get fresh pages would look slow. After
    this, both sides allocate from memory that is already backed."""
    block = np.ones(gib << 30, dtype=np.uint8)
    del block


def main():
    warm_memory()
    big = os.path.join(DATA, "f4_256MiB.npy")
    small = os.path.join(DATA, "f4_small.npy")
    out_ours = os.path.join(DATA, "out_tensortool.npy")
    out_np = os.path.join(DATA, "out_numpy.npy")
    if not os.path.exists(big):
        np.save(big, np.random.default_rng(0).standard_normal(64 << 20, dtype=np.float32))
    if not os.path.exists(small):
        np.save(small, np.arange(12, dtype=np.float32).reshape(3, 4))
    one_mib = os.path.join(DATA, "f4_1MiB.npy")
    one_gib = os.path.join(DATA, "f4_1GiB.npy")
    tiny = os.path.join(DATA, "f4_1KiB.npy")
    if not os.path.exists(one_mib):
        np.save(one_mib, np.ones(1 << 18, dtype=np.float32))
    if not os.path.exists(tiny):
        np.save(tiny, np.ones(256, dtype=np.float32))
    if not os.path.exists(one_gib):
        m = np.lib.format.open_memmap(one_gib, mode="w+", dtype=np.float32, shape=(1 << 28,))
        m[-1] = 1.0
        del m
    a = np.load(big)
    mib = a.nbytes / (1 << 20)
    # NPZ data: 64 MiB of float32 that compresses like real weights do (some redundancy).
    mid = os.path.join(DATA, "f4_64MiB_rounded.npy")
    if not os.path.exists(mid):
        np.save(mid, np.round(np.random.default_rng(1).standard_normal(16 << 20) * 64).astype(np.float32) / 64)
    m = np.load(mid)
    npz_ours = os.path.join(DATA, "out_tensortool.npz")
    npz_np = os.path.join(DATA, "out_numpy.npz")
    npz_stored = os.path.join(DATA, "stored_256MiB.npz")
    npz_deflated = os.path.join(DATA, "deflated_64MiB.npz")
    npz_small = os.path.join(DATA, "stored_1MiB.npz")
    if not os.path.exists(npz_stored):
        subprocess.check_call([BENCH, "savez", big, "1", npz_stored], stdout=subprocess.DEVNULL)
    if not os.path.exists(npz_small):
        subprocess.check_call([BENCH, "savez", one_mib, "1", npz_small], stdout=subprocess.DEVNULL)
    if not os.path.exists(npz_deflated):
        np.savez_compressed(npz_deflated, a=m)
    # The same array deflated by tensortool (restart points every 4 MiB), rewritten each
    # run so that it is the current writer's output.
    npz_deflated_ours = os.path.join(DATA, "deflated_64MiB_tensortool.npz")
    subprocess.check_call([BENCH, "savez-compressed", mid, "1", npz_deflated_ours], stdout=subprocess.DEVNULL)

    # CLI workloads (issue 5): 1000 small files; a big-endian and a C-ordered 2-d array.
    small_dir = os.path.join(DATA, "small")
    if not os.path.isdir(small_dir):
        os.makedirs(small_dir)
        for i in range(1000):
            np.save(os.path.join(small_dir, "s%04d.npy" % i), np.arange(i % 17 + 1, dtype=np.float32))
    small_files = sorted(os.path.join(small_dir, f) for f in os.listdir(small_dir))
    big_be = os.path.join(DATA, "f4_be_256MiB.npy")
    if not os.path.exists(big_be):
        np.save(big_be, a.astype(">f4"))
    square = os.path.join(DATA, "f4_8192x8192.npy")
    if not os.path.exists(square):
        np.save(square, a.reshape(8192, 8192))
    out_cli = os.path.join(DATA, "out_cli.npy")
    numpy_inspect = ("import sys, numpy as np\nfor f in sys.argv[1:]:\n"
                     "    m = np.load(f, mmap_mode='r')\n    print(f, m.dtype.str, m.shape, m.flags.f_contiguous)")
    numpy_stats = ("import sys, numpy as np\nm = np.load(sys.argv[1], mmap_mode='r')\n"
                   "print(m.min(), m.max(), m.mean(), m.std(), np.isnan(m).sum(), np.isinf(m).sum())")

    def convert_numpy(src, fn):
        np.save(out_np, fn(np.load(src)))

    def npz_load_numpy(path):
        with np.load(path) as z:
            return z["a"]

    # Deflate by kind of data (64 MiB each): sizes and speeds depend on the data.
    rng = np.random.default_rng(7)
    kinds = {}
    for kind, make in (
        ("int32 random walk", lambda: np.round(np.cumsum(rng.standard_normal(16 << 20))).astype(np.int32)),
        ("float32 normal", lambda: rng.standard_normal(16 << 20, dtype=np.float32)),
        ("float32 rounded to float16", lambda: rng.standard_normal(16 << 20, dtype=np.float32).astype(np.float16).astype(np.float32)),
        ("uint8 image-like", lambda: ((np.add.outer(np.arange(8192), np.arange(8192)) % 256) // 4 * 4
                                       + rng.integers(0, 4, (8192, 8192))).astype(np.uint8)),
    ):
        slug = kind.replace(" ", "_")
        npy = os.path.join(DATA, "kind_%s.npy" % slug)
        npz = os.path.join(DATA, "kind_%s.npz" % slug)
        if not (os.path.exists(npy) and os.path.exists(npz)):
            arr = make()
            np.save(npy, arr)
            np.savez_compressed(npz, a=arr)
        kinds[kind] = (npy, npz)

    # The four kinds as four members of one stored archive (the many-member row).
    multi = os.path.join(DATA, "kinds_stored.npz")
    if not os.path.exists(multi):
        np.savez(multi, **{"m%d" % i: np.load(npy) for i, (npy, _) in enumerate(kinds.values())})
    multi_out = os.path.join(DATA, "kinds_out.npz")

    def savez_compressed_multi():
        with np.load(multi) as z:
            np.savez_compressed(npz_np, **{k: z[k] for k in z.files})

    rows = {}
    for round_index in range(ROUNDS):
        for name, t_ours, t_np in [
            ("load 256 MiB f4 (np.load)", lambda: ours("load", big, 5), lambda: numpy_time(lambda: np.load(big), 5)),
            ("save 256 MiB f4 unsynced, to a new file (np.save)", lambda: ours("save-unsynced", big, 5, out_ours, new_file=True), lambda: numpy_time(lambda: np.save(out_np, a), 5, new_file=out_np)),
            ("save 256 MiB f4 unsynced, replacing a synced file (np.save over it)", lambda: ours("save-unsynced", big, 5, out_ours), lambda: numpy_time(lambda: np.save(out_np, a), 5, clean=True)),
            ("save 256 MiB f4 synced (np.save + fsync)", lambda: ours("save", big, 3, out_ours), lambda: numpy_time(lambda: save_fsync(a, out_np), 3, clean=True)),
            ("open + parse header (np.load mmap_mode='r')", lambda: ours("open", small, 5), lambda: numpy_time(lambda: np.load(small, mmap_mode="r"), 5, inner=1000)),
        ] + [
            ("map 1 %s mode %s (np.load mmap_mode=%r)" % (size, mode, mode),
             (lambda p=path, m=mode: ours("map-" + m, p, 5)),
             (lambda p=path, m=mode: numpy_time(lambda: np.load(p, mmap_mode=m), 5, inner=200)))
            for size, path in (("MiB", one_mib), ("GiB", one_gib)) for mode in ("r", "r+", "c")
        ] + [
            ("savez 256 MiB stored, unsynced, to a new file (np.savez)", lambda: ours("savez", big, 3, npz_ours, new_file=True), lambda: numpy_time(lambda: np.savez(npz_np, a=a), 3, new_file=npz_np)),
            ("savez 256 MiB stored, unsynced, replacing a synced file (np.savez over it)", lambda: ours("savez", big, 3, npz_ours), lambda: numpy_time(lambda: np.savez(npz_np, a=a), 3, clean=True)),
            ("savez_compressed 64 MiB, level 6, to a new file (np.savez_compressed)", lambda: ours("savez-compressed", mid, 1, npz_ours, new_file=True), lambda: numpy_time(lambda: np.savez_compressed(npz_np, a=m), 1, new_file=npz_np)),
            ("npz load deflated 64 MiB member (np.load(...)['a'])", lambda: ours("npz-load", npz_deflated, 3), lambda: numpy_time(lambda: npz_load_numpy(npz_deflated), 3)),
            ("npz load deflated 64 MiB member written by tensortool (np.load of the same file)", lambda: ours("npz-load", npz_deflated_ours, 3), lambda: numpy_time(lambda: npz_load_numpy(npz_deflated_ours), 3)),
            ("npz load stored 256 MiB member (np.load(...)['a'])", lambda: ours("npz-load", npz_stored, 3), lambda: numpy_time(lambda: npz_load_numpy(npz_stored), 3)),
            ("npz map stored 1 MiB member (np.load(...)['a'])", lambda: ours("npz-map", npz_small, 5), lambda: numpy_time(lambda: npz_load_numpy(npz_small), 5, inner=50)),
            ("npz map stored 256 MiB member (np.load(...)['a'])", lambda: ours("npz-map", npz_stored, 5), lambda: numpy_time(lambda: npz_load_numpy(npz_stored), 3)),
            ("inspect 1000 small files, named on stdin with --files-from - (numpy: as arguments; one process each side)",
             lambda: process_time([TENSORTOOL, "inspect", "--json", "--files-from", "-"], 3,
                                  stdin="\n".join(small_files).encode()),
             lambda: process_time([sys.executable, "-c", numpy_inspect] + small_files, 3)),
            ("inspect 1000 small files as arguments (ArgumentParser's parse grows with their square)",
             lambda: process_time([TENSORTOOL, "inspect", "--json"] + small_files, 3),
             lambda: process_time([sys.executable, "-c", numpy_inspect] + small_files, 3)),
            ("convert big-endian -> native 256 MiB, to a new file (np.load().astype('<f4') + np.save)",
             lambda: process_time([TENSORTOOL, "convert", big_be, out_cli, "--byte-order", "native", "--no-sync"], 3, new_file=out_cli),
             lambda: numpy_time(lambda: convert_numpy(big_be, lambda x: x.astype("<f4")), 3, new_file=out_np)),
            ("convert f4 -> f2 256 MiB, to a new file (astype('<f2') + np.save)",
             lambda: process_time([TENSORTOOL, "convert", big, out_cli, "--dtype", "<f2", "--no-sync"], 3, new_file=out_cli),
             lambda: numpy_time(lambda: convert_numpy(big, lambda x: x.astype("<f2")), 3, new_file=out_np)),
            ("convert C -> F 8192x8192 f4, to a new file (np.asfortranarray + np.save)",
             lambda: process_time([TENSORTOOL, "convert", square, out_cli, "--order", "F", "--no-sync"], 3, new_file=out_cli),
             lambda: numpy_time(lambda: convert_numpy(square, np.asfortranarray), 3, new_file=out_np)),
            ("stats 256 MiB f4 (min/max/mean/std/isnan/isinf, one process each side)",
             lambda: process_time([TENSORTOOL, "inspect", "--stats", big], 3),
             lambda: process_time([sys.executable, "-c", numpy_stats, big], 3)),
            ("copy-on-write export 1 KiB (numpy: a.copy())", lambda: ours("cow", tiny, 5), lambda: numpy_time(lambda: np.ones(256, np.float32).copy(), 5, inner=1000)),
            ("copy-on-write export 256 MiB (numpy: a.copy())", lambda: ours("cow", big, 5), lambda: numpy_time(lambda: a.copy(), 3)),
        ] + [
            row for kind, (npy, npz) in kinds.items() for row in (
                ("npz load deflated 64 MiB %s, written by numpy (np.load(...)['a'])" % kind,
                 (lambda p=npz: ours("npz-load", p, 3)), (lambda p=npz: numpy_time(lambda: npz_load_numpy(p), 3))),
                ("inspect --verify deflated 64 MiB %s, written by numpy (zipfile testzip; one process each side)" % kind,
                 (lambda p=npz: process_time([TENSORTOOL, "inspect", "--verify", "-q", p], 3)),
                 (lambda p=npz: process_time([sys.executable, "-c", "import zipfile, sys; assert zipfile.ZipFile(sys.argv[1]).testzip() is None", p], 3))),
                ("savez_compressed 64 MiB %s, level 6, to a new file (np.savez_compressed)" % kind,
                 (lambda p=npy: ours("savez-compressed", p, 1, npz_ours, new_file=True)),
                 (lambda p=npy: numpy_time(lambda: np.savez_compressed(npz_np, a=np.load(p)), 1, new_file=npz_np))),
            )
        ] + [
            ("savez_compressed 4 members x 64 MiB, one of each kind (convert --compress; np.load + np.savez_compressed)",
             lambda: process_time([TENSORTOOL, "convert", multi, multi_out, "--compress", "--no-sync", "-q"], 1, new_file=multi_out),
             lambda: numpy_time(savez_compressed_multi, 1, new_file=npz_np)),
        ]:
            if ROWS and not __import__("re").search(ROWS, name):
                continue
            rows.setdefault(name, ([], []))
            # Each side starts with no dirty pages from earlier rows (their write-back would
            # otherwise compete with whichever side runs first), and the sides take turns
            # at going first.
            sides = [(0, t_ours), (1, t_np)]
            for side, measure in (sides if round_index % 2 == 0 else sides[::-1]):
                os.sync()
                rows[name][side].append(measure())

    def fmt(op, seconds):
        import re
        size = re.search(r"(\d+) MiB", op)
        mebibytes = int(size.group(1)) if size else (256 if "8192x8192" in op else None)
        if mebibytes and "map" not in op and "export" not in op:
            return "%.1f ms (%.2f GB/s)" % (seconds * 1e3, mebibytes * (1 << 20) / seconds / 1e9)
        if seconds >= 0.01:
            return "%.1f ms" % (seconds * 1e3)
        return "%.1f us" % (seconds * 1e6)

    print("numpy %s, %d rounds; each cell: the median over rounds of each round's best time;"
          " ratio = NumPy time / tensortool time (> 1: tensortool faster)" % (np.__version__, ROUNDS))
    print("| operation | tensortool | NumPy | ratio |")
    print("|---|---|---|---|")
    for op, (t_o, t_n) in rows.items():
        o, n = statistics.median(t_o), statistics.median(t_n)
        print("| %s | %s | %s | %.2fx |" % (op, fmt(op, o), fmt(op, n), n / o))
    if ROWS:
        return
    sizes = []
    subprocess.check_call([BENCH, "savez-compressed", mid, "1", npz_ours], stdout=subprocess.DEVNULL)
    np.savez_compressed(npz_np, a=m)
    print()
    print("savez_compressed size: tensortool %d bytes, NumPy %d bytes (%+.3f%%)" % (
        os.path.getsize(npz_ours), os.path.getsize(npz_np), 100.0 * (os.path.getsize(npz_ours) / os.path.getsize(npz_np) - 1)))
    for kind, (npy, npz) in kinds.items():
        subprocess.check_call([BENCH, "savez-compressed", npy, "1", npz_ours], stdout=subprocess.DEVNULL)
        print("savez_compressed size, %s: tensortool %d bytes, NumPy %d bytes (%+.3f%%)" % (
            kind, os.path.getsize(npz_ours), os.path.getsize(npz), 100.0 * (os.path.getsize(npz_ours) / os.path.getsize(npz) - 1)))
    subprocess.check_call([TENSORTOOL, "convert", multi, multi_out, "--compress", "--no-sync", "-q"])
    savez_compressed_multi()
    print("savez_compressed size, 4 members: tensortool %d bytes, NumPy %d bytes (%+.3f%%)" % (
        os.path.getsize(multi_out), os.path.getsize(npz_np), 100.0 * (os.path.getsize(multi_out) / os.path.getsize(npz_np) - 1)))
    for p in (out_ours, out_np, npz_ours, npz_np, out_cli, multi_out):
        if os.path.exists(p):
            os.remove(p)


if __name__ == "__main__":
    main()
