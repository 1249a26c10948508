"""vnet's exported inference ONNX graph as a PyTorch module, for the training-step benchmark
(bench/training-step.ts): PyTorch runs the same network vnet trains (the same layers, shapes and
weights) with its own kernels and autograd, so the two steps can be compared for networks that
torchvision does not ship (C3D, I3D, SlowFast).

Each ONNX node becomes the torch.nn.functional call of the same operator; the initializers that
are weights (Conv's W and B, BatchNormalization's scale and B, Gemm's B and C) become parameters,
the running statistics buffers, and BatchNormalization runs in training mode (batch statistics,
running statistics updated with the node's momentum), as vnet's training step does. The module's
output is the graph's `logits`. Only the operators vnet's exports of the benchmark's networks use
are covered; another one raises an error naming it. (The export has no dropout: C3D's dropout
layers are absent on this side.)
"""
import math

import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

WEIGHT_INPUTS = {"Conv": (1, 2), "BatchNormalization": (1, 2), "Gemm": (1, 2)}
STATISTIC_INPUTS = {"BatchNormalization": (3, 4)}


def attributes(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def torch_pad(pads):
    """ONNX pads [b1..bn, e1..en] as F.pad's tuple (last axis first)."""
    n = len(pads) // 2
    out = []
    for axis in reversed(range(n)):
        out += [pads[axis], pads[axis + n]]
    return out


class OnnxModule(torch.nn.Module):
    def __init__(self, path, output="logits"):
        super().__init__()
        model = onnx.load(path)
        graph = model.graph
        self.nodes = list(graph.node)
        self.input = graph.input[0].name
        self.output = output
        initializers = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in graph.initializer}
        trained, statistics = set(), set()
        for node in self.nodes:
            for k in WEIGHT_INPUTS.get(node.op_type, ()):
                if k < len(node.input) and node.input[k] in initializers:
                    trained.add(node.input[k])
            for k in STATISTIC_INPUTS.get(node.op_type, ()):
                statistics.add(node.input[k])
        self.names = {}
        self.params = torch.nn.ParameterList()
        self.constants = {}
        for name, value in initializers.items():
            if name in trained:
                self.names[name] = ("param", len(self.params))
                self.params.append(torch.nn.Parameter(value.float()))
            elif name in statistics:
                buffer = f"statistic_{len(self.names)}"
                self.register_buffer(buffer, value.float().clone())
                self.names[name] = ("buffer", buffer)
            else:
                self.constants[name] = value
        for node in self.nodes:
            if node.op_type not in OPS:
                raise NotImplementedError(f"{path}: no PyTorch equivalent for ONNX {node.op_type} here")

    def value(self, name, env):
        if name in env:
            return env[name]
        kind = self.names.get(name)
        if kind and kind[0] == "param":
            return self.params[kind[1]]
        if kind:
            return getattr(self, kind[1])
        return self.constants[name]

    def forward(self, x):
        env = {self.input: x}
        for node in self.nodes:
            inputs = [self.value(n, env) if n else None for n in node.input]
            outputs = OPS[node.op_type](inputs, attributes(node), self.training)
            for name, out in zip(node.output, outputs if isinstance(outputs, tuple) else (outputs,)):
                env[name] = out
            if self.output in env:
                return env[self.output]
        raise KeyError(f"no output {self.output}")


def conv(i, a, training):
    x, w = i[0], i[1]
    b = i[2] if len(i) > 2 else None
    n = w.dim() - 2
    pads = list(a.get("pads", [0] * 2 * n))
    if pads[:n] != pads[n:]:
        x = F.pad(x, torch_pad(pads))
        pads = [0] * 2 * n
    fn = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[n]
    return fn(x, w, b, stride=a.get("strides", [1] * n), padding=pads[:n], dilation=a.get("dilations", [1] * n), groups=a.get("group", 1))


def batch_norm(i, a, training):
    x, scale, bias, mean, var = i
    return F.batch_norm(x, mean, var, scale, bias, training=training, momentum=1 - a.get("momentum", 0.9), eps=a.get("epsilon", 1e-5))


def pool(kind):
    def run(i, a, training):
        x = i[0]
        k = a["kernel_shape"]
        n = len(k)
        pads = list(a.get("pads", [0] * 2 * n))
        if pads[:n] != pads[n:]:
            x = F.pad(x, torch_pad(pads), value=float("-inf") if kind == "max" else 0.0)
            pads = [0] * 2 * n
        strides = a.get("strides", [1] * n)
        ceil = bool(a.get("ceil_mode", 0))
        if kind == "max":
            fn = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[n]
            return fn(x, k, strides, pads[:n], dilation=a.get("dilations", [1] * n), ceil_mode=ceil)
        fn = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}[n]
        return fn(x, k, strides, pads[:n], ceil_mode=ceil, count_include_pad=bool(a.get("count_include_pad", 0)))

    return run


def pad(i, a, training):
    pads = [int(p) for p in i[1].tolist()]
    value = float(i[2]) if len(i) > 2 and i[2] is not None else 0.0
    mode = a.get("mode", b"constant").decode()
    return F.pad(i[0], torch_pad(pads), mode=mode, value=value) if mode == "constant" else F.pad(i[0], torch_pad(pads), mode=mode)


def gemm(i, a, training):
    x, w = i[0], i[1]
    if a.get("transA", 0):
        x = x.t()
    if a.get("transB", 0):
        w = w.t()
    y = a.get("alpha", 1.0) * (x @ w)
    if len(i) > 2 and i[2] is not None:
        y = y + a.get("beta", 1.0) * i[2]
    return y


def gather(i, a, training):
    x, idx = i
    axis = a.get("axis", 0)
    if idx.dim() == 0:
        return x.select(axis, int(idx))
    flat = torch.index_select(x, axis, idx.reshape(-1).long())
    return flat.reshape(*x.shape[:axis], *idx.shape, *x.shape[axis + 1:])


def reshape(i, a, training):
    x, shape = i[0], [int(s) for s in i[1].tolist()]
    shape = [x.shape[k] if s == 0 else s for k, s in enumerate(shape)]
    return x.reshape(shape)


def reduce_mean(i, a, training):
    axes = a.get("axes")
    return i[0].mean(dim=tuple(axes) if axes is not None else None, keepdim=bool(a.get("keepdims", 1)))


OPS = {
    "Conv": conv,
    "BatchNormalization": batch_norm,
    "MaxPool": pool("max"),
    "AveragePool": pool("avg"),
    "GlobalAveragePool": lambda i, a, t: i[0].mean(dim=tuple(range(2, i[0].dim())), keepdim=True),
    "Pad": pad,
    "Relu": lambda i, a, t: F.relu(i[0]),
    "Sigmoid": lambda i, a, t: torch.sigmoid(i[0]),
    "Add": lambda i, a, t: i[0] + i[1],
    "Sub": lambda i, a, t: i[0] - i[1],
    "Mul": lambda i, a, t: i[0] * i[1],
    "Div": lambda i, a, t: i[0] / i[1],
    "Transpose": lambda i, a, t: i[0].permute(*a["perm"]),
    "Reshape": reshape,
    "Flatten": lambda i, a, t: i[0].reshape(math.prod(i[0].shape[: a.get("axis", 1)]), -1),
    "Concat": lambda i, a, t: torch.cat(i, dim=a["axis"]),
    "Gather": gather,
    "ReduceMean": reduce_mean,
    "Gemm": gemm,
    "MatMul": lambda i, a, t: i[0] @ i[1],
    "Identity": lambda i, a, t: i[0],
    "Softmax": lambda i, a, t: F.softmax(i[0], dim=a.get("axis", -1)),
}
