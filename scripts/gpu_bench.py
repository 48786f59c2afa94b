"""The PyTorch and safetensors side of scripts/gpu-check, for one .npy file in the page cache.

Prints one JSON object of GB/s (1e9 bytes/s), each the best of `reps` runs:
  torch_up        torch.from_numpy(np.load(f, mmap_mode='r')).cuda()
  st_up           safetensors.torch.load_file(st, device='cuda:0') of the same array
  torch_down      g.cpu().numpy() + np.save(out)
  torch_down_sync the same + fsync of the file
  st_down         safetensors.torch.save_file({'x': g}, out)
"""
import json, os, sys, time, warnings
import numpy as np
import torch

warnings.simplefilter("ignore")
path, reps = sys.argv[1], int(sys.argv[2])
work = os.path.dirname(path)
nbytes = np.load(path, mmap_mode="r").nbytes
result = {}


def best(fn):
    times = []
    for _ in range(reps):
        times.append(fn())
    return round(nbytes / min(times) / 1e9, 3)


def torch_up():
    torch.cuda.synchronize()
    t = time.perf_counter()
    g = torch.from_numpy(np.load(path, mmap_mode="r")).cuda()
    torch.cuda.synchronize()
    elapsed = time.perf_counter() - t
    del g
    return elapsed


torch.zeros(1).cuda()  # context and allocator up before the clock, as for tensortool
result["torch_up"] = best(torch_up)
g = torch.from_numpy(np.load(path, mmap_mode="r")).cuda()
out = os.path.join(work, "torch_out.npy")


def torch_down(sync):
    def run():
        torch.cuda.synchronize()
        t = time.perf_counter()
        np.save(out, g.cpu().numpy())
        if sync:
            fd = os.open(out, os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)
        elapsed = time.perf_counter() - t
        os.remove(out)
        return elapsed

    return run


result["torch_down"] = best(torch_down(False))
result["torch_down_sync"] = best(torch_down(True))
try:
    import safetensors.numpy
    from safetensors.torch import load_file, save_file

    st = os.path.join(work, "in.safetensors")
    safetensors.numpy.save_file({"x": np.load(path, mmap_mode="r")}, st)
    with open(st, "rb") as fh:
        while fh.read(1 << 26):
            pass

    def st_up():
        torch.cuda.synchronize()
        t = time.perf_counter()
        d = load_file(st, device="cuda:0")
        torch.cuda.synchronize()
        elapsed = time.perf_counter() - t
        del d
        return elapsed

    result["st_up"] = best(st_up)
    st_out = os.path.join(work, "out.safetensors")

    def st_down():
        torch.cuda.synchronize()
        t = time.perf_counter()
        save_file({"x": g}, st_out)
        elapsed = time.perf_counter() - t
        os.remove(st_out)
        return elapsed

    result["st_down"] = best(st_down)
    os.remove(st)
except ImportError as error:
    result["safetensors"] = f"unavailable: {error}"
print(json.dumps(result))
