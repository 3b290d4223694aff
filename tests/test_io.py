"""tg.save / tg.load: round trips, PyTorch interop, atomic writes, and files that must not load."""

from __future__ import annotations

import json
import math
import os
import pickle
import struct
import tempfile
from typing import Any

import numpy as np
import pytest
import safetensors.numpy
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import io as tgio


def assert_same(loaded: Any, original: Any) -> None:
    """Same structure, same types and keys; tensors with the same dtype, shape and values."""
    if isinstance(original, (tg.Tensor, np.ndarray)):
        expected = np.asarray(original.numpy() if isinstance(original, tg.Tensor) else original)
        assert isinstance(loaded, tg.Tensor)
        assert not loaded.requires_grad and loaded.grad is None
        assert loaded.dtype == expected.dtype and loaded.shape == expected.shape
        np.testing.assert_array_equal(loaded.numpy(), expected)
    elif isinstance(original, dict):
        assert isinstance(loaded, dict)
        assert [(type(k), k) for k in loaded] == [(type(k), k) for k in original]
        for k in original:
            assert_same(loaded[k], original[k])
    elif isinstance(original, (list, tuple)):
        assert type(loaded) is type(original) and len(loaded) == len(original)
        for a, b in zip(loaded, original):
            assert_same(a, b)
    elif isinstance(original, float) and math.isnan(original):
        assert isinstance(loaded, float) and math.isnan(loaded)
    else:
        assert type(loaded) is type(original) and loaded == original


def round_trip(obj: dict, path: Any) -> dict:
    tg.save(obj, path)
    return tg.load(path)


# -- round trips --------------------------------------------------------------------------------
def test_flat_dict_keeps_dtypes_shapes_and_values(tmp_path):
    rng = np.random.default_rng(0)
    obj = {
        "f32": rng.standard_normal((3, 4)).astype(np.float32),
        "f64": rng.standard_normal(5),
        "i64": np.arange(-3, 3, dtype=np.int64).reshape(2, 3),
        "bool": np.array([[True, False], [False, True]]),
        "scalar_f32": np.array(2.5, dtype=np.float32),  # 0-d arrays stay 0-d
        "scalar_i64": np.array(7, dtype=np.int64),
        "scalar_bool": np.array(True),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "f16": np.array([1.5, -2.0], dtype=np.float16),
        "u8": np.array([0, 255], dtype=np.uint8),
        "tensor": tg.Tensor([[1.0, 2.0]]),
    }
    assert_same(round_trip(obj, tmp_path / "flat.safetensors"), obj)


def test_tensors_that_require_grad_load_as_plain_leaves(tmp_path):
    w = tg.Tensor([1.0, -2.0, 3.0], requires_grad=True)
    (w * w).sum().backward()
    loaded = round_trip({"w": w, "y": w * 2}, tmp_path / "w.safetensors")
    assert not loaded["w"].requires_grad and loaded["w"].grad is None
    assert loaded["w"].is_leaf and loaded["y"].is_leaf
    np.testing.assert_array_equal(loaded["y"].numpy(), [2.0, -4.0, 6.0])
    loaded["w"].numpy()[0] = 100.0  # a copy: the saved-from tensor is untouched
    assert w.numpy()[0] == 1.0


def test_optimizer_style_state_dict_round_trips_with_int_keys(tmp_path):
    obj = {
        "state": {
            0: {"momentum_buffer": tg.Tensor([0.5, -0.5]), "step": 3},
            1: {"momentum_buffer": np.zeros((2, 2), dtype=np.float64), "step": 3},
        },
        "param_groups": [
            {
                "lr": 0.1,
                "betas": (0.9, 0.999),
                "nesterov": False,
                "weight_decay": 0,
                "name": "body",
                "foreach": None,
                "params": [0, 1],
            }
        ],
    }
    path = tmp_path / "opt.safetensors"
    loaded = round_trip(obj, path)
    assert_same(loaded, obj)
    assert list(loaded["state"]) == [0, 1] and all(type(k) is int for k in loaded["state"])
    keys = set(safetensors.numpy.load_file(str(path)))
    assert keys == {"state.0.momentum_buffer", "state.1.momentum_buffer"}


def test_nested_lists_numbers_strings_none_bools(tmp_path):
    obj = {
        "layers": [{"w": np.ones((2, 2), np.float32)}, [np.array([1, 2]), "text", None]],
        "plain": [1, -2.5, True, False, None, "ünïcode ✓", "", [], {}, ()],
        "big": 2**62,
        "small": 1e-300,
        "nan": float("nan"),
        "inf": float("-inf"),
        "numpy_scalars": [np.float32(0.5), np.int64(4), np.bool_(True)],  # become Python numbers
        0: "int key",
        "0": "str key",  # distinct from the int key 0
        "": {"": np.array([1.0])},
    }
    loaded = round_trip(obj, tmp_path / "nested.safetensors")
    obj["numpy_scalars"] = [0.5, 4, True]
    assert_same(loaded, obj)
    assert loaded[0] == "int key" and loaded["0"] == "str key"


def test_empty_dict_round_trips(tmp_path):
    assert round_trip({}, tmp_path / "empty.safetensors") == {}


def test_non_contiguous_arrays_are_saved_by_value(tmp_path):
    # safetensors writes an array's memory as it lies, so a transposed array would come back
    # scrambled if tg.save did not make it C-contiguous first.
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    obj = {"transposed": a.T, "strided": a[:, ::2], "reversed": a[::-1], "t": tg.Tensor(a).T}
    assert_same(round_trip(obj, tmp_path / "views.safetensors"), obj)


def test_path_may_be_str_or_pathlike_and_save_overwrites(tmp_path):
    tg.save({"a": np.array([1])}, str(tmp_path / "x.safetensors"))
    tg.save({"a": np.array([2])}, tmp_path / "x.safetensors")
    assert tg.load(str(tmp_path / "x.safetensors"))["a"].tolist() == [2]
    assert os.listdir(tmp_path) == ["x.safetensors"]  # no temp file left behind


keys = st.one_of(st.integers(0, 3), st.text(alphabet="abc", min_size=1, max_size=2))
arrays = st.sampled_from([np.float32, np.float64, np.int64, np.bool_]).flatmap(
    lambda dt: st.lists(st.integers(-5, 5), max_size=4).map(lambda v: np.array(v).astype(dt))
)
leaves = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**53), 2**53), st.floats(), st.text(), arrays
)
values = st.recursive(
    leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=3)),
    max_leaves=10,
)


@given(st.dictionaries(keys, values, max_size=4))
def test_property_any_nesting_round_trips(obj):
    # keys without dots, ints and letter strings: every tensor gets its own dotted key
    with tempfile.TemporaryDirectory() as d:
        assert_same(round_trip(obj, os.path.join(d, "p.safetensors")), obj)


# -- PyTorch and other safetensors writers ------------------------------------------------------
def test_model_file_loads_into_pytorch(tmp_path):
    rng = np.random.default_rng(1)
    w1 = rng.standard_normal((3, 4)).astype(np.float32).T  # (4, 3), transposed in memory
    b1 = rng.standard_normal(4).astype(np.float32)
    w2 = tg.Tensor(rng.standard_normal((2, 4)).astype(np.float32), requires_grad=True)
    b2 = rng.standard_normal(2).astype(np.float32)
    path = tmp_path / "mlp.safetensors"
    tg.save({"0.weight": w1, "0.bias": b1, "2.weight": w2, "2.bias": b2}, path)

    torch = pytest.importorskip("torch", reason="PyTorch not installed: interop check skipped")
    import safetensors.torch

    state = safetensors.torch.load_file(str(path))
    assert set(state) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    model.load_state_dict(state)  # strict: exactly these keys and shapes
    x = rng.standard_normal((5, 3)).astype(np.float32)
    with torch.no_grad():
        got = model(torch.from_numpy(x)).numpy()
    expected = np.maximum(x @ w1.T + b1, 0) @ w2.numpy().T + b2
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_plain_safetensors_file_loads_flat(tmp_path):
    path = tmp_path / "foreign.safetensors"
    arrays = {
        "encoder.layers.0.weight": np.ones((2, 3), np.float32),
        "encoder.layers.0.bias": np.zeros(2, np.float64),
        "step": np.array(10, np.int64),
        "mask": np.array([True, False]),
    }
    safetensors.numpy.save_file(arrays, str(path), metadata={"format": "np"})
    loaded = tg.load(path)
    assert set(loaded) == set(arrays)  # flat: dotted keys as they are, no nesting
    for k, a in arrays.items():
        assert_same(loaded[k], a)


def test_plain_safetensors_file_without_metadata_loads_flat(tmp_path):
    path = tmp_path / "bare.safetensors"
    safetensors.numpy.save_file({"a.b": np.arange(3)}, str(path))
    assert_same(tg.load(path), {"a.b": np.arange(3)})


# -- atomic writes ------------------------------------------------------------------------------
def _fail_fsync(fd):
    raise OSError("disk full (simulated)")


def _fail_replace(src, dst):
    raise OSError("rename failed (simulated)")


class _HalfWriter:
    """A file that writes half of what it is given, then fails: a crash in the middle."""

    def __init__(self, f):
        self.f = f

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()

    def write(self, data):
        self.f.write(data[: len(data) // 2])
        self.f.flush()
        raise OSError("crash midway (simulated)")


@pytest.mark.parametrize("failure", ["fsync", "replace", "write"])
def test_failed_save_leaves_old_file_intact_and_no_temp_file(tmp_path, monkeypatch, failure):
    path = tmp_path / "model.safetensors"
    tg.save({"w": np.array([1.0, 2.0])}, path)
    before = path.read_bytes()
    if failure == "fsync":
        monkeypatch.setattr(os, "fsync", _fail_fsync)
    elif failure == "replace":
        monkeypatch.setattr(os, "replace", _fail_replace)
    else:
        real_fdopen = os.fdopen
        monkeypatch.setattr(os, "fdopen", lambda fd, mode: _HalfWriter(real_fdopen(fd, mode)))
    with pytest.raises(OSError, match="simulated"):
        tg.save({"w": np.arange(1000.0), "other": "new"}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.safetensors"]
    assert_same(tg.load(path), {"w": np.array([1.0, 2.0])})


def test_failed_save_of_a_new_file_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "fsync", _fail_fsync)
    with pytest.raises(OSError, match="simulated"):
        tg.save({"w": np.ones(3)}, tmp_path / "new.safetensors")
    assert os.listdir(tmp_path) == []


def test_unsavable_value_never_touches_the_old_file(tmp_path):
    path = tmp_path / "model.safetensors"
    tg.save({"w": np.ones(2)}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError):
        tg.save({"w": np.ones(2), "bad": {1, 2}}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.safetensors"]


def test_save_into_missing_directory_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="no_such_dir"):
        tg.save({"w": np.ones(2)}, tmp_path / "no_such_dir" / "m.safetensors")


# -- what save refuses --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "obj, where, what",
    [
        ({"opt": {"state": {0: {"ids": {1, 2}}}}}, "opt.state.0.ids", "set"),
        ({"layers": [1, object()]}, "layers.1", "object"),
        ({"z": np.array([1 + 2j])}, "'z'", "complex128"),
        ({"o": np.array(["a", None], dtype=object)}, "'o'", "object"),
        ({"s": np.array(["text"])}, "'s'", "<U4"),
        ({"c": 1 + 2j}, "'c'", "complex"),
        ({"d": {(1, 2): 3}}, "'d'", "tuple"),
        ({"f": len}, "'f'", "builtin_function_or_method"),
    ],
)
def test_unsupported_values_raise_type_error_naming_the_key(tmp_path, obj, where, what):
    with pytest.raises(TypeError) as info:
        tg.save(obj, tmp_path / "bad.safetensors")
    assert where in str(info.value) and what in str(info.value)
    assert os.listdir(tmp_path) == []


def test_save_needs_a_dict(tmp_path):
    with pytest.raises(TypeError, match="expects a dict"):
        tg.save([np.ones(2)], tmp_path / "bad.safetensors")


@pytest.mark.parametrize(
    "obj",
    [
        {"a.b": np.ones(2), "a": {"b": np.zeros(2)}},
        {"a": {"b": np.zeros(2)}, "a.b": np.ones(2)},
        {"0": np.ones(1), 0: np.ones(1)},
        {"x": [np.ones(1)], "x.0": tg.Tensor([1.0])},
    ],
)
def test_two_tensors_on_one_dotted_key_raise(tmp_path, obj):
    with pytest.raises(ValueError, match="two tensors"):
        tg.save(obj, tmp_path / "clash.safetensors")
    assert os.listdir(tmp_path) == []


# -- files that load must refuse ----------------------------------------------------------------
class Evil:
    """Unpickling this creates a file: proof that a loader ran code from the file."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def valid_file_bytes() -> bytes:
    return safetensors.numpy.save(
        {"w": np.arange(64, dtype=np.float32)}, metadata={"tinygrad_edu": "{}"}
    )


def test_missing_file_names_the_path(tmp_path):
    path = tmp_path / "nope.safetensors"
    with pytest.raises(FileNotFoundError, match="nope.safetensors"):
        tg.load(path)


@pytest.mark.parametrize(
    "name, content",
    [
        ("empty.safetensors", b""),
        ("tiny.safetensors", b"\x01\x02\x03"),
        ("truncated.safetensors", valid_file_bytes()[: len(valid_file_bytes()) // 2]),
        ("no_data.safetensors", valid_file_bytes()[:-4]),
        ("random.bin", np.random.default_rng(0).bytes(4096)),
        ("image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)),
        ("notes.txt", b"just some text, not a tensor file\n" * 20),
        ("header.json", b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}"),
    ],
)
def test_foreign_or_broken_files_raise_value_error(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValueError, match="not a valid safetensors file") as info:
        tg.load(path)
    assert name in str(info.value)


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_pickle_is_never_unpickled(tmp_path, protocol):
    marker = tmp_path / "pwned"
    path = tmp_path / "weights.safetensors"
    path.write_bytes(pickle.dumps(Evil(str(marker)), protocol=protocol))
    with pytest.raises(ValueError, match="not a valid safetensors file") as info:
        tg.load(path)
    assert not marker.exists()
    if protocol >= 2:  # protocols 0 and 1 have no magic bytes to recognise them by
        assert "pickle files are never loaded" in str(info.value)
        assert "run arbitrary code" in str(info.value)


def test_pickle_suffix_gets_the_pickle_explanation(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(Evil(str(marker)), protocol=0))
    with pytest.raises(ValueError, match="pickle files are never loaded"):
        tg.load(path)
    assert not marker.exists()


def test_torch_save_file_is_refused(tmp_path):
    torch = pytest.importorskip("torch", reason="PyTorch not installed: torch.save file skipped")
    path = tmp_path / "model.bin"
    torch.save({"weight": torch.ones(2, 2)}, path)
    with pytest.raises(ValueError, match="not a valid safetensors file") as info:
        tg.load(path)
    assert "pickle files are never loaded" in str(info.value)


def _file_with_metadata(path, description: str, arrays=None) -> None:
    arrays = {"w": np.ones(2)} if arrays is None else arrays
    safetensors.numpy.save_file(arrays, str(path), metadata={"tinygrad_edu": description})


@pytest.mark.parametrize(
    "description, match",
    [
        ('{"format_version": 1, "structure": {"dict": [["w", {"tens', "not JSON"),
        ("[1, 2]", "corrupted"),
        ('{"format_version": 1}', "corrupted"),
        ('{"format_version": 1, "structure": {"dict": [["w", {"tensor": "v"}]]}}', "corrupted"),
        ('{"format_version": 1, "structure": {"dict": [[null, 1]]}}', "corrupted"),
        ('{"format_version": 1, "structure": {"set": [1]}}', "corrupted"),
        ('{"format_version": 1, "structure": {"list": []}}', "does not match"),
        ('{"format_version": 1, "structure": {"dict": []}}', "does not match"),
        ('{"format_version": 99, "structure": {"dict": []}}', "format version 99"),
        ("[" * 100_000, "corrupted"),
        ('{"format_version": 1, "structure": ' + '{"list": [' * 5000, "corrupted"),  # too deep
    ],
)
def test_corrupted_metadata_raises_value_error(tmp_path, description, match):
    path = tmp_path / "m.safetensors"
    _file_with_metadata(path, description)
    with pytest.raises(ValueError, match=match):
        tg.load(path)


def test_unreadable_dtype_raises_value_error(tmp_path):
    path = tmp_path / "c.safetensors"
    safetensors.numpy.save_file({"z": np.array([1 + 2j], dtype=np.complex64)}, str(path))
    with pytest.raises(ValueError, match="complex64"):
        tg.load(path)


def test_dtype_numpy_lacks_raises_value_error(tmp_path):
    # a bfloat16 tensor (as PyTorch writes them), built by hand: header length, header, bytes
    header = json.dumps({"w": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}).encode()
    header += b" " * (-len(header) % 8)
    path = tmp_path / "bf16.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + b"\x80\x3f\x00\x40")
    with pytest.raises(ValueError, match="dtype numpy cannot read"):
        tg.load(path)


def test_module_constants():
    assert tgio.FORMAT_KEY == "tinygrad_edu" and tgio.FORMAT_VERSION == 1
