"""BMN as MMAction2 builds, trains and post-processes it, re-created in PyTorch and NumPy.

The reference vnet's BMN is held to (specs/bmn.vnet, src/semantics/tasks/localization.ts,
src/runtime/localization/). Written from MMAction2's `mmaction/models/localizers/bmn.py`,
`mmaction/models/losses/bmn_loss.py`, `binary_logistic_regression_loss.py`,
`mmaction/models/localizers/utils/proposal_utils.py` and `configs/_base_/models/bmn_400x100.py`
(open-mmlab/mmaction2 main): the same layers, the same boundary-matching sampling mask, the same
label generation, loss and post-processing, without MMAction2's registry and data-sample plumbing.

Commands (Debian's Python: /usr/bin/python3, torch 1.13, numpy):
    /usr/bin/python3 scripts/reference/bmn.py count
        trainable parameters of bmn_400x100 (and of the tiny variant), as pinned in
        test/param-counts.test.ts
    /usr/bin/python3 scripts/reference/bmn.py fixture test/fixtures/localization/bmn-reference.json
        a small case (mask, labels, loss, post-processing) that test/localization.test.ts compares with
    /usr/bin/python3 scripts/reference/bmn.py bench [--threads N] [--repeats N]
        BMN forward + post-processing latency per video at 400x100 (bench/localization.ts)

MMAction2 registers the sampling mask as an `nn.Parameter(requires_grad=False)`, so its
`parameters()` total also counts the mask's T x (S x D x T) entries; only the trainable count is
the model's. D, the number of proposal durations, is `temporal_dim` in the code (100 for
bmn_400x100), not `num_samples` (32, the samples per proposal).
"""
import json
import math
import sys
import time

import numpy as np
import torch
from torch import nn

# configs/_base_/models/bmn_400x100.py
BMN_400X100 = dict(temporal_dim=100, boundary_ratio=0.5, num_samples=32, num_samples_per_bin=3, feat_dim=400, hidden_1d=256, hidden_2d=128, hidden_3d=512)
# specs/tiny/tiny_bmn.vnet
TINY = dict(temporal_dim=32, boundary_ratio=0.5, num_samples=8, num_samples_per_bin=3, feat_dim=64, hidden_1d=32, hidden_2d=16, hidden_3d=32)
SOFT_NMS = dict(alpha=0.4, low=0.5, high=0.9, top_k=100)


def bin_mask(tmin, tmax, tscale, num_samples, per_bin):
    """[tscale, num_samples]: linear-interpolation weights of each sample of one proposal, per bin."""
    step = float(tmax - tmin) / (num_samples * per_bin - 1.0)
    points = [tmin + step * i for i in range(num_samples * per_bin)]
    columns = []
    for s in range(num_samples):
        weights = np.zeros(tscale)
        for point in points[s * per_bin:(s + 1) * per_bin]:
            fraction, floor = math.modf(point)
            upper = math.ceil(point)
            if 0 <= int(floor) <= tscale - 1:
                weights[int(floor)] += 1 - fraction
            if 0 <= int(upper) <= tscale - 1:
                weights[int(upper)] += fraction
        columns.append(weights / per_bin)
    return np.stack(columns, axis=1)


def sample_mask(tscale, num_samples, per_bin, boundary_ratio, durations=None):
    """[tscale, num_samples, durations, tscale]: mask[t_in, s, d, t] weighs feature t_in for sample s of proposal (t, d)."""
    durations = durations or tscale
    mask = np.zeros([tscale, num_samples, durations, tscale])
    for start in range(tscale):
        for d in range(durations):
            if start + d < tscale:
                length = float(d) + 1
                mask[:, :, d, start] = bin_mask(start - length * boundary_ratio, start + d + length * boundary_ratio, tscale, num_samples, per_bin)
    return mask.astype(np.float32)


class BMN(nn.Module):
    def __init__(self, temporal_dim, boundary_ratio, num_samples, num_samples_per_bin, feat_dim, hidden_1d, hidden_2d, hidden_3d):
        super().__init__()
        self.t, self.s = temporal_dim, num_samples
        self.register_buffer("mask", torch.tensor(sample_mask(temporal_dim, num_samples, num_samples_per_bin, boundary_ratio)).view(temporal_dim, -1))
        relu = lambda: nn.ReLU(inplace=True)
        self.x_1d_b = nn.Sequential(nn.Conv1d(feat_dim, hidden_1d, 3, padding=1, groups=4), relu(), nn.Conv1d(hidden_1d, hidden_1d, 3, padding=1, groups=4), relu())
        head = lambda: nn.Sequential(nn.Conv1d(hidden_1d, hidden_1d, 3, padding=1, groups=4), relu(), nn.Conv1d(hidden_1d, 1, 1), nn.Sigmoid())
        self.x_1d_s, self.x_1d_e = head(), head()
        self.x_1d_p = nn.Sequential(nn.Conv1d(hidden_1d, hidden_1d, 3, padding=1), relu())
        self.x_3d_p = nn.Sequential(nn.Conv3d(hidden_1d, hidden_3d, (num_samples, 1, 1)), relu())
        self.x_2d_p = nn.Sequential(nn.Conv2d(hidden_3d, hidden_2d, 1), relu(), nn.Conv2d(hidden_2d, hidden_2d, 3, padding=1), relu(), nn.Conv2d(hidden_2d, hidden_2d, 3, padding=1), relu(), nn.Conv2d(hidden_2d, 2, 1), nn.Sigmoid())

    def forward(self, x):
        """x [N, C, T] -> confidence [N, 2, D, T], start [N, T], end [N, T]."""
        base = self.x_1d_b(x)
        start, end = self.x_1d_s(base).squeeze(1), self.x_1d_e(base).squeeze(1)
        p = self.x_1d_p(base)
        p = torch.matmul(p, self.mask).reshape(p.shape[0], p.shape[1], self.s, self.t, self.t)
        return self.x_2d_p(self.x_3d_p(p).squeeze(2)), start, end


def temporal_iou(pmin, pmax, gmin, gmax):
    inter = np.maximum(np.minimum(pmax, gmax) - np.maximum(pmin, gmin), 0.0)
    return np.divide(inter, pmax - pmin - inter + gmax - gmin)


def temporal_iop(pmin, pmax, gmin, gmax):
    inter = np.maximum(np.minimum(pmax, gmax) - np.maximum(pmin, gmin), 0.0)
    return np.divide(inter, np.array(pmax - pmin))


def labels(gt, tscale):
    """BM label map [D=T, T], start and end labels [T] of one video's segments (fractions of the video), float32."""
    gap = 1.0 / tscale
    tmin = np.array([[gap * t for t in range(tscale)] for _ in range(tscale)])
    tmax = np.array([[gap * t + gap * (d + 1) for t in range(tscale)] for d in range(tscale)])
    iou = np.max([temporal_iou(tmin, tmax, s, e) for s, e in gt], axis=0)
    pad = 3 * (1.0 / tscale)
    anchors = [(gap * (t + -0.5), gap * (t + 1.5)) for t in range(tscale)]
    starts = np.array([[s - pad / 2, s + pad / 2] for s, _ in gt])
    ends = np.array([[e - pad / 2, e + pad / 2] for _, e in gt])
    start = [np.max(temporal_iop(a, b, starts[:, 0], starts[:, 1])) for a, b in anchors]
    end = [np.max(temporal_iop(a, b, ends[:, 0], ends[:, 1])) for a, b in anchors]
    return iou.astype(np.float32), np.array(start, dtype=np.float32), np.array(end, dtype=np.float32)


def bm_mask(tscale):
    return torch.tensor([[1] * (tscale - d) + [0] * d for d in range(tscale)], dtype=torch.float)


def logistic_loss(score, label, threshold=0.5, ratio_range=(1.05, 21), eps=1e-5):
    label, score = label.reshape(-1), score.reshape(-1)
    pmask = (label > threshold).float()
    ratio = len(label) / max(torch.sum(pmask), 1)
    ratio = min(max(ratio, ratio_range[0]), ratio_range[1])
    coef_0, coef_1 = 0.5 * ratio / (ratio - 1), 0.5 * ratio
    return -torch.mean(coef_1 * pmask * torch.log(score + eps) + coef_0 * (1.0 - pmask) * torch.log(1.0 - score + eps))


def pem_reg_loss(score, iou, mask, noise_mid, noise_low, high=0.7, low=0.3):
    h = (iou > high).float()
    m = ((iou <= high) & (iou > low)).float()
    lo = ((iou <= low) & (iou > 0.0)).float() * mask
    keep_m = (m * noise_mid > 1.0 - torch.sum(h) / torch.sum(m)).float()
    keep_l = (lo * noise_low > 1.0 - torch.sum(h) / torch.sum(lo)).float()
    w = h + keep_m + keep_l
    mse = nn.functional.mse_loss(score * w, iou * w)
    return 0.5 * torch.sum(mse * torch.ones_like(w)) / torch.sum(w)


def pem_cls_loss(score, iou, mask, threshold=0.9, ratio_range=(1.05, 21), eps=1e-5):
    p = (iou > threshold).float()
    n = (iou <= threshold).float() * mask
    positives = max(torch.sum(p), 1)
    entries = positives + torch.sum(n)
    ratio = torch.clamp(entries / positives, ratio_range[0], ratio_range[1])
    coef_0, coef_1 = 0.5 * ratio / (ratio - 1), 0.5 * ratio
    return -1 * torch.sum(coef_1 * torch.log(score + eps) * p + coef_0 * torch.log(1.0 - score + eps) * n) / entries


def bmn_loss(confidence, start, end, iou, gt_start, gt_end, mask, noise_mid, noise_low):
    """(total, tem, reg, cls); confidence [N, 2, D, T], iou [N, D, T]."""
    iou = iou * mask
    reg = pem_reg_loss(confidence[:, 0].contiguous(), iou, mask, noise_mid, noise_low)
    cls = pem_cls_loss(confidence[:, 1].contiguous(), iou, mask)
    tem = logistic_loss(start, gt_start) + logistic_loss(end, gt_end)
    return tem + 10.0 * reg + cls, tem, reg, cls


def soft_nms(proposals, alpha, low, high, top_k):
    proposals = proposals[proposals[:, -1].argsort()[::-1]]
    start, end, score = list(proposals[:, 0]), list(proposals[:, 1]), list(proposals[:, -1])
    kept = []
    while score and len(kept) <= top_k:
        best = int(np.argmax(score))
        width = end[best] - start[best]
        iou = temporal_iou(start[best], end[best], np.array(start), np.array(end))
        decay = np.exp(-np.square(iou) / alpha)
        for i in range(len(score)):
            if i != best and iou[i] > low + (high - low) * width:
                score[i] = score[i] * decay[i]
        kept.append([start.pop(best), end.pop(best), score.pop(best)])
    return np.array(kept)


def post_process(start, end, confidence, top_k=100, alpha=0.4, low=0.5, high=0.9):
    """One video's outputs (start, end [T]; confidence [2, D, T] float32) -> [[tmin, tmax, score], ...] as fractions."""
    tscale = len(start)
    def allowed(scores, always):
        bins = np.zeros(tscale)
        bins[always] = 1
        for i in range(1, tscale - 1):
            if (scores[i] > scores[i + 1] and scores[i] > scores[i - 1]) or scores[i] > 0.5 * max(scores):
                bins[i] = 1
        return bins
    starts, ends = allowed(start, 0), allowed(end, -1)
    rows = []
    for d in range(confidence.shape[1]):
        for t in range(tscale):
            last = t + d + 1
            if last < tscale and starts[t] == 1 and ends[last] == 1:
                rows.append([t / tscale, last / tscale, start[t] * end[last] * confidence[1, d, t] * confidence[0, d, t]])
    result = np.array(rows)
    if len(result) > 1:
        result = soft_nms(result, alpha, low, high, top_k)
    result = result[result[:, -1].argsort()[::-1]]
    return [[max(0, r[0]), min(1, r[1]), float(r[2])] for r in result[:top_k]]


def interp_linear(data, x_new):
    """scipy.interpolate.interp1d(range(n), data, axis=0) at x_new, as its linear kind computes it."""
    n = len(data)
    hi = np.clip(np.searchsorted(np.arange(n, dtype=np.float64), x_new), 1, n - 1)
    lo = hi - 1
    slope = (data[hi] - data[lo]) / (hi - lo).astype(np.float64)[:, None]
    return slope * (np.asarray(x_new) - lo)[:, None] + data[lo]


def pool_feature(data, num_proposals=100, num_sample_bins=3):
    """MMAction2 tools/data/activitynet/activitynet_feature_postprocessing.py pool_feature (mean) on [n, F] float32 snippets."""
    if len(data) == 1:
        return np.concatenate([data] * num_proposals)
    eps = 1e-4
    start, end = eps, len(data) - 1 - eps
    anchor_size = (end - start) / num_proposals
    ptr = start
    feature = []
    for _ in range(num_proposals):
        x_new = [ptr + i / num_sample_bins * anchor_size for i in range(num_sample_bins)]
        feature.append(np.mean(interp_linear(data, x_new), axis=0))
        ptr += anchor_size
    return np.stack(feature)


def trainable(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def count():
    for name, config in (("bmn_400x100", BMN_400X100), ("tiny_bmn", TINY)):
        model = BMN(**config)
        mask = model.mask.numel()
        print(f"{name}: {trainable(model):,} trainable parameters (MMAction2's parameters() also counts its frozen {mask:,}-entry sampling mask: {trainable(model) + mask:,})")


def resample_case(rng):
    """Snippet features [7, 3] pooled to 5 and to 16 positions, and one snippet repeated."""
    data = rng.uniform(-1, 1, (7, 3)).astype(np.float32)
    one = rng.uniform(-1, 1, (1, 3)).astype(np.float32)
    return {"data": data.reshape(-1).tolist(), "n": 7, "width": 3,
            "to5": pool_feature(data, 5).reshape(-1).tolist(), "to16": pool_feature(data, 16).reshape(-1).tolist(),
            "one": one.reshape(-1).tolist(), "oneTo4": pool_feature(one, 4).reshape(-1).tolist()}


# test/fixtures/localization/bmn_parity.vnet
PARITY = dict(temporal_dim=8, boundary_ratio=0.5, num_samples=4, num_samples_per_bin=3, feat_dim=8, hidden_1d=8, hidden_2d=4, hidden_3d=8)


def forward_case():
    """A small BMN's weights (state_dict order), an input [N, C, T] and its outputs."""
    torch.manual_seed(0)
    model = BMN(**PARITY).eval()
    x = torch.randn(2, PARITY["feat_dim"], PARITY["temporal_dim"])
    with torch.no_grad():
        confidence, start, end = model(x)
    weights = [{"name": k, "shape": list(v.shape), "values": v.reshape(-1).tolist()} for k, v in model.state_dict().items() if k != "mask"]
    return {"config": PARITY, "weights": weights, "input": x.reshape(-1).tolist(), "start": start.reshape(-1).tolist(), "end": end.reshape(-1).tolist(), "confidence": confidence.reshape(-1).tolist()}


def fixture(path):
    """A small case: mask, labels, loss and post-processing at T = 8, with every input recorded."""
    rng = np.random.RandomState(3)
    T, S, B, ratio = 8, 4, 3, 0.5
    gt = [[[0.1, 0.45], [0.6, 0.95]], [[0.25, 0.7]]]
    lab = [labels(g, T) for g in gt]
    iou = torch.tensor(np.stack([l[0] for l in lab]))
    gt_start = torch.tensor(np.stack([l[1] for l in lab]))
    gt_end = torch.tensor(np.stack([l[2] for l in lab]))
    start = torch.tensor(rng.uniform(0.05, 0.95, (2, T)).astype(np.float32))
    end = torch.tensor(rng.uniform(0.05, 0.95, (2, T)).astype(np.float32))
    confidence = torch.tensor(rng.uniform(0.05, 0.95, (2, 2, T, T)).astype(np.float32))
    noise_mid = torch.tensor(rng.uniform(0, 1, (2, T, T)).astype(np.float32))
    noise_low = torch.tensor(rng.uniform(0, 1, (2, T, T)).astype(np.float32))
    total, tem, reg, cls = bmn_loss(confidence, start, end, iou, gt_start, gt_end, bm_mask(T), noise_mid, noise_low)
    proposals = post_process(start[0].numpy(), end[0].numpy(), confidence[0].numpy(), top_k=10)
    out = {
        "note": "scripts/reference/bmn.py fixture: BMN's sampling mask, labels, loss and post-processing re-created from MMAction2 at T = 8",
        "mask": {"tscale": T, "num_samples": S, "num_samples_per_bin": B, "boundary_ratio": ratio, "values": sample_mask(T, S, B, ratio).reshape(-1).tolist()},
        "segments": gt,
        "labels": [{"iou": l[0].reshape(-1).tolist(), "start": l[1].tolist(), "end": l[2].tolist()} for l in lab],
        "outputs": {"start": start.reshape(-1).tolist(), "end": end.reshape(-1).tolist(), "confidence": confidence.reshape(-1).tolist()},
        "noise": {"mid": noise_mid.reshape(-1).tolist(), "low": noise_low.reshape(-1).tolist()},
        "loss": {"total": float(total), "tem": float(tem), "reg": float(reg), "cls": float(cls)},
        "proposals": proposals,
        "resample": resample_case(rng),
        "forward": forward_case(),
    }
    with open(path, "w") as f:
        json.dump(out, f)
        f.write("\n")
    print(f"wrote {path}: loss {float(total):.6f}, {len(proposals)} proposals")


def bench(threads=2, repeats=5):
    """Median seconds per video of BMN 400x100's forward pass and of its post-processing."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = BMN(**BMN_400X100).eval()
    x = torch.randn(1, 400, 100)
    forward, post = [], []
    with torch.no_grad():
        model(x)
        for _ in range(repeats):
            t0 = time.perf_counter()
            confidence, start, end = model(x)
            t1 = time.perf_counter()
            post_process(start[0].numpy(), end[0].numpy(), confidence[0].numpy())
            t2 = time.perf_counter()
            forward.append(t1 - t0)
            post.append(t2 - t1)
    print(json.dumps({"torch": torch.__version__, "threads": threads, "forward_s": float(np.median(forward)), "postprocess_s": float(np.median(post))}))


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "count"
    if command == "count":
        count()
    elif command == "fixture":
        fixture(sys.argv[2])
    elif command == "bench":
        args = dict(zip(sys.argv[2::2], sys.argv[3::2]))
        bench(int(args.get("--threads", 2)), int(args.get("--repeats", 5)))
    else:
        sys.exit(f"unknown command {command} (count, fixture, bench)")
