"""Side-by-side rows for safetensors: tensortool against the reference implementation
(the `safetensors` package) in one run. Usage: safetensors_side.py BENCH TENSORTOOL DATA [ROUNDS]"""
import os, statistics, subprocess, sys, time
import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

BENCH, TOOL, DATA = sys.argv[1], sys.argv[2], sys.argv[3]
ROUNDS = int(sys.argv[4]) if len(sys.argv) > 4 else 3


def ours(op, path, repeats):
    return float(subprocess.check_output([BENCH, op, path, str(repeats)]).decode().split()[-1])


def best(fn, repeats, inner=1):
    samples = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - t) / inner)
    return min(samples)


def process(args, before=None):
    """Wall time and peak resident memory (MiB) of one process. The peak is read from
    /proc (VmHWM) while it runs: getrusage's figure for a child starts from the peak of
    this process, which forked it."""
    if before:
        before()
    os.sync()
    t = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    peak = 0
    while child.poll() is None:
        try:
            with open("/proc/%d/status" % child.pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.002)
    elapsed = time.perf_counter() - t
    if child.returncode != 0:
        raise SystemExit("failed: %s" % args)
    return elapsed, peak / 1024


def main():
    os.makedirs(DATA, exist_ok=True)
    rng = np.random.default_rng(5)
    many = os.path.join(DATA, "st_1000_tensors.safetensors")
    if not os.path.exists(many):
        save_file({f"layer.{i}.weight": rng.normal(size=(16, 16)).astype(np.float32) for i in range(1000)}, many)
    big = os.path.join(DATA, "st_256MiB_f32.safetensors")
    if not os.path.exists(big):
        save_file({"w": rng.normal(size=(1 << 26,)).astype(np.float32)}, big)
    npz = os.path.join(DATA, "st_1GiB_4_members.npz")
    if not os.path.exists(npz):
        np.savez(npz, **{f"m{i}": rng.normal(size=(1 << 26,)).astype(np.float32) for i in range(4)})
    out = os.path.join(DATA, "st_out.safetensors")
    remove = lambda: os.path.exists(out) and os.remove(out)

    def keys():
        with safe_open(many, framework="np") as f:
            return list(f.keys())

    script = ("import numpy as np, sys\nfrom safetensors.numpy import save_file\n"
              "z = np.load(sys.argv[1])\nsave_file({k: z[k] for k in z.files}, sys.argv[2])\n")
    rows = {}
    memory = {}
    for _ in range(ROUNDS):
        for name, o, n in [
            ("open + list 1000 tensors (safe_open(f).keys())", lambda: ours("st-open", many, 5),
             lambda: best(keys, 5, inner=20)),
            ("load 256 MiB F32 (safetensors.numpy.load_file)", lambda: ours("st-load", big, 5),
             lambda: best(lambda: load_file(big), 5)),
        ]:
            rows.setdefault(name, ([], []))
            rows[name][0].append(o())
            rows[name][1].append(n())
        name = "convert a 1 GiB npz of 4 members to safetensors (save_file({k: z[k] for k in z.files}); one process each side)"
        t_o, m_o = process([TOOL, "convert", npz, out, "--no-sync", "-q"], remove)
        t_n, m_n = process([sys.executable, "-c", script, npz, out], remove)
        rows.setdefault(name, ([], []))
        rows[name][0].append(t_o)
        rows[name][1].append(t_n)
        memory[name] = (m_o, m_n)
    remove()
    print("numpy %s, safetensors %s, %d rounds; each cell: the median over rounds of each round's best time;"
          " ratio = reference time / tensortool time" % (np.__version__, __import__("safetensors").__version__, ROUNDS))
    print("| operation | tensortool | reference | ratio |")
    print("|---|---|---|---|")
    for name, (o, n) in rows.items():
        o, n = statistics.median(o), statistics.median(n)
        fmt = lambda s: "%.1f ms" % (s * 1e3) if s >= 0.01 else "%.1f us" % (s * 1e6)
        print("| %s | %s | %s | %.2fx |" % (name, fmt(o), fmt(n), n / o))
    for name, (m_o, m_n) in memory.items():
        print("\npeak resident memory, %s: tensortool %.0f MiB, reference script %.0f MiB" % (name.split(" (")[0], m_o, m_n))


main()
