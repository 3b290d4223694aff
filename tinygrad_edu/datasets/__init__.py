"""Small data sets shipped inside the package (no network needed), and a stratified split."""

from tinygrad_edu.datasets.digits import load_digits, train_test_split

__all__ = ["load_digits", "train_test_split"]
