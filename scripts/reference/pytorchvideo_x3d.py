"""X3D as PyTorchVideo builds it, re-created module for module in plain torch.nn.

Source: facebookresearch/pytorchvideo pytorchvideo/models/x3d.py (create_x3d, create_x3d_stem,
create_x3d_bottleneck_block, create_x3d_res_block, create_x3d_res_stage, create_x3d_head,
ProjectedPool), pytorchvideo/models/resnet.py (BottleneckBlock, ResBlock, ResStage),
pytorchvideo/models/head.py (ResNetBasicHead), pytorchvideo/layers/utils.py (round_width,
round_repeats), pytorchvideo/layers/swish.py (Swish = x * sigmoid(x)) and fvcore
fvcore/nn/squeeze_excitation.py (SqueezeExcitation), read at pytorchvideo commit f3142bb.
PyTorchVideo is not installed here; every module below is the one those functions create, with
the same arguments, in the same order, so its trainable parameters are PyTorchVideo's.
PyTorchVideo's hub builds x3d_s with input_clip_length 13, crop 160 and x3d_m with 16, 224
(pytorchvideo/models/hub/x3d.py); both use create_x3d's defaults otherwise (width_factor 2.0,
depth_factor 2.2, bottleneck_factor 2.25, se_ratio 0.0625, head_dim_out 2048, 400 classes).
"""
import math

import torch
from torch import nn


def round_width(width, multiplier, min_width=8, divisor=8):
    width *= multiplier
    min_width = min_width or divisor
    width_out = max(min_width, int(width + divisor / 2) // divisor * divisor)
    if width_out < 0.9 * width:
        width_out += divisor
    return int(width_out)


def round_repeats(repeats, multiplier):
    return int(math.ceil(multiplier * repeats))


class Swish(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(x)


class SqueezeExcitation(nn.Module):
    """fvcore's SqueezeExcitation(is_3d=True): x * sigmoid(conv(relu(conv(mean(x)))))."""

    def __init__(self, num_channels, num_channels_reduced):
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv3d(num_channels, num_channels_reduced, kernel_size=1, bias=True),
            nn.ReLU(),
            nn.Conv3d(num_channels_reduced, num_channels, kernel_size=1, bias=True),
            nn.Sigmoid(),
        )

    def forward(self, x):
        return x * self.block(x.mean(dim=[2, 3, 4], keepdim=True))


class Stem(nn.Module):
    """create_x3d_stem: Conv2plus1d(conv_t=conv_xy_module, conv_xy=conv_t_module) runs the 1x3x3 conv, then the depthwise 5x1x1, BN, ReLU."""

    def __init__(self, dim_in, dim_out, kernel=(5, 3, 3), stride=(1, 2, 2)):
        super().__init__()
        padding = [k // 2 for k in kernel]
        self.conv_xy = nn.Conv3d(dim_in, dim_out, (1, kernel[1], kernel[2]), stride=(1, stride[1], stride[2]), padding=(0, padding[1], padding[2]), bias=False)
        self.conv_t = nn.Conv3d(dim_out, dim_out, (kernel[0], 1, 1), stride=(stride[0], 1, 1), padding=(padding[0], 0, 0), bias=False, groups=dim_out)
        self.norm = nn.BatchNorm3d(dim_out)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.norm(self.conv_t(self.conv_xy(x))))


class Bottleneck(nn.Module):
    """create_x3d_bottleneck_block: 1x1x1, BN, ReLU; depthwise 3x3x3 (stride), BN, [SE], Swish; 1x1x1, BN."""

    def __init__(self, dim_in, dim_inner, dim_out, stride, se_ratio):
        super().__init__()
        self.conv_a = nn.Conv3d(dim_in, dim_inner, 1, bias=False)
        self.norm_a = nn.BatchNorm3d(dim_inner)
        self.act_a = nn.ReLU()
        self.conv_b = nn.Conv3d(dim_inner, dim_inner, 3, stride=stride, padding=1, bias=False, groups=dim_inner)
        se = SqueezeExcitation(dim_inner, round_width(dim_inner, se_ratio)) if se_ratio > 0.0 else nn.Identity()
        self.norm_b = nn.Sequential(nn.BatchNorm3d(dim_inner), se)
        self.act_b = Swish()
        self.conv_c = nn.Conv3d(dim_inner, dim_out, 1, bias=False)
        self.norm_c = nn.BatchNorm3d(dim_out)

    def forward(self, x):
        x = self.act_a(self.norm_a(self.conv_a(x)))
        x = self.act_b(self.norm_b(self.conv_b(x)))
        return self.norm_c(self.conv_c(x))


class ResBlock(nn.Module):
    """create_x3d_res_block: the shortcut conv when the width or resolution changes, its BN only when the width does."""

    def __init__(self, dim_in, dim_inner, dim_out, stride, se_ratio):
        super().__init__()
        needs_conv = dim_in != dim_out or math.prod(stride) > 1
        self.branch1_conv = nn.Conv3d(dim_in, dim_out, 1, stride=stride, bias=False) if needs_conv else None
        self.branch1_norm = nn.BatchNorm3d(dim_out) if dim_in != dim_out else None
        self.branch2 = Bottleneck(dim_in, dim_inner, dim_out, stride, se_ratio)
        self.activation = nn.ReLU()

    def forward(self, x):
        shortcut = x
        if self.branch1_conv is not None:
            shortcut = self.branch1_conv(x)
            if self.branch1_norm is not None:
                shortcut = self.branch1_norm(shortcut)
        return self.activation(shortcut + self.branch2(x))


class Head(nn.Module):
    """create_x3d_head: ProjectedPool (1x1x1 conv, BN, ReLU, pool, 1x1x1 conv, ReLU), dropout, linear, softmax, average."""

    def __init__(self, dim_in, dim_inner, dim_out, num_classes, pool_kernel):
        super().__init__()
        self.pre_conv = nn.Conv3d(dim_in, dim_inner, 1, bias=False)
        self.pre_norm = nn.BatchNorm3d(dim_inner)
        self.pre_act = nn.ReLU()
        self.pool = nn.AvgPool3d(pool_kernel, stride=1)
        self.post_conv = nn.Conv3d(dim_inner, dim_out, 1, bias=False)
        self.post_act = nn.ReLU()
        self.dropout = nn.Dropout(0.5)
        self.proj = nn.Linear(dim_out, num_classes, bias=True)
        self.activation = nn.Softmax(dim=1)
        self.output_pool = nn.AdaptiveAvgPool3d(1)

    def forward(self, x):
        x = self.pre_act(self.pre_norm(self.pre_conv(x)))
        x = self.post_act(self.post_conv(self.pool(x)))
        x = self.proj(self.dropout(x).permute((0, 2, 3, 4, 1))).permute((0, 4, 1, 2, 3))
        return self.output_pool(self.activation(x)).flatten(1)


def create_x3d(input_clip_length, input_crop_size, model_num_class=400, width_factor=2.0, depth_factor=2.2, bottleneck_factor=2.25, se_ratio=0.0625, stem_dim_in=12, head_dim_out=2048, stage_depths=(1, 2, 5, 3)):
    """create_x3d with its defaults; `stage_depths` (PyTorchVideo's fixed [1, 2, 5, 3]) is exposed only
    so that test fixtures can build fewer, shallower stages with the same modules."""
    blocks = []
    stem_dim_out = round_width(stem_dim_in, width_factor)
    blocks.append(Stem(3, stem_dim_out))
    stage_dims = [stem_dim_in]
    for _ in range(len(stage_depths) - 1):
        stage_dims.append(round_width(stage_dims[-1], 2.0, divisor=8))
    dim_in = stem_dim_out
    for idx, depth in enumerate(stage_depths):
        dim_out = round_width(stage_dims[idx], width_factor)
        dim_inner = int(bottleneck_factor * dim_out)
        depth = round_repeats(depth, depth_factor)
        for i in range(depth):
            # create_x3d_res_stage: stride (1, 2, 2) on the first block, SE on every other block.
            blocks.append(ResBlock(dim_in if i == 0 else dim_out, dim_inner, dim_out, (1, 2, 2) if i == 0 else (1, 1, 1), se_ratio if (i + 1) % 2 else 0.0))
        dim_in = dim_out
    total_stride = 2 ** (len(stage_depths) + 1)  # the stem's and every stage's spatial stride 2
    pool_kernel = (input_clip_length, int(math.ceil(input_crop_size / total_stride)), int(math.ceil(input_crop_size / total_stride)))
    blocks.append(Head(dim_out, dim_inner, head_dim_out, model_num_class, pool_kernel))
    return nn.Sequential(*blocks)


def x3d_s():
    return create_x3d(input_clip_length=13, input_crop_size=160), (13, 160)


def x3d_m():
    return create_x3d(input_clip_length=16, input_crop_size=224), (16, 224)
