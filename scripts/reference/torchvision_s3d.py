"""S3D as torchvision builds it: torchvision.models.video.s3d (torchvision/models/video/s3d.py),
which Debian's torchvision 0.14 ships, used as it is."""
from torchvision.models.video import s3d as torchvision_s3d


def s3d():
    # 64 frames: the clip length of torchvision's training recipe (references/video_classification, S3D).
    return torchvision_s3d(num_classes=400), (64, 224)
