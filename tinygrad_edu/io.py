"""Saving and loading: `tg.save(obj, path)` and `tg.load(path)` with safetensors files.

A safetensors file is an 8-byte little-endian header length, a JSON header (each tensor's
dtype, shape and byte range, plus an optional `__metadata__` dict of strings), then the raw
bytes. Loading it only copies bytes into arrays, so unlike a pickle it can never run code.

How a nested dict becomes one file:
- every Tensor / numpy array is stored as a safetensors tensor under its dotted key path
  (`{"state": {0: {"momentum_buffer": m}}}` → `"state.0.momentum_buffer"`); a model's state dict
  `{"0.weight": W, ...}` keeps its keys, so PyTorch can read the file too;
- everything else (numbers, strings, bools, None, and the shape of the nesting itself) is one JSON
  string in `__metadata__["tinygrad_edu"]`, with `{"tensor": key}` where a tensor was.

>>> import tinygrad_edu as tg
>>> tg.save({"w": tg.Tensor([1.0, 2.0]), "step": 3}, "ckpt.safetensors")
>>> tg.load("ckpt.safetensors")
{'w': Tensor([1., 2.]), 'step': 3}
"""

from __future__ import annotations

import contextlib
import json
import numbers
import os
import secrets
import struct
from typing import Any

import numpy as np

from tinygrad_edu.tensor import Tensor

FORMAT_KEY = "tinygrad_edu"  # the one key of the header's __metadata__ that we use
FORMAT_VERSION = 1

_PICKLE_SUFFIXES = (".pt", ".pth", ".pkl", ".pickle", ".ckpt")


def _safetensors(who: str) -> Any:
    """The safetensors package, imported on first use (the rest of tinygrad_edu needs numpy)."""
    try:
        import safetensors.numpy
    except ImportError:
        raise ModuleNotFoundError(
            f"{who} reads and writes safetensors files with the safetensors package, which is "
            "not installed: pip install safetensors",
            name="safetensors",
        ) from None
    return safetensors


# -- save ---------------------------------------------------------------------------------------
def save(obj: dict, path: str | os.PathLike) -> None:
    """Write a (nested) dict of Tensors / numpy arrays and plain values to a safetensors file.

    obj: a dict whose values are Tensors, numpy arrays (bool, int, uint or float dtypes, any
    shape, 0-d included), numbers, strings, bools, None, or dicts / lists / tuples of these;
    dict keys are strings or ints (ints come back as ints). Tensors are saved without their
    gradients or graph. The file is written atomically: a crash midway leaves any old file whole.

    >>> model = {"0.weight": tg.randn(4, 3), "0.bias": tg.zeros(4)}
    >>> tg.save(model, "mlp.safetensors")          # safetensors.torch.load_file reads it too
    >>> opt = {"state": {0: {"momentum_buffer": tg.zeros(4), "step": 3}},
    ...        "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1]}]}
    >>> tg.save(opt, "opt.safetensors")            # stored as "state.0.momentum_buffer" + JSON

    Raises TypeError for a value it cannot store (naming its key path), ValueError when two
    tensors flatten to the same dotted key (`{"a.b": x, "a": {"b": y}}`), and
    ModuleNotFoundError (an ImportError) saying `pip install safetensors` without that package.
    """
    if not isinstance(obj, dict):
        raise TypeError(f"tg.save expects a dict (e.g. a state dict), got {type(obj).__name__}")
    safetensors = _safetensors("tg.save")
    arrays: dict[str, np.ndarray] = {}
    structure = _encode(obj, (), arrays)
    description = json.dumps({"format_version": FORMAT_VERSION, "structure": structure})
    data = safetensors.numpy.save(arrays, metadata={FORMAT_KEY: description})
    _write_atomically(os.fspath(path), data)


def _dotted(key_path: tuple) -> str:
    return ".".join(str(k) for k in key_path)


def _where(key_path: tuple) -> str:
    return f"key {_dotted(key_path)!r}" if key_path else "the top level"


def _encode(value: Any, key_path: tuple, arrays: dict[str, np.ndarray]) -> Any:
    """The JSON description of value; its tensors are added to arrays under dotted keys."""
    if isinstance(value, Tensor):
        value = value.numpy()
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise TypeError(
                f"tg.save cannot store {_where(key_path)}: a numpy array of dtype {value.dtype}; "
                "only bool, integer and floating-point arrays can be saved"
            )
        key = _dotted(key_path)
        if key in arrays:
            raise ValueError(
                f"tg.save: two tensors would both be stored under the key {key!r} (a key with a "
                "dot in it, e.g. 'a.b', clashes with the nested {'a': {'b': ...}}); rename one"
            )
        # safetensors writes an array's memory as it lies: a transposed (Fortran-order) array
        # would come back scrambled, so make it C-contiguous first (np.asarray, not
        # np.ascontiguousarray, which turns a 0-d array into shape (1,)).
        arrays[key] = np.asarray(value, order="C")
        return {"tensor": key}
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        value = value.item()  # a numpy scalar becomes the Python number it holds
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            if isinstance(k, bool) or not isinstance(k, (str, int)):
                raise TypeError(
                    f"tg.save cannot store {_where(key_path)}: it has a dict key {k!r} of type "
                    f"{type(k).__name__}; keys must be strings or ints"
                )
            items.append([k, _encode(v, (*key_path, k), arrays)])
        return {"dict": items}
    if isinstance(value, (list, tuple)):
        kind = "list" if isinstance(value, list) else "tuple"
        return {kind: [_encode(v, (*key_path, i), arrays) for i, v in enumerate(value)]}
    raise TypeError(
        f"tg.save cannot store {_where(key_path)}: a {type(value).__name__}; expected a Tensor, "
        "a numpy array, a number, a string, a bool, None, or a dict / list / tuple of these"
    )


def _write_atomically(path: str, data: bytes) -> None:
    """Write data to path so that a reader sees the old file or the new one, never half of one.

    Write a temp file beside the target, flush it to disk (fsync), then rename it over the target
    (os.replace is atomic), and fsync the directory so that the rename itself is durable.
    """
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"tg.save: cannot write {path!r}: no directory {directory!r}")
    temp = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(8)}.tmp")
    # mode 0o666 with the umask applied, like open(path, "wb"); O_EXCL: never reuse a file
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(temp, flags, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temp)
        raise
    with contextlib.suppress(OSError, AttributeError):  # not possible on Windows: skip there
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


# -- load ---------------------------------------------------------------------------------------
def load(path: str | os.PathLike) -> dict:
    """Read a file written by `tg.save` (or any safetensors file) back as a dict of Tensors.

    A file from `tg.save` comes back with its original nesting, dict keys (ints stay ints),
    lists, tuples and plain values; each tensor becomes a `Tensor` with its dtype and shape and
    requires_grad=False. A safetensors file written elsewhere (e.g. `safetensors.torch.save_file`)
    comes back flat: {dotted key: Tensor}.

    >>> state = tg.load("mlp.safetensors")
    >>> state["0.weight"].shape
    (4, 3)

    Raises FileNotFoundError for a missing file, and ValueError for anything that is not a valid
    safetensors file (empty, truncated, foreign, or a pickle such as `torch.save` output: pickles
    are never loaded, because unpickling can run arbitrary code); ModuleNotFoundError saying
    `pip install safetensors` without that package.
    """
    safetensors = _safetensors("tg.load")
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"tg.load: no such file: {path!r}") from None
    except IsADirectoryError:
        raise IsADirectoryError(
            f"tg.load: {path!r} is a folder; give the path of a .safetensors file inside it "
            "(e.g. runs/digits/weights.safetensors)"
        ) from None
    try:
        arrays = safetensors.numpy.load(data)
    except safetensors.SafetensorError as err:
        raise ValueError(_not_safetensors_message(path, data, err)) from None
    except (KeyError, TypeError, ValueError) as err:  # a dtype numpy lacks: bfloat16, float8
        raise ValueError(
            f"tg.load: {path!r} is a safetensors file, but holds a dtype numpy cannot read "
            f"({type(err).__name__}: {err}); tinygrad_edu reads bool, integer and "
            "floating-point tensors"
        ) from None
    tensors = {key: _to_tensor(path, key, arr) for key, arr in arrays.items()}

    metadata = _read_metadata(data)
    if FORMAT_KEY not in metadata:
        return tensors  # a plain safetensors file: flat {dotted key: Tensor}
    try:
        description = json.loads(metadata[FORMAT_KEY])
    except (json.JSONDecodeError, RecursionError) as err:
        raise ValueError(
            f"tg.load: the {FORMAT_KEY!r} metadata in {path!r} is corrupted (not JSON: {err})"
        ) from None
    if not isinstance(description, dict) or "structure" not in description:
        raise ValueError(f"tg.load: the {FORMAT_KEY!r} metadata in {path!r} is corrupted")
    version = description.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"tg.load: {path!r} has format version {version!r}; this tinygrad_edu reads version "
            f"{FORMAT_VERSION} (was it written by a newer tinygrad_edu?)"
        )
    used: set[str] = set()
    try:
        obj = _decode(description["structure"], tensors, used, path)
    except RecursionError:
        raise ValueError(f"tg.load: the metadata in {path!r} is corrupted (too deep)") from None
    if not isinstance(obj, dict) or used != set(tensors):
        odd = sorted(used ^ set(tensors))[:5]
        raise ValueError(
            f"tg.load: the {FORMAT_KEY!r} metadata in {path!r} does not match its tensors "
            f"(e.g. {odd} is described but not stored, or stored but not described); "
            "the file is corrupted"
        )
    return obj


def _not_safetensors_message(path: str, data: bytes, err: Exception) -> str:
    message = f"tg.load: {path!r} is not a valid safetensors file"
    message += " (the file is empty)" if not data else f" (safetensors says: {err})"
    # pickle protocol 2+ starts with 0x80; torch.save writes a zip archive ("PK\x03\x04")
    if data[:1] == b"\x80" or data[:4] == b"PK\x03\x04" or path.endswith(_PICKLE_SUFFIXES):
        message += (
            ". It looks like a pickle file (pickle.dump / torch.save): pickle files are never "
            "loaded, because unpickling can run arbitrary code. If you trust it, convert it in "
            "PyTorch with safetensors.torch.save_file(torch.load(f, weights_only=True), out)"
        )
    return message


def _read_metadata(data: bytes) -> dict[str, str]:
    """The header's __metadata__ ({} if none); safetensors has already checked the header."""
    (header_size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_size])
    return header.get("__metadata__") or {}


def _to_tensor(path: str, key: str, arr: np.ndarray) -> Tensor:
    if arr.dtype.kind not in "biuf":
        raise ValueError(
            f"tg.load: tensor {key!r} in {path!r} has dtype {arr.dtype}; tinygrad_edu reads "
            "bool, integer and floating-point tensors"
        )
    return Tensor(arr)  # a fresh copy, requires_grad=False


def _decode(node: Any, tensors: dict[str, Tensor], used: set[str], path: str) -> Any:
    """Rebuild a value from its JSON description (the inverse of _encode)."""
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, dict) and len(node) == 1:
        ((kind, body),) = node.items()
        if kind == "tensor" and isinstance(body, str) and body in tensors:
            used.add(body)
            return tensors[body]
        if kind in ("list", "tuple") and isinstance(body, list):
            items = [_decode(v, tensors, used, path) for v in body]
            return items if kind == "list" else tuple(items)
        if kind == "dict" and isinstance(body, list) and all(_is_item(p) for p in body):
            return {k: _decode(v, tensors, used, path) for k, v in body}
    raise ValueError(
        f"tg.load: the {FORMAT_KEY!r} metadata in {path!r} is corrupted "
        f"(cannot read {json.dumps(node)[:80]})"
    )


def _is_item(pair: Any) -> bool:
    """A dict item as _encode writes it: [key, value] with a string or int key."""
    if not (isinstance(pair, list) and len(pair) == 2):
        return False
    key = pair[0]
    return isinstance(key, str) or (isinstance(key, int) and not isinstance(key, bool))
