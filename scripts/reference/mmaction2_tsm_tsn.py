"""TSM-R50 and TSN-R50 as MMAction2 builds them, in plain torch.nn around torchvision's ResNet-50.

Sources (open-mmlab/mmaction2 at commit 4d6c934): configs/_base_/models/tsm_r50.py and
tsn_r50.py, configs/recognition/tsm/tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb.py
and configs/recognition/tsn/tsn_imagenet-pretrained-r50_8xb32-1x1x8-100e_kinetics400-rgb.py (8
segments, 400 classes), mmaction/models/backbones/resnet.py (ResNet, style 'pytorch': the stride on
the 3x3 conv), resnet_tsm.py (ResNetTSM with shift_place 'blockres', shift_div 8, TemporalShift),
heads/tsm_head.py and tsn_head.py (average pool, dropout 0.5 / 0.4, fc_cls, AvgConsensus over the
segments). MMAction2's ResNet-50 is torchvision's layer for layer (ResNetTSM.load_original_weights
and the TSN config load torchvision's resnet50 checkpoint into it by name), so torchvision's
resnet50 trunk stands for it here. The shift is TSM's (ops/temporal_shift.py) and has no weights.
"""
import torch
from torch import nn
from torchvision.models import resnet50


class TemporalShift(nn.Module):
    """resnet_tsm.py TemporalShift: shift 1/shift_div of the channels each way over the segments, then run `net`."""

    def __init__(self, net, num_segments, shift_div=8):
        super().__init__()
        self.net, self.num_segments, self.shift_div = net, num_segments, shift_div

    def forward(self, x):
        nt, c, h, w = x.size()
        x = x.view(-1, self.num_segments, c, h, w)
        fold = c // self.shift_div
        out = torch.zeros_like(x)
        out[:, :-1, :fold] = x[:, 1:, :fold]
        out[:, 1:, fold : 2 * fold] = x[:, :-1, fold : 2 * fold]
        out[:, :, 2 * fold :] = x[:, :, 2 * fold :]
        return self.net(out.view(nt, c, h, w))


class SegmentRecognizer(nn.Module):
    """Recognizer2D with a TSN/TSM head: the 2D trunk on every segment's frame, average pool, dropout, fc, mean over segments."""

    def __init__(self, trunk, num_segments, dropout, num_classes=400, features=2048):
        super().__init__()
        self.trunk, self.num_segments = trunk, num_segments
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(p=dropout)
        self.fc_cls = nn.Linear(features, num_classes)

    def forward(self, x):
        x = torch.flatten(self.avg_pool(self.trunk(x)), 1)
        scores = self.fc_cls(self.dropout(x))
        return scores.view(-1, self.num_segments, scores.size(1)).mean(dim=1)


def resnet50_trunk():
    net = resnet50()
    return nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool, net.layer1, net.layer2, net.layer3, net.layer4)


def tsm_r50(num_segments=8):
    trunk = resnet50_trunk()
    # shift_place 'blockres': every block's conv1 (fewer than 23 blocks in layer3, so n_round 1).
    for layer in trunk[4:]:
        for block in layer:
            block.conv1 = TemporalShift(block.conv1, num_segments)
    return SegmentRecognizer(trunk, num_segments, dropout=0.5), (num_segments, 224)


def tsn_r50(num_segments=8):
    return SegmentRecognizer(resnet50_trunk(), num_segments, dropout=0.4), (num_segments, 224)
