"""PyTorch's side of bench/conv-grad.ts: times one pass of a Conv (forward, input gradient or weight
gradient) on request, so that the benchmark can interleave PyTorch's runs with ONNX Runtime's.

Started by bench/lib/torch.ts as `python3 torch_conv.py THREADS wall|cpu`; prints one JSON line with
torch's version and thread count, then answers each JSON request line
  {"conv": {batch, inChannels, outChannels, input, kernel, stride, dilation, before, after, groups},
   "pass": "forward" | "input" | "weight", "runs": R, "warmup": W}
with one JSON line {"samples": [ms, ...], "backend": name}, `backend` being the convolution
backend PyTorch picks (Mkldnn is oneDNN; Slow3d and the like go through the BLAS torch was built
with, which for Debian's torch is the unoptimised reference libblas: PyTorch takes that route for
1x1 kernels at small batch on one thread). The gradients are aten.convolution_backward with one
output requested (what autograd runs for a Conv whose other operand needs no gradient). Asymmetric
padding is applied to the input beforehand, outside the timed region. "cpu" times process CPU
seconds instead of wall-clock time (meaningful with one thread on a busy machine).
"""
import json
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(int(sys.argv[1]))
clock = time.process_time if sys.argv[2] == "cpu" else time.perf_counter
print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)

prepared = {}


def prepare(conv):
    key = json.dumps(conv, sort_keys=True)
    if key in prepared:
        return prepared[key]
    prepared.clear()
    torch.manual_seed(0)
    spatial = len(conv["input"])
    x = torch.randn([conv["batch"], conv["inChannels"]] + conv["input"])
    w = torch.randn([conv["outChannels"], conv["inChannels"] // conv["groups"]] + conv["kernel"])
    before, after = conv["before"], conv["after"]
    symmetric = before == after
    if not symmetric:
        # F.pad lists the last axis first.
        x = F.pad(x, [p for axis in reversed(range(spatial)) for p in (before[axis], after[axis])])
    padding = before if symmetric else [0] * spatial
    args = (conv["stride"], padding, conv["dilation"])
    forward = {2: F.conv2d, 3: F.conv3d}[spatial]
    with torch.no_grad():
        dy = torch.randn_like(forward(x, w, None, *args, conv["groups"]))

    def backward(mask):
        return lambda: torch.ops.aten.convolution_backward(dy, x, w, None, *args, False, [0] * spatial, conv["groups"], mask)

    backend = str(torch._C._select_conv_backend(x, w, None, *args, False, [0] * spatial, conv["groups"])).split(".")[-1]
    passes = {
        "forward": lambda: forward(x, w, None, *args, conv["groups"]),
        "input": backward([True, False, False]),
        "weight": backward([False, True, False]),
    }
    prepared[key] = (passes, backend)
    return prepared[key]


for line in sys.stdin:
    request = json.loads(line)
    passes, backend = prepare(request["conv"])
    run = passes[request["pass"]]
    samples = []
    with torch.no_grad():
        for _ in range(request.get("warmup", 1)):
            run()
        for _ in range(request["runs"]):
            started = clock()
            run()
            samples.append((clock() - started) * 1000)
    print(json.dumps({"samples": samples, "backend": backend}), flush=True)
