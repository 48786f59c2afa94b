"""Side-by-side rows for looking inside and editing files (show, append, npz rm):
tensortool's command against the numpy script a user would write, each a whole
process, in one run. Usage: edit_side.py TENSORTOOL DATA [ROUNDS]"""
import os, shutil, statistics, subprocess, sys, time
import numpy as np

TOOL, DATA = sys.argv[1], sys.argv[2]
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 1


def run_time(args, before=None):
    """Wall time of one process; `before` runs first, untimed."""
    if before:
        before()
    os.sync()
    t = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def best(args, repeats, before=None):
    return min(run_time(args, before) for _ in range(repeats))


def main():
    os.makedirs(DATA, exist_ok=True)
    py = sys.executable
    # An 8 GiB array (65536 x 32768 float32) whose row 40000 holds values; the rest is
    # a sparse file of zeros (create), so it costs no disk.
    big = os.path.join(DATA, "show_8GiB.npy")
    if not os.path.exists(big):
        subprocess.run([TOOL, "create", big, "--dtype", "<f4", "--shape", "65536,32768", "--no-sync"], check=True)
        m = np.load(big, mmap_mode="r+")
        m[40000] = np.random.default_rng(1).normal(size=32768).astype(np.float32)
        m.flush()
        del m
    # A 4 GiB array to append 1 MiB to (a fresh sparse copy before each run).
    base = os.path.join(DATA, "append_4GiB.npy")
    dst = os.path.join(DATA, "append_dst.npy")
    src = os.path.join(DATA, "append_1MiB.npy")
    if not os.path.exists(base):
        subprocess.run([TOOL, "create", base, "--dtype", "<f4", "--shape", "1048576,1024", "--no-sync"], check=True)
    np.save(src, np.ones((256, 1024), np.float32))
    fresh_dst = lambda: subprocess.run(["cp", "--sparse=always", base, dst], check=True)
    # A 1 GiB archive numpy deflated: four 256 MiB int32 random walks.
    archive = os.path.join(DATA, "deflated_1GiB.npz")
    work = os.path.join(DATA, "rm_work.npz")
    if not os.path.exists(archive):
        rng = np.random.default_rng(2)
        np.savez_compressed(archive, **{f"m{i}": np.round(np.cumsum(rng.normal(size=1 << 26))).astype(np.int32) for i in range(4)})
    fresh_archive = lambda: shutil.copyfile(archive, work)

    rows = [
        ("show one row of an 8 GiB file (python -c \"print(np.load(f, mmap_mode='r')[40000])\")",
         lambda: best([TOOL, "show", big, "40000"], 5),
         lambda: best([py, "-c", "import numpy as np, sys; print(np.load(sys.argv[1], mmap_mode='r')[40000])", big], 5)),
        ("append 1 MiB to a 4 GiB .npy (np.save(dst, np.concatenate([np.load(dst), np.load(src)])))",
         lambda: best([TOOL, "append", dst, src, "--no-sync"], 3, fresh_dst),
         lambda: best([py, "-c", "import numpy as np, sys; d, s = sys.argv[1:]; np.save(d, np.concatenate([np.load(d), np.load(s)]))", dst, src], 1, fresh_dst)),
        ("npz rm one member of a 1 GiB deflated archive (np.load, then np.savez_compressed of the others)",
         lambda: best([TOOL, "npz", "rm", work, "m0", "--no-sync"], 3, fresh_archive),
         lambda: best([py, "-c", "import numpy as np, sys; z = np.load(sys.argv[1]); d = {k: z[k] for k in z.files if k != 'm0'}; z.close(); np.savez_compressed(sys.argv[1], **d)", work], 1, fresh_archive)),
    ]
    results = {}
    for _ in range(ROUNDS):
        for name, ours, theirs in rows:
            results.setdefault(name, ([], []))
            results[name][0].append(ours())
            results[name][1].append(theirs())
    print("numpy %s, %d round(s); each cell: whole-process wall time (best of the repeats, median over rounds);"
          " ratio = NumPy time / tensortool time" % (np.__version__, ROUNDS))
    print("| operation | tensortool | NumPy | ratio |")
    print("|---|---|---|---|")
    for name, (o, n) in results.items():
        o, n = statistics.median(o), statistics.median(n)
        print("| %s | %.1f ms | %.1f ms | %.0fx |" % (name, o * 1e3, n * 1e3, n / o))
    for p in (dst, work):
        if os.path.exists(p):
            os.remove(p)


main()
