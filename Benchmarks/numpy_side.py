"""Benchmarks/run's driver: times TensorIO (through the tensorio-bench binary) and NumPy on
the same files, alternating rounds so that both see the same machine state, and prints
operation | tensortool | NumPy | ratio (ratio > 1: tensortool is faster)."""
import os
import statistics
import subprocess
import sys
import time

import numpy as np

BENCH, DATA, ROUNDS = sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 3


def ours(op, path, repeats, out=None):
    args = [BENCH, op, path, str(repeats)] + ([out] if out else [])
    return float(subprocess.check_output(args).decode().strip().splitlines()[-1])


def numpy_time(fn, repeats, inner=1):
    samples = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - t) / inner)
    return statistics.median(samples)


def save_fsync(a, path):
    with open(path, "wb") as f:
        np.save(f, a)
        f.flush()
        os.fsync(f.fileno())


_counter = [0]


def save_new_time(a, repeats):
    """np.save to a path that does not exist yet (as an atomic writer always does)."""
    samples = []
    for _ in range(repeats):
        _counter[0] += 1
        path = os.path.join(DATA, "out_numpy_%d.npy" % _counter[0])
        t = time.perf_counter()
        np.save(path, a)
        samples.append(time.perf_counter() - t)
        os.remove(path)
    return statistics.median(samples)


def main():
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

    rows = {}
    for _ in range(ROUNDS):
        for name, t_ours, t_np in [
            ("load 256 MiB f4 (np.load)", lambda: ours("load", big, 5), lambda: numpy_time(lambda: np.load(big), 5)),
            ("save 256 MiB f4 unsynced (np.save over the same file)", lambda: ours("save-unsynced", big, 5, out_ours), lambda: numpy_time(lambda: np.save(out_np, a), 5)),
            ("save 256 MiB f4 unsynced (np.save to a new file)", lambda: ours("save-unsynced", big, 5, out_ours), lambda: save_new_time(a, 5)),
            ("save 256 MiB f4 synced (np.save + fsync)", lambda: ours("save", big, 3, out_ours), lambda: numpy_time(lambda: save_fsync(a, out_np), 3)),
            ("open + parse header (np.load mmap_mode='r')", lambda: ours("open", small, 5), lambda: numpy_time(lambda: np.load(small, mmap_mode="r"), 5, inner=1000)),
        ] + [
            ("map 1 %s mode %s (np.load mmap_mode=%r)" % (size, mode, mode),
             (lambda p=path, m=mode: ours("map-" + m, p, 5)),
             (lambda p=path, m=mode: numpy_time(lambda: np.load(p, mmap_mode=m), 5, inner=200)))
            for size, path in (("MiB", one_mib), ("GiB", one_gib)) for mode in ("r", "r+", "c")
        ] + [
            ("copy-on-write export 1 KiB (numpy: a.copy())", lambda: ours("cow", tiny, 5), lambda: numpy_time(lambda: np.ones(256, np.float32).copy(), 5, inner=1000)),
            ("copy-on-write export 256 MiB (numpy: a.copy())", lambda: ours("cow", big, 5), lambda: numpy_time(lambda: a.copy(), 3)),
        ]:
            rows.setdefault(name, ([], []))
            rows[name][0].append(t_ours())
            rows[name][1].append(t_np())

    def fmt(op, seconds):
        if not op.startswith("load") and not op.startswith("save"):
            return "%.1f us" % (seconds * 1e6)
        return "%.1f ms (%.2f GB/s)" % (seconds * 1e3, mib * (1 << 20) / seconds / 1e9)

    print("numpy %s, %d rounds, medians; ratio = NumPy time / tensortool time (> 1: tensortool faster)" % (np.__version__, ROUNDS))
    print("| operation | tensortool | NumPy | ratio |")
    print("|---|---|---|---|")
    for op, (t_o, t_n) in rows.items():
        o, n = statistics.median(t_o), statistics.median(t_n)
        print("| %s | %s | %s | %.2fx |" % (op, fmt(op, o), fmt(op, n), n / o))
    for p in (out_ours, out_np):
        if os.path.exists(p):
            os.remove(p)


if __name__ == "__main__":
    main()
