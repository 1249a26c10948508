"""Trainable parameter counts of the reference implementations the spec library reproduces.

Each network is built in PyTorch (Debian's torch 1.13 / torchvision 0.14) from its reference code:
torchvision's own classes where torchvision ships the model (S3D, ResNet-50), and re-creations of
PyTorchVideo's, MMAction2's and PySlowFast's module structure (see each module's docstring for the
source files and commit). A network's count is sum(p.numel() for p in model.parameters() if p.requires_grad);
each model also runs one forward pass at its input size (the AVA detectors with two person boxes),
so that the modules fit together.

    /usr/bin/python3 scripts/reference/counts.py            # the table
    /usr/bin/python3 scripts/reference/counts.py --layers x3d_s   # per-module counts, in forward order
"""
import sys

import torch

import mmaction2_tsm_tsn
import pyslowfast_ava
import pytorchvideo_csn
import pytorchvideo_x3d
import torchvision_s3d

MODELS = {
    "x3d_s": pytorchvideo_x3d.x3d_s,
    "x3d_m": pytorchvideo_x3d.x3d_m,
    "csn_r50": pytorchvideo_csn.csn_r50,
    "tsm_r50": mmaction2_tsm_tsn.tsm_r50,
    "tsn_r50": mmaction2_tsm_tsn.tsn_r50,
    "s3d": torchvision_s3d.s3d,
    "slow_r50_ava": pyslowfast_ava.slow_r50_ava,
    "slowfast_r50_ava": pyslowfast_ava.slowfast_r50_ava,
}


def trainable(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def check_forward(name, model, size):
    frames, crop = size
    model.eval()
    with torch.no_grad():
        if name.endswith("_ava"):
            boxes = pyslowfast_ava.example_boxes(crop)
            out = model(pyslowfast_ava.pathway_inputs(model, frames, crop), boxes)
            assert out.shape == (len(boxes), 80), (name, out.shape)
            return
        if name in ("tsm_r50", "tsn_r50"):
            out = model(torch.zeros(1 * frames, 3, crop, crop))
        else:
            out = model(torch.zeros(1, 3, frames, crop, crop))
    assert out.shape == (1, 400), (name, out.shape)


def main(argv):
    if len(argv) == 2 and argv[0] == "--layers":
        model, _ = MODELS[argv[1]]()
        for module_name, module in model.named_modules():
            own = sum(p.numel() for p in module.parameters(recurse=False) if p.requires_grad)
            if own:
                print(f"{module_name:60s} {type(module).__name__:12s} {own}")
        return
    for name, build in MODELS.items():
        model, size = build()
        check_forward(name, model, size)
        print(f"{name:16s} {trainable(model):>12,d}  ({size[0]} x {size[1]} x {size[1]} input)")


if __name__ == "__main__":
    main(sys.argv[1:])
