"""Datasets: digits split, CIFAR-10 folder reader (tiny generated file), errors, on-device batched augmentation."""

import pickle

import numpy as np
import pytest
import torch

from flowq.data import iterate_batches, load_cifar10, load_dataset, load_digits, random_crop, random_flip
from flowq.errors import DataError


def test_digits_split_sizes_and_shape():
    data = load_digits()
    # 1,797 images: test = round(0.2 * 1797) = 359; validation = round(0.2 * 1438) = 288; train = 1,150
    assert (len(data.train_y), len(data.val_y), len(data.test_y)) == (1150, 288, 359)
    assert data.input_shape == (3, 32, 32) and data.num_classes == 10
    assert set(data.train_y.tolist()) == set(range(10))
    # standardised with the training split's statistics
    assert abs(float(data.train_x.mean())) < 1e-4 and abs(float(data.train_x.std()) - 1) < 1e-3


def test_digits_split_is_fixed_and_disjoint():
    a, b = load_digits(image_size=8, channels=1), load_digits(image_size=8, channels=1)
    assert torch.equal(a.val_x, b.val_x) and torch.equal(a.test_y, b.test_y)
    rows = {tuple(x.flatten().tolist()) for x in a.test_x}
    # a handful of digits images are exact duplicates in sklearn's set, so allow a few coincidences
    assert sum(tuple(x.flatten().tolist()) in rows for x in a.train_x) <= 5
    c = load_digits(image_size=8, channels=1, split_seed=1)
    assert not torch.equal(a.test_y, c.test_y)


def _write_cifar(folder, n_per_batch=4):
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 256, (n_per_batch, 3072), dtype=np.uint8),
                 b"labels": rng.integers(0, 10, n_per_batch).tolist()}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f)


def test_cifar10_reads_the_python_format(tmp_path):
    _write_cifar(tmp_path / "cifar-10-batches-py")
    data = load_cifar10(tmp_path)  # the parent of cifar-10-batches-py works, as does the folder itself
    # 5 batches x 4 = 20 training images, 10% (2) held out for validation; test_batch = 4
    assert (len(data.train_y), len(data.val_y), len(data.test_y)) == (18, 2, 4)
    assert data.input_shape == (3, 32, 32) and data.flip and data.padding == 4
    assert len(load_dataset("cifar10", root=tmp_path / "cifar-10-batches-py").test_y) == 4


def test_missing_cifar10_says_what_to_download(tmp_path):
    with pytest.raises(DataError) as info:
        load_cifar10(tmp_path / "nowhere")
    message = str(info.value)
    assert "cifar-10-python.tar.gz" in message and "nowhere" in message and "data_batch_1" in message


def test_malformed_cifar_batch(tmp_path):
    _write_cifar(tmp_path / "cifar")
    with open(tmp_path / "cifar" / "data_batch_1", "wb") as f:
        pickle.dump({b"data": np.zeros((2, 10), np.uint8), b"labels": [0, 1]}, f)
    with pytest.raises(DataError, match="3072"):
        load_cifar10(tmp_path / "cifar")


def test_unknown_dataset_and_missing_root():
    with pytest.raises(DataError, match="available: digits"):
        load_dataset("mnist")
    with pytest.raises(DataError, match="root="):
        load_dataset("imagefolder")


def test_random_crop_is_a_shifted_window_of_the_padded_image():
    x = torch.arange(2 * 1 * 4 * 4, dtype=torch.float32).reshape(2, 1, 4, 4) + 1
    out = random_crop(x, 1, torch.Generator().manual_seed(0))
    padded = torch.nn.functional.pad(x, (1, 1, 1, 1))
    for i in range(2):
        windows = [padded[i, :, r:r + 4, c:c + 4] for r in range(3) for c in range(3)]
        assert any(torch.equal(out[i], w) for w in windows)
    assert torch.equal(random_crop(x, 0, torch.Generator()), x)


def test_random_flip_mirrors_whole_images():
    x = torch.arange(64 * 3, dtype=torch.float32).reshape(64, 1, 1, 3)
    out = random_flip(x, torch.Generator().manual_seed(0))
    flipped = [torch.equal(o, xi.flip(2)) for o, xi in zip(out, x)]
    kept = [torch.equal(o, xi) for o, xi in zip(out, x)]
    assert all(f or k for f, k in zip(flipped, kept)) and 10 < sum(flipped) < 54  # ~half of 64 mirrored


def test_iterate_batches_visits_every_image_once():
    x, y = torch.arange(10.0).reshape(10, 1, 1, 1), torch.arange(10)
    batches = list(iterate_batches(x, y, 4, torch.Generator().manual_seed(0)))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    labels = torch.cat([b[1] for b in batches])
    assert sorted(labels.tolist()) == list(range(10))
    assert all(torch.equal(b[0].flatten(), b[1].float()) for b in batches)  # images stay with their labels
