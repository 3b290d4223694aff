"""data.DataLoader: batches, epochs, shuffling, seeds, dtypes and bad input."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu.data import DataLoader


def _data(n: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """X row i is [i, i] (float32) and y[i] = i (int64), so a batch shows which rows it holds."""
    X = np.repeat(np.arange(n, dtype=np.float32)[:, None], 2, axis=1)
    y = np.arange(n, dtype=np.int64)
    return X, y


def _epoch(loader: DataLoader) -> list[int]:
    """The sample ids of one epoch, in order."""
    return [int(i) for _, yb in loader for i in yb.numpy()]


def test_batches_are_tensors_with_the_right_shapes_and_dtypes():
    X, y = _data(10)
    batches = list(DataLoader(X, y, batch_size=4, shuffle=False))
    assert [xb.shape for xb, _ in batches] == [(4, 2), (4, 2), (2, 2)]
    assert [yb.shape for _, yb in batches] == [(4,), (4,), (2,)]
    for xb, yb in batches:
        assert isinstance(xb, tg.Tensor) and isinstance(yb, tg.Tensor)
        assert xb.dtype == np.float32 and yb.dtype == np.int64
        np.testing.assert_array_equal(xb.numpy()[:, 0], yb.numpy())  # rows stay paired


def test_other_dtypes_are_kept():
    X = np.arange(12, dtype=np.float64).reshape(6, 2)
    y = np.arange(6, dtype=np.int32)
    xb, yb = next(iter(DataLoader(X, y, batch_size=3)))
    assert xb.dtype == np.float64 and yb.dtype == np.int32


def test_len_with_and_without_drop_last():
    X, y = _data(10)
    assert len(DataLoader(X, y, batch_size=4)) == 3
    assert len(DataLoader(X, y, batch_size=4, drop_last=True)) == 2
    assert len(DataLoader(X, y, batch_size=5)) == 2
    assert len(DataLoader(X, y, batch_size=5, drop_last=True)) == 2
    assert len(DataLoader(X, y, batch_size=32)) == 1
    assert len(DataLoader(X, y, batch_size=32, drop_last=True)) == 0
    assert list(DataLoader(X, y, batch_size=32, drop_last=True)) == []


def test_drop_last_drops_the_short_batch():
    X, y = _data(10)
    batches = list(DataLoader(X, y, batch_size=4, shuffle=False, drop_last=True))
    assert [len(yb) for _, yb in batches] == [4, 4]
    assert _epoch(DataLoader(X, y, batch_size=4, shuffle=False, drop_last=True)) == list(range(8))


@given(
    n=st.integers(0, 60),
    batch_size=st.integers(1, 70),
    shuffle=st.booleans(),
    drop_last=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_every_sample_once_per_epoch(n, batch_size, shuffle, drop_last, seed):
    X, y = _data(n)
    loader = DataLoader(X, y, batch_size, shuffle=shuffle, seed=seed, drop_last=drop_last)
    expected_len = n // batch_size if drop_last else -(-n // batch_size)
    assert len(loader) == expected_len
    for _ in range(2):
        ids = _epoch(loader)
        assert len(ids) == len(set(ids))
        assert len(list(loader)) == expected_len
        if drop_last:
            assert len(ids) == expected_len * batch_size
        else:
            assert sorted(ids) == list(range(n))


def test_shuffle_false_keeps_order_every_epoch():
    X, y = _data(10)
    loader = DataLoader(X, y, batch_size=3, shuffle=False)
    assert _epoch(loader) == list(range(10))
    assert _epoch(loader) == list(range(10))


def test_same_seed_same_batches():
    X, y = _data(50)
    a = DataLoader(X, y, batch_size=8, seed=123)
    b = DataLoader(X, y, batch_size=8, seed=123)
    for _ in range(3):
        assert _epoch(a) == _epoch(b)


def test_each_epoch_is_shuffled_differently():
    X, y = _data(50)
    loader = DataLoader(X, y, batch_size=8, seed=0)
    first, second = _epoch(loader), _epoch(loader)
    assert first != list(range(50))
    assert first != second
    assert sorted(first) == sorted(second) == list(range(50))


def test_different_seeds_differ():
    X, y = _data(50)
    assert _epoch(DataLoader(X, y, seed=1)) != _epoch(DataLoader(X, y, seed=2))


def test_seed_none_follows_manual_seed():
    X, y = _data(50)
    tg.manual_seed(42)
    a = [_epoch(DataLoader(X, y, batch_size=8)) for _ in range(2)]
    tg.manual_seed(42)
    b = [_epoch(DataLoader(X, y, batch_size=8)) for _ in range(2)]
    assert a == b
    assert a[0] != a[1]


def test_order_is_drawn_when_the_epoch_starts():
    X, y = _data(30)
    a, b = DataLoader(X, y, batch_size=4, seed=5), DataLoader(X, y, batch_size=4, seed=5)
    it1, it2 = iter(a), iter(a)  # two epochs begun in this order, consumed in the other
    second, first = _ids(it2), _ids(it1)
    assert first == _epoch(b) and second == _epoch(b)


def _ids(batches) -> list[int]:
    return [int(i) for _, yb in batches for i in yb.numpy()]


def test_tensor_inputs_and_no_aliasing():
    X, y = _data(6)
    loader = DataLoader(tg.Tensor(X), tg.Tensor(y), batch_size=3, shuffle=False)
    xb, yb = next(iter(loader))
    np.testing.assert_array_equal(xb.numpy(), X[:3])
    xb.numpy()[:] = -1.0  # changing a batch must not change the data set
    yb.numpy()[:] = -1
    assert loader.X.min() == 0 and loader.y.min() == 0


def test_multidimensional_samples():
    X = np.zeros((7, 8, 8), dtype=np.float32)
    y = np.zeros((7, 3), dtype=np.float32)
    xb, yb = next(iter(DataLoader(X, y, batch_size=5)))
    assert xb.shape == (5, 8, 8) and yb.shape == (5, 3)


def test_repr_shows_sizes():
    X, y = _data(10)
    text = repr(DataLoader(X, y, batch_size=4))
    for words in ("DataLoader", "samples=10", "batch_size=4", "batches=3", "float32", "int64"):
        assert words in text


def test_bad_input():
    X, y = _data(10)
    with pytest.raises(ValueError, match=r"same number of samples.*X with 10.*y with 9"):
        DataLoader(X, y[:9])
    with pytest.raises(ValueError, match="batch_size should be a positive int, got 0"):
        DataLoader(X, y, batch_size=0)
    with pytest.raises(ValueError, match="positive int"):
        DataLoader(X, y, batch_size=-3)
    with pytest.raises(TypeError, match="batch_size should be a positive int"):
        DataLoader(X, y, batch_size=2.5)
    with pytest.raises(TypeError, match="batch_size"):
        DataLoader(X, y, batch_size=True)
    with pytest.raises(TypeError, match="X should be a numpy array or a Tensor, got list"):
        DataLoader(X.tolist(), y)
    with pytest.raises(TypeError, match="y should be a numpy array or a Tensor, got str"):
        DataLoader(X, "labels")
    with pytest.raises(ValueError, match="first dimension"):
        DataLoader(np.zeros(()), y)
    with pytest.raises(ValueError, match="seed"):
        DataLoader(X, y, seed=-1)
