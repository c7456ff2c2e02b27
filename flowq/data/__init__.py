"""Datasets as whole tensors on the training device, with batched on-device augmentation."""

from flowq.data.augment import iterate_batches, random_crop, random_flip
from flowq.data.datasets import DATASETS, ImageData, dataset_shape, load_cifar10, load_dataset, load_digits, \
    load_imagefolder

__all__ = ["DATASETS", "ImageData", "dataset_shape", "load_dataset", "load_digits", "load_cifar10", "load_imagefolder",
           "iterate_batches", "random_crop", "random_flip"]
