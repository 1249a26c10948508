"""ir-CSN-50 as PyTorchVideo builds it, re-created module for module in plain torch.nn.

Source: facebookresearch/pytorchvideo pytorchvideo/models/csn.py (create_csn),
pytorchvideo/models/resnet.py (create_bottleneck_block, create_res_block, create_res_stage,
BottleneckBlock, ResBlock), pytorchvideo/models/stem.py (create_res_basic_stem) and
pytorchvideo/models/head.py (create_res_basic_head, ResNetBasicHead), read at commit f3142bb.
The configuration is the hub's (pytorchvideo/models/hub/csn.py csn_r101: stem_pool=nn.MaxPool3d,
head_pool_kernel_size=(4, 7, 7), CSN 32x2 at 224) with model_depth=50; everything else is
create_csn's default: stem 3x7x7 stride (1, 2, 2) to 64 channels, bottlenecks of width
dim_out / 4 whose 3x3x3 conv is depthwise (stage_conv_b_width_per_group 1: ir-CSN), stage strides
(1, 2, 2, 2) in space and time on conv_b, no dropout, a linear classifier to 400 classes.
"""
import math

from torch import nn


class Bottleneck(nn.Module):
    def __init__(self, dim_in, dim_inner, dim_out, stride):
        super().__init__()
        self.conv_a = nn.Conv3d(dim_in, dim_inner, 1, bias=False)
        self.norm_a = nn.BatchNorm3d(dim_inner)
        self.act_a = nn.ReLU()
        self.conv_b = nn.Conv3d(dim_inner, dim_inner, 3, stride=stride, padding=1, bias=False, groups=dim_inner)
        self.norm_b = nn.BatchNorm3d(dim_inner)
        self.act_b = nn.ReLU()
        self.conv_c = nn.Conv3d(dim_inner, dim_out, 1, bias=False)
        self.norm_c = nn.BatchNorm3d(dim_out)

    def forward(self, x):
        x = self.act_a(self.norm_a(self.conv_a(x)))
        x = self.act_b(self.norm_b(self.conv_b(x)))
        return self.norm_c(self.conv_c(x))


class ResBlock(nn.Module):
    """create_res_block: a strided 1x1x1 conv and BN on the shortcut when the width or resolution changes."""

    def __init__(self, dim_in, dim_inner, dim_out, stride):
        super().__init__()
        needs_conv = dim_in != dim_out or math.prod(stride) != 1
        self.branch1_conv = nn.Conv3d(dim_in, dim_out, 1, stride=stride, bias=False) if needs_conv else None
        self.branch1_norm = nn.BatchNorm3d(dim_out) if needs_conv else None
        self.branch2 = Bottleneck(dim_in, dim_inner, dim_out, stride)
        self.activation = nn.ReLU()

    def forward(self, x):
        shortcut = x if self.branch1_conv is None else self.branch1_norm(self.branch1_conv(x))
        return self.activation(shortcut + self.branch2(x))


class Head(nn.Module):
    def __init__(self, dim_in, num_classes, pool_kernel):
        super().__init__()
        self.pool = nn.AvgPool3d(pool_kernel, stride=1)
        self.proj = nn.Linear(dim_in, num_classes)
        self.output_pool = nn.AdaptiveAvgPool3d(1)

    def forward(self, x):
        x = self.proj(self.pool(x).permute((0, 2, 3, 4, 1))).permute((0, 4, 1, 2, 3))
        return self.output_pool(x).flatten(1)


def create_csn(model_depth=50, model_num_class=400, head_pool_kernel=(4, 7, 7)):
    depths = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}[model_depth]
    blocks = [
        nn.Conv3d(3, 64, (3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3), bias=False),
        nn.BatchNorm3d(64),
        nn.ReLU(),
        nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1)),
    ]
    dim_in, dim_out = 64, 256
    for idx, depth in enumerate(depths):
        stride = (1, 1, 1) if idx == 0 else (2, 2, 2)
        for i in range(depth):
            blocks.append(ResBlock(dim_in if i == 0 else dim_out, dim_out // 4, dim_out, stride if i == 0 else (1, 1, 1)))
        dim_in, dim_out = dim_out, dim_out * 2
    blocks.append(Head(dim_in, model_num_class, head_pool_kernel))
    return nn.Sequential(*blocks)


def csn_r50():
    return create_csn(model_depth=50), (32, 224)
