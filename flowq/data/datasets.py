"""Datasets held whole as tensors: scikit-learn digits (default, no download), CIFAR-10 from a folder, ImageFolder."""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from flowq.errors import DataError

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"


@dataclass
class ImageData:
    """Train / validation / test splits as normalised float tensors (N, C, H, W) and int64 labels (N,).

    The validation split is held out of the training data and is what accuracy fitness psi is measured on
    (hw-flowq 6: never the test set). `padding`/`flip` say which augmentation suits the data.
    """

    name: str
    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    num_classes: int
    padding: int = 0
    flip: bool = False
    mean: list = field(default_factory=list)
    std: list = field(default_factory=list)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        return tuple(int(s) for s in self.train_x.shape[1:])

    def to(self, device) -> "ImageData":
        """The same data with every tensor on `device`."""
        tensors = {k: getattr(self, k).to(device) for k in ("train_x", "train_y", "val_x", "val_y", "test_x",
                                                             "test_y")}
        return replace(self, **tensors)


def _split(n: int, val_fraction: float, test_fraction: float, split_seed: int):
    """Index arrays (train, val, test) of a fixed seeded permutation of range(n)."""
    order = np.random.default_rng(split_seed).permutation(n)
    n_test, n_val = int(round(n * test_fraction)), int(round(n * val_fraction))
    return order[n_test + n_val:], order[n_test:n_test + n_val], order[:n_test]


def _normalise(splits: dict, n_classes: int, name: str, **kwargs) -> ImageData:
    """Per-channel standardisation with the training split's mean and std; arrays become torch tensors."""
    train = splits["train_x"]
    mean = train.mean(axis=(0, 2, 3), keepdims=True)
    std = train.std(axis=(0, 2, 3), keepdims=True) + 1e-8
    tensors = {}
    for key, value in splits.items():
        if key.endswith("_x"):
            tensors[key] = torch.from_numpy(((value - mean) / std).astype(np.float32))
        else:
            tensors[key] = torch.from_numpy(value.astype(np.int64))
    return ImageData(name=name, num_classes=n_classes, mean=mean.ravel().tolist(), std=std.ravel().tolist(),
                     **tensors, **kwargs)


def load_digits(image_size: int = 32, channels: int = 3, *, val_fraction: float = 0.2, test_fraction: float = 0.2,
                split_seed: int = 0) -> ImageData:
    """scikit-learn's bundled handwritten digits (1,797 real 8x8 images, 10 classes; ships with sklearn).

    Images are scaled bilinearly to `image_size` and repeated over `channels`, so CIFAR architectures run on them
    unchanged (3x32x32 by default). Split: a fixed permutation (seed `split_seed`) gives test = 20% (359 images);
    of the remaining 1,438, 20% (288) are the validation split and 1,150 train. Augmentation: random crops with
    image_size/8 padding, no flips (mirrored digits are different digits).

    Raises:
        DataError: image_size < 8 or channels < 1.
    """
    from sklearn.datasets import load_digits as sklearn_digits

    if image_size < 8 or channels < 1:
        raise DataError(f"digits: image_size={image_size}, channels={channels}; need image_size >= 8 (the "
                        f"originals are 8x8) and channels >= 1")
    bunch = sklearn_digits()
    images = torch.from_numpy(bunch.images.astype(np.float32) / 16.0)[:, None]  # (1797, 1, 8, 8) in [0, 1]
    if image_size != 8:
        images = F.interpolate(images, size=(image_size, image_size), mode="bilinear", align_corners=False)
    images = images.repeat(1, channels, 1, 1).numpy()
    labels = bunch.target
    n_outer = len(labels) - int(round(len(labels) * test_fraction))
    order = np.random.default_rng(split_seed).permutation(len(labels))
    test, rest = order[:len(labels) - n_outer], order[len(labels) - n_outer:]
    n_val = int(round(n_outer * val_fraction))
    val, train = rest[:n_val], rest[n_val:]
    splits = {"train_x": images[train], "train_y": labels[train], "val_x": images[val], "val_y": labels[val],
              "test_x": images[test], "test_y": labels[test]}
    return _normalise(splits, 10, "digits", padding=max(1, image_size // 8), flip=False)


def _cifar_folder(root: str | os.PathLike) -> Path:
    root = Path(root).expanduser()
    for candidate in (root, root / "cifar-10-batches-py"):
        if (candidate / "data_batch_1").is_file() and (candidate / "test_batch").is_file():
            return candidate
    raise DataError(f"CIFAR-10 not found under {str(root)!r}: expected the files data_batch_1..data_batch_5 and "
                    f"test_batch (CIFAR-10's python format). Download {CIFAR10_URL} and extract it there "
                    f"(tar xzf cifar-10-python.tar.gz -C {root}), which creates {root / 'cifar-10-batches-py'}. "
                    f"FlowQ never downloads data itself.")


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with open(path, "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if data is None or labels is None:
        raise DataError(f"{path}: not a CIFAR-10 python batch (needs keys 'data' and 'labels')")
    data = np.asarray(data, dtype=np.uint8)
    if data.ndim != 2 or data.shape[1] != 3072:
        raise DataError(f"{path}: 'data' has shape {data.shape}; CIFAR-10 batches hold (N, 3072) uint8 rows")
    return data.reshape(-1, 3, 32, 32).astype(np.float32) / 255.0, np.asarray(labels, dtype=np.int64)


def load_cifar10(root: str | os.PathLike, *, val_fraction: float = 0.1, split_seed: int = 0) -> ImageData:
    """CIFAR-10 from a local folder in its standard python format (data_batch_1..5, test_batch).

    The validation split is `val_fraction` of the 50,000 training images (fixed seeded permutation); the
    official test_batch is the test split. Augmentation: 4-pixel random crops and horizontal flips.

    Raises:
        DataError: the folder or a batch file is missing or malformed (the message says what to download).
    """
    folder = _cifar_folder(root)
    parts = [_read_cifar_batch(folder / f"data_batch_{i}") for i in range(1, 6)
             if (folder / f"data_batch_{i}").is_file()]
    train_x = np.concatenate([p[0] for p in parts])
    train_y = np.concatenate([p[1] for p in parts])
    test_x, test_y = _read_cifar_batch(folder / "test_batch")
    train, val, _ = _split(len(train_y), val_fraction, 0.0, split_seed)
    splits = {"train_x": train_x[train], "train_y": train_y[train], "val_x": train_x[val], "val_y": train_y[val],
              "test_x": test_x, "test_y": test_y}
    return _normalise(splits, 10, "cifar10", padding=4, flip=True)


IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


def _image_classes(folder: Path) -> list[str]:
    """Class names of an ImageFolder-style folder: its sub-folders, sorted (as torchvision's ImageFolder)."""
    return sorted(entry.name for entry in folder.iterdir() if entry.is_dir() and not entry.name.startswith("."))


def _read_image(path: Path, image_size: int) -> np.ndarray:
    """One image as float32 (3, S, S) in [0, 1]: RGB, shorter side resized to S (bilinear), centre crop."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            image = image.convert("RGB")
            scale = image_size / min(image.size)
            width, height = max(image_size, round(image.width * scale)), max(image_size, round(image.height * scale))
            image = image.resize((width, height), Image.BILINEAR)
            left, top = (width - image_size) // 2, (height - image_size) // 2
            image = image.crop((left, top, left + image_size, top + image_size))
            array = np.asarray(image, dtype=np.float32) / 255.0
    except OSError as error:
        raise DataError(f"imagefolder: {path} is not a readable image ({error})") from None
    return array.transpose(2, 0, 1)


def _read_image_folder(folder: Path, image_size: int, classes: list[str] | None = None):
    """(images (N, 3, S, S), labels (N,), class names) of folder/<class>/<image> (PIL, no torchvision)."""
    classes = classes if classes is not None else _image_classes(folder)
    images, labels = [], []
    for label, name in enumerate(classes):
        if not (folder / name).is_dir():
            continue
        for path in sorted((folder / name).rglob("*")):
            if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
                images.append(_read_image(path, image_size))
                labels.append(label)
    if not images:
        raise DataError(f"imagefolder: no images ({', '.join(IMAGE_SUFFIXES)}) under {folder}/<class>/")
    return np.stack(images), np.asarray(labels, dtype=np.int64), classes


def load_imagefolder(root: str | os.PathLike, *, image_size: int = 224, val_fraction: float = 0.1,
                     split_seed: int = 0) -> ImageData:
    """An ImageNet-style folder (`root/train/<class>/*.jpg`, optional `root/val/<class>/*`), read with PIL.

    Every image is converted to RGB, its shorter side resized to image_size and centre-cropped to image_size x
    image_size, and held in memory, so this suits subsets (e.g. 100 classes); classes are the sorted sub-folders
    of `root/train`. `root/val` (if present) becomes the test split, the validation split comes out of
    `root/train` (else 10 % of `root/train` is held out as the test split).

    Raises:
        DataError: no `root/train` folder, no class folders or images, an unreadable image.
    """
    root = Path(root).expanduser()
    classes = imagefolder_classes(root)
    train_x, train_y, _ = _read_image_folder(root / "train", image_size, classes)
    has_val = (root / "val").is_dir()
    train, val, held_out = _split(len(train_y), val_fraction, 0.0 if has_val else 0.1, split_seed)
    if has_val:
        test_x, test_y, _ = _read_image_folder(root / "val", image_size, classes)
    else:
        test_x, test_y = train_x[held_out], train_y[held_out]
    splits = {"train_x": train_x[train], "train_y": train_y[train], "val_x": train_x[val], "val_y": train_y[val],
              "test_x": test_x, "test_y": test_y}
    return _normalise(splits, len(classes), "imagefolder", padding=image_size // 8, flip=True)


def imagefolder_classes(root: str | os.PathLike) -> list[str]:
    """The class names of an imagefolder dataset (sorted sub-folders of root/train).

    Raises:
        DataError: no root/train folder or no class folder in it.
    """
    root = Path(root).expanduser()
    if not (root / "train").is_dir():
        raise DataError(f"imagefolder: {str(root / 'train')!r} does not exist; expected root/train/<class>/<image> "
                        f"(and optionally root/val/<class>/<image>)")
    classes = _image_classes(root / "train")
    if not classes:
        raise DataError(f"imagefolder: {root / 'train'} has no class folders; expected root/train/<class>/<image>")
    return classes


#: dataset names accepted by `load_dataset`
DATASETS = ("digits", "cifar10", "imagefolder")


def load_dataset(name: str = "digits", *, root: str | os.PathLike | None = None, image_size: int | None = None,
                 channels: int = 3, split_seed: int = 0) -> ImageData:
    """Load a dataset by name.

    Args:
        name: "digits" (embedded, default), "cifar10" (needs `root`), "imagefolder" (needs `root`).
        root: folder of cifar10 / imagefolder data; for cifar10 defaults to $FLOWQ_DATA_DIR/cifar10 when set.
        image_size: digits: side in pixels (32 default); imagefolder: 224 default; ignored for cifar10.
        channels: digits only: how many channels the grey image is repeated over.
        split_seed: seed of the fixed train/validation/test split.

    Raises:
        DataError: unknown name, or missing data (the message says what to put where).
    """
    key = str(name).lower()
    if key == "digits":
        return load_digits(image_size or 32, channels, split_seed=split_seed)
    if key in ("cifar10", "imagefolder"):
        if root is None and key == "cifar10" and os.environ.get("FLOWQ_DATA_DIR"):
            root = Path(os.environ["FLOWQ_DATA_DIR"]) / "cifar10"
        if root is None:
            raise DataError(f"dataset {key!r} is read from a local folder; pass root=<folder> (CLI: --data-dir)"
                            + (f" or set FLOWQ_DATA_DIR. Get it from {CIFAR10_URL}" if key == "cifar10" else ""))
        if key == "cifar10":
            return load_cifar10(root, split_seed=split_seed)
        return load_imagefolder(root, image_size=image_size or 224, split_seed=split_seed)
    raise DataError(f"unknown dataset {name!r}; available: {', '.join(DATASETS)}")


def dataset_shape(name: str = "digits", *, root: str | os.PathLike | None = None, image_size: int | None = None,
                  channels: int = 3) -> tuple[int, tuple[int, int, int]]:
    """(num_classes, (C, H, W)) of a dataset as `load_dataset` would return it, without reading the images
    (imagefolder: the class folders are counted).

    Raises:
        DataError: unknown name, or an imagefolder root without class folders.
    """
    key = str(name).lower()
    if key == "digits":
        side = image_size or 32
        return 10, (channels, side, side)
    if key == "cifar10":
        return 10, (3, 32, 32)
    if key == "imagefolder":
        if root is None:
            raise DataError("dataset 'imagefolder' is read from a local folder; pass root=<folder> (CLI: --data-dir)")
        side = image_size or 224
        return len(imagefolder_classes(root)), (3, side, side)
    raise DataError(f"unknown dataset {name!r}; available: {', '.join(DATASETS)}")
