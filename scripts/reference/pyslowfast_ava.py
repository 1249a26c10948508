"""PySlowFast's AVA detectors (Slow and SlowFast R50 with ResNetRoIHead), re-created module for module.

Source: facebookresearch/SlowFast, read at commit 287ec00: slowfast/models/video_model_builder.py
(ResNet, SlowFast, FuseFastToSlow, _TEMPORAL_KERNEL_BASIS, _POOL1), resnet_helper.py (ResStage,
ResBlock, BottleneckTransform), stem_helper.py (VideoModelStem, ResNetBasicStem) and
head_helper.py (ResNetRoIHead), built with configs/AVA/SLOWFAST_32x2_R50_SHORT.yaml and
configs/AVA/SLOW_8x8_R50_SHORT.yaml over slowfast/config/defaults.py:

- RESNET: DEPTH 50 (3, 4, 6, 3 blocks), WIDTH_PER_GROUP 64, NUM_GROUPS 1, STRIDE_1X1 False,
  NUM_BLOCK_TEMP_KERNEL = every block, SPATIAL_STRIDES [1, 2, 2, 1], SPATIAL_DILATIONS
  [1, 1, 1, 2]: res5 keeps the resolution of res4 (1/16) and its 3x3 convs are dilated by 2.
- SLOWFAST (SlowFast only): ALPHA 4, BETA_INV 8, FUSION_CONV_CHANNEL_RATIO 2, FUSION_KERNEL_SZ 7.
- DETECTION: ALIGNED True, ROI_XFORM_RESOLUTION 7, SPATIAL_SCALE_FACTOR 16 (defaults).
- DATA.NUM_FRAMES: 32 (SlowFast; the Slow pathway sees 32 / ALPHA = 8) and 4 (the Slow config:
  its name says 8x8, its DATA says 4 frames at sampling rate 16); MODEL: NUM_CLASSES 80,
  DROPOUT_RATE 0.5, HEAD_ACT sigmoid. No non-local blocks (NONLOCAL.LOCATION is empty).

The c2 variants (configs/AVA/c2/*.yaml) build the same modules (they differ in ALIGNED False and
the test crop), so the counts hold for both. detectron2's ROIAlign has no parameters; torchvision's
RoIAlign computes the same.
"""
import torch
from torch import nn
from torchvision.ops import RoIAlign

DEPTH_50 = (3, 4, 6, 3)
# _TEMPORAL_KERNEL_BASIS: conv1, res2..res5; one list per pathway.
TEMPORAL_KERNELS = {
    "slow": [[1], [1], [1], [3], [3]],
    "slowfast": [[1, 5], [1, 3], [1, 3], [3, 3], [3, 3]],
}
SPATIAL_STRIDES = (1, 2, 2, 1)
SPATIAL_DILATIONS = (1, 1, 1, 2)


class BasicStem(nn.Module):
    """ResNetBasicStem: kt x 7 x 7 conv stride [1, 2, 2], BN, ReLU, 1x3x3 max pool stride [1, 2, 2]."""

    def __init__(self, dim_in, dim_out, kt):
        super().__init__()
        self.conv = nn.Conv3d(dim_in, dim_out, [kt, 7, 7], stride=[1, 2, 2], padding=[kt // 2, 3, 3], bias=False)
        self.bn = nn.BatchNorm3d(dim_out)
        self.relu = nn.ReLU()
        self.pool_layer = nn.MaxPool3d([1, 3, 3], stride=[1, 2, 2], padding=[0, 1, 1])

    def forward(self, x):
        return self.pool_layer(self.relu(self.bn(self.conv(x))))


class Stem(nn.Module):
    """VideoModelStem: one BasicStem per pathway (pathway{p}_stem)."""

    def __init__(self, dims_out, kernels):
        super().__init__()
        for p, (dim_out, kt) in enumerate(zip(dims_out, kernels)):
            self.add_module(f"pathway{p}_stem", BasicStem(3, dim_out, kt))
        self.pathways = len(dims_out)

    def forward(self, xs):
        return [getattr(self, f"pathway{p}_stem")(x) for p, x in enumerate(xs)]


class Bottleneck(nn.Module):
    """BottleneckTransform (STRIDE_1X1 False): kt x 1 x 1, 1 x 3 x 3 (stride, dilation), 1 x 1 x 1."""

    def __init__(self, dim_in, dim_out, kt, stride, dim_inner, dilation):
        super().__init__()
        self.a = nn.Conv3d(dim_in, dim_inner, [kt, 1, 1], padding=[kt // 2, 0, 0], bias=False)
        self.a_bn = nn.BatchNorm3d(dim_inner)
        self.a_relu = nn.ReLU()
        self.b = nn.Conv3d(
            dim_inner,
            dim_inner,
            [1, 3, 3],
            stride=[1, stride, stride],
            padding=[0, dilation, dilation],
            dilation=[1, dilation, dilation],
            bias=False,
        )
        self.b_bn = nn.BatchNorm3d(dim_inner)
        self.b_relu = nn.ReLU()
        self.c = nn.Conv3d(dim_inner, dim_out, 1, bias=False)
        self.c_bn = nn.BatchNorm3d(dim_out)

    def forward(self, x):
        x = self.a_relu(self.a_bn(self.a(x)))
        x = self.b_relu(self.b_bn(self.b(x)))
        return self.c_bn(self.c(x))


class ResBlock(nn.Module):
    """ResBlock: a 1x1x1 conv + BN shortcut (branch1) when the width or the stride changes."""

    def __init__(self, dim_in, dim_out, kt, stride, dim_inner, dilation):
        super().__init__()
        if dim_in != dim_out or stride != 1:
            self.branch1 = nn.Conv3d(dim_in, dim_out, 1, stride=[1, stride, stride], bias=False)
            self.branch1_bn = nn.BatchNorm3d(dim_out)
        self.branch2 = Bottleneck(dim_in, dim_out, kt, stride, dim_inner, dilation)
        self.relu = nn.ReLU()

    def forward(self, x):
        f_x = self.branch2(x)
        shortcut = self.branch1_bn(self.branch1(x)) if hasattr(self, "branch1") else x
        return self.relu(shortcut + f_x)


class ResStage(nn.Module):
    """ResStage: `blocks` ResBlocks per pathway (pathway{p}_res{i}); block 0 takes the stride."""

    def __init__(self, dims_in, dims_out, dims_inner, kernels, blocks, stride, dilation):
        super().__init__()
        self.blocks = blocks
        self.pathways = len(dims_in)
        for p in range(self.pathways):
            for i in range(blocks):
                block = ResBlock(
                    dims_in[p] if i == 0 else dims_out[p],
                    dims_out[p],
                    kernels[p],
                    stride if i == 0 else 1,
                    dims_inner[p],
                    dilation,
                )
                self.add_module(f"pathway{p}_res{i}", block)

    def forward(self, xs):
        out = []
        for p, x in enumerate(xs):
            for i in range(self.blocks):
                x = getattr(self, f"pathway{p}_res{i}")(x)
            out.append(x)
        return out


class FuseFastToSlow(nn.Module):
    """[fusion_kernel, 1, 1] conv with temporal stride alpha to ratio x the fast channels, BN, ReLU, concat."""

    def __init__(self, dim_in, ratio, fusion_kernel, alpha):
        super().__init__()
        self.conv_f2s = nn.Conv3d(
            dim_in,
            dim_in * ratio,
            kernel_size=[fusion_kernel, 1, 1],
            stride=[alpha, 1, 1],
            padding=[fusion_kernel // 2, 0, 0],
            bias=False,
        )
        self.bn = nn.BatchNorm3d(dim_in * ratio)
        self.relu = nn.ReLU()

    def forward(self, xs):
        fuse = self.relu(self.bn(self.conv_f2s(xs[1])))
        return [torch.cat([xs[0], fuse], 1), xs[1]]


class RoIHead(nn.Module):
    """ResNetRoIHead: per pathway a temporal average pool over all its frames, RoIAlign, a max pool
    over the bins; pathways concatenated, dropout, linear, sigmoid."""

    def __init__(self, dims_in, frames, num_classes, resolution=7, scale_factor=16, aligned=True, dropout=0.5):
        super().__init__()
        self.pathways = len(dims_in)
        for p in range(self.pathways):
            self.add_module(f"s{p}_tpool", nn.AvgPool3d([frames[p], 1, 1], stride=1))
            self.add_module(f"s{p}_roi", RoIAlign(resolution, spatial_scale=1.0 / scale_factor, sampling_ratio=0, aligned=aligned))
            self.add_module(f"s{p}_spool", nn.MaxPool2d(resolution, stride=1))
        self.dropout = nn.Dropout(dropout)
        self.projection = nn.Linear(sum(dims_in), num_classes, bias=True)
        self.act = nn.Sigmoid()

    def forward(self, xs, boxes):
        pooled = []
        for p, x in enumerate(xs):
            out = getattr(self, f"s{p}_tpool")(x)
            assert out.shape[2] == 1, out.shape
            out = getattr(self, f"s{p}_roi")(torch.squeeze(out, 2), boxes)
            pooled.append(getattr(self, f"s{p}_spool")(out))
        x = self.dropout(torch.cat(pooled, 1))
        return self.act(self.projection(x.view(x.shape[0], -1)))


class SlowAva(nn.Module):
    """video_model_builder.ResNet with ARCH slow and DETECTION.ENABLE (pathway0_pool is 1x1x1)."""

    def __init__(self, num_frames=4, num_classes=80):
        super().__init__()
        kernels = TEMPORAL_KERNELS["slow"]
        self.s1 = Stem([64], kernels[0])
        dims = [64, 256, 512, 1024, 2048]
        for stage in range(4):
            module = ResStage(
                [dims[stage]],
                [dims[stage + 1]],
                [64 * 2**stage],
                kernels[stage + 1],
                DEPTH_50[stage],
                SPATIAL_STRIDES[stage],
                SPATIAL_DILATIONS[stage],
            )
            self.add_module(f"s{stage + 2}", module)
        self.pathway0_pool = nn.MaxPool3d([1, 1, 1], stride=[1, 1, 1])
        self.head = RoIHead([2048], [num_frames], num_classes)

    def forward(self, xs, boxes):
        x = self.s2(self.s1(xs))
        x = self.s5(self.s4(self.s3([self.pathway0_pool(x[0])])))
        return self.head(x, boxes)


class SlowFastAva(nn.Module):
    """video_model_builder.SlowFast with ARCH slowfast and DETECTION.ENABLE."""

    def __init__(self, num_frames=32, num_classes=80, alpha=4, beta_inv=8, ratio=2, fusion_kernel=7):
        super().__init__()
        kernels = TEMPORAL_KERNELS["slowfast"]
        out_dim_ratio = beta_inv // ratio
        self.s1 = Stem([64, 64 // beta_inv], kernels[0])
        self.s1_fuse = FuseFastToSlow(64 // beta_inv, ratio, fusion_kernel, alpha)
        slow_in = 64
        for stage in range(4):
            width_out = 256 * 2**stage
            inner = 64 * 2**stage
            module = ResStage(
                [slow_in + slow_in // out_dim_ratio, slow_in // beta_inv],
                [width_out, width_out // beta_inv],
                [inner, inner // beta_inv],
                kernels[stage + 1],
                DEPTH_50[stage],
                SPATIAL_STRIDES[stage],
                SPATIAL_DILATIONS[stage],
            )
            self.add_module(f"s{stage + 2}", module)
            if stage < 3:
                self.add_module(f"s{stage + 2}_fuse", FuseFastToSlow(width_out // beta_inv, ratio, fusion_kernel, alpha))
            if stage == 0:
                self.pathway0_pool = nn.MaxPool3d([1, 1, 1], stride=[1, 1, 1])
                self.pathway1_pool = nn.MaxPool3d([1, 1, 1], stride=[1, 1, 1])
            slow_in = width_out
        self.head = RoIHead([2048, 2048 // beta_inv], [num_frames // alpha, num_frames], num_classes)

    def forward(self, xs, boxes):
        x = self.s2_fuse(self.s2(self.s1_fuse(self.s1(xs))))
        x = [self.pathway0_pool(x[0]), self.pathway1_pool(x[1])]
        x = self.s5(self.s4_fuse(self.s4(self.s3_fuse(self.s3(x)))))
        return self.head(x, boxes)


def slow_r50_ava():
    """SLOW_8x8_R50_SHORT: 4 frames at 224 (PySlowFast trains at 224, tests at 256)."""
    return SlowAva(), (4, 224)


def slowfast_r50_ava():
    """SLOWFAST_32x2_R50_SHORT: 32 frames at 224; the Slow pathway takes 8 of them."""
    return SlowFastAva(), (32, 224)


def pathway_inputs(model, frames, crop, batch=1):
    """The clip as PySlowFast's pack_pathway_output gives it: [slow] or [slow, fast]."""
    clip = torch.zeros(batch, 3, frames, crop, crop)
    if isinstance(model, SlowFastAva):
        slow = torch.index_select(clip, 2, torch.linspace(0, frames - 1, frames // 4).long())
        return [slow, clip]
    return [clip]


def example_boxes(crop):
    """Two person boxes on clip 0 in the crop's pixels: [batch index, x1, y1, x2, y2]."""
    return torch.tensor([[0, 10.0, 20.0, 100.0, 200.0], [0, 120.0, 30.0, crop - 1.0, crop - 1.0]])
