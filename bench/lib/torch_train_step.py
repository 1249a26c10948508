"""PyTorch's side of a training-step benchmark (bench/lib/train-step.ts): times one SGD step
(forward in training mode, cross-entropy, backward, SGD with momentum 0.9) of a torchvision video
network on request, so that the benchmark can interleave it with ONNX Runtime's step.

Started by bench/lib/torch.ts as `python3 torch_train_step.py THREADS`; prints one JSON line with
torch's version and thread count, then answers each JSON request line
  {"model": "r3d_18" | "mc3_18" | "r2plus1d_18", "frames": T, "size": S, "batch": N, "runs": R, "warmup": W}
or, for vnet's own network as exported to ONNX (bench/lib/torch_onnx_module.py: the same layers
in PyTorch, fed the raw channels-last clip the export takes),
  {"model": "onnx", "path": FILE, "shape": [T, H, W, C], "classes": K, "batch": N, "runs": R, "warmup": W}
with one JSON line {"samples": [ms, ...], "peak_rss_mib": the process's peak resident memory}.
"""
import json
import resource
import sys
import time

import torch
import torchvision

from torch_onnx_module import OnnxModule

torch.set_num_threads(int(sys.argv[1]))
print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)

prepared = {}


def prepare(request):
    key = json.dumps({k: v for k, v in request.items() if k not in ("runs", "warmup")}, sort_keys=True)
    if key not in prepared:
        prepared.clear()
        torch.manual_seed(0)
        if request["model"] == "onnx":
            model, classes = OnnxModule(request["path"]), request["classes"]
            clips = torch.rand(request["batch"], *request["shape"])
        else:
            model, classes = getattr(torchvision.models.video, request["model"])(num_classes=400), 400
            clips = torch.randn(request["batch"], 3, request["frames"], request["size"], request["size"])
        model.train()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
        labels = torch.randint(0, classes, (request["batch"],))
        loss = torch.nn.CrossEntropyLoss()

        def step():
            optimizer.zero_grad(set_to_none=True)
            loss(model(clips), labels).backward()
            optimizer.step()

        prepared[key] = step
    return prepared[key]


for line in sys.stdin:
    request = json.loads(line)
    step = prepare(request)
    for _ in range(request.get("warmup", 1)):
        step()
    samples = []
    for _ in range(request["runs"]):
        started = time.perf_counter()
        step()
        samples.append((time.perf_counter() - started) * 1000)
    print(json.dumps({"samples": samples, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)
