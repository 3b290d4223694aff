"""datasets: load_digits reads the shipped digits file; train_test_split splits by class.

Expected values come from the raw CSV text, read here with gzip and str.split (not numpy),
or are written out by hand from `zcat digits.csv.gz | head -1`.
"""

import gzip
from importlib import resources

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu.datasets import load_digits, train_test_split

# The first line of digits.csv.gz, copied from `zcat digits.csv.gz | head -1`: a zero.
FIRST_ROW = [
    0, 0, 5, 13, 9, 1, 0, 0,
    0, 0, 13, 15, 10, 15, 5, 0,
    0, 3, 15, 2, 0, 11, 8, 0,
    0, 4, 12, 0, 0, 8, 8, 0,
    0, 5, 8, 0, 0, 9, 8, 0,
    0, 4, 11, 0, 1, 12, 7, 0,
    0, 2, 14, 5, 10, 12, 0, 0,
    0, 0, 6, 13, 10, 0, 0, 0,
]  # fmt: skip
FIRST_LABEL = 0
# Images per digit 0..9, counted with `zcat digits.csv.gz | cut -d, -f65 | sort | uniq -c`.
CLASS_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def _raw_lines() -> list[list[int]]:
    """The shipped file parsed by hand: one list of 65 ints per line."""
    path = resources.files("tinygrad_edu.datasets").joinpath("data", "digits.csv.gz")
    text = gzip.decompress(path.read_bytes()).decode("ascii")
    return [[int(v) for v in line.split(",")] for line in text.splitlines() if line.strip()]


# -- load_digits --------------------------------------------------------------------------------


def test_shapes_and_dtypes():
    X, y = load_digits()
    assert isinstance(X, np.ndarray) and isinstance(y, np.ndarray)
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64


def test_pixel_values_are_integers_0_to_16():
    X, _ = load_digits()
    assert X.min() == 0 and X.max() == 16
    np.testing.assert_array_equal(X, np.round(X))


def test_class_counts():
    _, y = load_digits()
    assert sum(CLASS_COUNTS) == 1797
    assert set(np.unique(y).tolist()) == set(range(10))
    np.testing.assert_array_equal(np.bincount(y, minlength=10), CLASS_COUNTS)
    assert all(174 <= c <= 183 for c in CLASS_COUNTS)


def test_first_row_matches_the_raw_file():
    X, y = load_digits()
    lines = _raw_lines()
    assert lines[0] == FIRST_ROW + [FIRST_LABEL]
    np.testing.assert_array_equal(X[0], np.array(FIRST_ROW, dtype=np.float32))
    assert y[0] == FIRST_LABEL


def test_every_row_matches_the_raw_file():
    X, y = load_digits()
    raw = np.array(_raw_lines())
    assert raw.shape == (1797, 65)
    np.testing.assert_array_equal(X, raw[:, :64])
    np.testing.assert_array_equal(y, raw[:, 64])
    np.testing.assert_array_equal(np.bincount(raw[:, 64]), CLASS_COUNTS)


def test_returns_copies_so_the_cache_cannot_be_corrupted():
    X1, y1 = load_digits()
    X1[:] = -1.0
    y1[:] = -1
    X2, y2 = load_digits()
    assert X2.min() == 0 and y2.min() == 0
    assert not np.shares_memory(X1, X2) and not np.shares_memory(y1, y2)
    assert X2.flags.writeable and y2.flags.writeable


def test_licence_file_is_shipped_beside_the_data():
    text = (
        resources.files("tinygrad_edu.datasets")
        .joinpath("data", "DIGITS_LICENSE.md")
        .read_text(encoding="utf-8")
    )
    for words in ("Alpaydin", "Kaynak", "CC BY 4.0", "10.24432/C50P49", "scikit-learn"):
        assert words in text


# -- train_test_split ---------------------------------------------------------------------------


def test_split_of_the_digits_is_stratified():
    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, seed=0)
    assert len(X_train) == len(y_train) and len(X_test) == len(y_test)
    assert len(X_train) + len(X_test) == 1797
    assert X_train.dtype == np.float32 and y_test.dtype == np.int64
    test_counts = np.bincount(y_test, minlength=10)
    for c in range(10):
        assert abs(test_counts[c] - 0.2 * CLASS_COUNTS[c]) <= 1, (c, test_counts[c])
    np.testing.assert_array_equal(test_counts + np.bincount(y_train, minlength=10), CLASS_COUNTS)


def test_split_rows_stay_paired_with_their_labels():
    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, seed=3)
    # find every test row in X (the digits have duplicate images, so compare labels as a set)
    for row, label in zip(X_test[:50], y_test[:50]):
        matches = np.flatnonzero((X == row).all(axis=1))
        assert label in y[matches]


@given(
    labels=st.lists(st.integers(0, 4), min_size=2, max_size=200),
    test_size=st.floats(0.05, 0.95),
    seed=st.integers(0, 2**32 - 1),
)
def test_split_is_stratified_disjoint_and_complete(labels, test_size, seed):
    y = np.array(labels, dtype=np.int64)
    X = np.arange(len(y))  # each row is its own index, so the split can be traced back
    try:
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size, seed=seed)
    except ValueError as err:  # tiny inputs may leave one part empty, which must be refused
        assert "empty" in str(err)
        return
    assert len(X_train) > 0 and len(X_test) > 0
    assert not set(X_train.tolist()) & set(X_test.tolist())
    assert sorted(X_train.tolist() + X_test.tolist()) == list(range(len(y)))
    np.testing.assert_array_equal(y[X_train], y_train)
    np.testing.assert_array_equal(y[X_test], y_test)
    for c in np.unique(y):
        n_c = int((y == c).sum())
        assert abs(int((y_test == c).sum()) - test_size * n_c) <= 1


def test_split_without_stratify_is_complete_and_sized():
    y = np.repeat(np.arange(2), [90, 10])
    X = np.arange(100)
    X_train, X_test, _, _ = train_test_split(X, y, test_size=0.25, seed=1, stratify=False)
    assert len(X_test) == 25 and len(X_train) == 75
    assert sorted(np.concatenate([X_train, X_test]).tolist()) == list(range(100))


def test_split_is_deterministic_per_seed_and_differs_across_seeds():
    X, y = load_digits()
    a = train_test_split(X, y, seed=7)
    b = train_test_split(X, y, seed=7)
    c = train_test_split(X, y, seed=8)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[3], c[3]) or not np.array_equal(a[1], c[1])


def test_split_accepts_multidimensional_X():
    X = np.arange(40, dtype=np.float32).reshape(10, 2, 2)
    y = np.array([0, 1] * 5)
    X_train, X_test, _, _ = train_test_split(X, y, test_size=0.2)
    assert X_train.shape == (8, 2, 2) and X_test.shape == (2, 2, 2)


def test_split_errors():
    X, y = np.zeros((10, 3)), np.zeros(10, dtype=np.int64)
    with pytest.raises(ValueError, match=r"same number of samples.*10.*9"):
        train_test_split(X, y[:9])
    for bad in (0, 1, 0.0, 1.0, -0.1, 1.5, float("nan"), "0.2", True):
        with pytest.raises(ValueError, match="strictly between 0 and 1"):
            train_test_split(X, y, test_size=bad)
    with pytest.raises(ValueError, match="1-D"):
        train_test_split(X, np.zeros((10, 2)))
    with pytest.raises(ValueError, match="seed"):
        train_test_split(X, y, seed=-1)
    with pytest.raises(ValueError, match="empty"):
        train_test_split(np.zeros((2, 1)), np.array([0, 1]), test_size=0.1)
