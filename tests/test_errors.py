"""Bad input: each mistake raises the right exception type with a message that explains it
(SPEC, "Bad input": name the op and what was given, say what was expected)."""

import re

import numpy as np
import pytest

import tinygrad_edu as tg


def message(excinfo):
    return str(excinfo.value)


# -- shape mismatches name the op and both shapes ----------------------------------------------


@pytest.mark.parametrize(
    "op, name",
    [
        (lambda a, b: a + b, "Add"),
        (lambda a, b: a - b, "Sub"),
        (lambda a, b: a * b, "Mul"),
        (lambda a, b: a / b, "Div"),
    ],
)
def test_elementwise_shape_mismatch(op, name):
    a, b = tg.zeros(2, 3), tg.zeros(4, 5)
    with pytest.raises(ValueError) as excinfo:
        op(a, b)
    msg = message(excinfo)
    assert name in msg
    assert "(2, 3)" in msg and "(4, 5)" in msg


def test_elementwise_mismatch_is_not_silently_broadcast():
    # (3,) and (4,) do not broadcast in numpy, so they must not here either
    with pytest.raises(ValueError, match="Add"):
        tg.ones(3) + tg.ones(4)
    with pytest.raises(ValueError, match="Mul"):
        tg.ones(3, requires_grad=True) * np.ones(4)


@pytest.mark.parametrize(
    "a, b",
    [((2, 3), (4, 5)), ((3,), (4,)), ((5, 2, 3), (5, 4, 2)), ((2, 3), (2,))],
)
def test_matmul_shape_mismatch(a, b):
    with pytest.raises(ValueError) as excinfo:
        tg.zeros(*a) @ tg.zeros(*b)
    msg = message(excinfo)
    assert "MatMul" in msg
    assert str(a) in msg and str(b) in msg


def test_matmul_of_a_scalar():
    with pytest.raises(ValueError, match="MatMul"):
        tg.Tensor(2.0) @ tg.zeros(2)


# -- backward ----------------------------------------------------------------------------------


def test_backward_of_non_scalar_without_gradient():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError) as excinfo:
        (x * 2.0).backward()
    msg = message(excinfo)
    assert "one-element" in msg
    assert "(2,)" in msg


def test_backward_gradient_of_wrong_shape():
    x = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(ValueError) as excinfo:
        (x * 2.0).backward(np.ones(4))
    msg = message(excinfo)
    assert "(4,)" in msg and "(3,)" in msg
    assert x.grad is None


def test_second_backward_through_a_freed_graph():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError) as excinfo:
        y.backward()
    msg = message(excinfo)
    assert "retain_graph=True" in msg
    assert "freed" in msg or "released" in msg


def test_backward_of_a_tensor_that_does_not_require_grad():
    with pytest.raises(RuntimeError, match="requires? grad"):
        (tg.Tensor([1.0, 2.0]) * 2.0).sum().backward()


def test_grad_of_an_unused_input():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    unused = tg.Tensor([3.0], requires_grad=True)
    with pytest.raises(RuntimeError) as excinfo:
        tg.grad((x * x).sum(), [x, unused])
    assert "allow_unused" in message(excinfo)


def test_grad_of_an_input_that_does_not_require_grad():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    c = tg.Tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="require"):
        tg.grad((x * c).sum(), [c])


# -- types and dtypes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: tg.Tensor([1, 2], requires_grad=True),
        lambda: tg.Tensor(3, requires_grad=True),
        lambda: tg.Tensor([True, False], requires_grad=True),
        lambda: tg.Tensor([1, 2]).requires_grad_(),
        lambda: tg.zeros(2, dtype=np.int64, requires_grad=True),
    ],
)
def test_non_float_tensor_cannot_require_grad(make):
    with pytest.raises(TypeError) as excinfo:
        make()
    assert "floating-point" in message(excinfo)


@pytest.mark.parametrize(
    "data, type_name",
    [("abc", "str"), ({"a": 1}, "dict"), (None, "NoneType"), (object(), "object")],
)
def test_tensor_of_unsupported_data(data, type_name):
    with pytest.raises(TypeError) as excinfo:
        tg.Tensor(data)
    assert type_name in message(excinfo)


def test_tensor_of_a_list_of_strings():
    with pytest.raises(TypeError):
        tg.Tensor(["a", "b"])


@pytest.mark.parametrize(
    "op",
    [
        lambda t: t + "a",
        lambda t: "a" + t,
        lambda t: t * "a",
        lambda t: t - None,
        lambda t: t / {"a": 1},
        lambda t: t @ "a",
    ],
)
def test_combining_a_tensor_with_a_non_number(op):
    with pytest.raises(TypeError) as excinfo:
        op(tg.Tensor([1.0, 2.0]))
    assert re.search(r"str|NoneType|dict", message(excinfo))


@pytest.mark.parametrize("data", [[[1.0, 2.0], [3.0]], [[1, 2, 3], [4, 5]], [1.0, [2.0, 3.0]]])
def test_ragged_nested_list(data):
    with pytest.raises(ValueError) as excinfo:
        tg.Tensor(data)
    assert "rectangular" in message(excinfo) or "inhomogeneous" in message(excinfo)


def test_set_default_dtype_rejects_non_float():
    before = tg.get_default_dtype()
    with pytest.raises(TypeError, match="floating-point"):
        tg.set_default_dtype(np.int64)
    assert tg.get_default_dtype() == before


# -- movement and reductions -------------------------------------------------------------------


def test_reshape_to_an_incompatible_shape():
    with pytest.raises(ValueError) as excinfo:
        tg.zeros(2, 3).reshape(4, 2)
    msg = message(excinfo)
    assert "Reshape" in msg
    assert "(2, 3)" in msg


@pytest.mark.parametrize("axis", [2, -3, (0, 5)])
def test_sum_over_a_bad_axis(axis):
    with pytest.raises((ValueError, IndexError)) as excinfo:
        tg.zeros(2, 3).sum(axis=axis)
    assert "axis" in message(excinfo)


def test_sum_over_a_repeated_axis():
    with pytest.raises(ValueError, match="axis"):
        tg.zeros(2, 3).sum(axis=(0, 0))


def test_squeeze_of_an_axis_that_is_not_one():
    with pytest.raises(ValueError) as excinfo:
        tg.zeros(2, 1, 3).squeeze(0)
    msg = message(excinfo)
    assert "squeeze" in msg and "(2, 1, 3)" in msg


@pytest.mark.parametrize("axes", [(0, 0), (0,), (0, 1, 2), (0, 2)])
def test_transpose_with_a_non_permutation(axes):
    with pytest.raises(ValueError) as excinfo:
        tg.zeros(2, 3).transpose(*axes)
    msg = message(excinfo)
    assert "transpose" in msg.lower() and "permutation" in msg


def test_cat_of_mismatched_shapes():
    with pytest.raises(ValueError) as excinfo:
        tg.cat([tg.zeros(2, 3), tg.zeros(2, 4)])
    msg = message(excinfo)
    assert "Cat" in msg
    assert "(2, 3)" in msg and "(2, 4)" in msg


def test_cat_of_an_empty_list():
    with pytest.raises(ValueError) as excinfo:
        tg.cat([])
    assert "empty" in message(excinfo)


def test_item_of_a_multi_element_tensor():
    with pytest.raises(ValueError) as excinfo:
        tg.zeros(2, 3).item()
    msg = message(excinfo)
    assert "(2, 3)" in msg and "one element" in msg


@pytest.mark.parametrize("index, shape", [(5, (3,)), ((0, 7), (2, 3)), (-4, (3,))])
def test_index_out_of_range(index, shape):
    # IndexError, as in numpy and PyTorch; the message names the op and the tensor's shape
    with pytest.raises(IndexError) as excinfo:
        tg.zeros(*shape)[index]
    msg = message(excinfo)
    assert "Getitem" in msg
    assert str(shape) in msg


def test_index_with_a_float():
    with pytest.raises(IndexError, match="float"):
        tg.zeros(3)[1.5]


# -- issue 22, item 10: a custom Function's wrong backward is named, not a numpy error ----------


def _custom(backward):
    from tinygrad_edu.function import Function

    class Scale(Function):
        """z = 2 x;   dz/dx = 2"""

        def forward(self, x):
            return 2 * x

    Scale.backward = lambda self, grad: backward(grad)
    return Scale


def test_custom_backward_with_a_wrong_shape_names_the_function_and_shapes():
    Scale = _custom(lambda g: g[:2])
    x = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(ValueError) as info:
        Scale.apply(x).sum().backward()
    msg = str(info.value)
    assert "Scale.backward" in msg and "input 0" in msg
    assert "(2,)" in msg and "(3,)" in msg
    assert "reshape" not in msg  # not numpy's complaint


def test_custom_backward_returning_a_non_array_is_named():
    Scale = _custom(lambda g: "oops")
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"Scale.backward returned a str for input 0"):
        Scale.apply(x).sum().backward()


def test_custom_backward_returning_too_many_gradients_is_named():
    Scale = _custom(lambda g: (g, g))
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Scale.backward returned 2 gradients for 1 input"):
        Scale.apply(x).sum().backward()


# -- issue 22, item 12: messages that say what was given and what to do ------------------------


def test_strings_are_not_tensor_data():
    with pytest.raises(TypeError) as info:
        tg.Tensor(["a", "b"])
    msg = str(info.value)
    assert "strings" in msg and "<U1" not in msg.split("(")[0]


def test_an_optimizer_given_a_model_says_to_pass_its_parameters():
    model = tg.nn.Linear(2, 3)
    with pytest.raises(TypeError, match=r"model.parameters\(\)"):
        tg.optim.SGD(model, lr=0.1)


def test_load_state_dict_given_a_path_says_to_load_it_first():
    model = tg.nn.Linear(2, 3)
    with pytest.raises(TypeError, match=r"tg.load"):
        model.load_state_dict("w.safetensors")


def test_load_state_dict_keys_must_be_strings():
    model = tg.nn.Linear(2, 3)
    with pytest.raises(TypeError, match=r"keys .*names such as 'weight'.*got 0 \(int\)"):
        model.load_state_dict({0: np.zeros((3, 2))})


def test_batched_matmul_mismatch_has_no_numpy_internals():
    with pytest.raises(ValueError) as info:
        tg.randn(2, 3, 4) @ tg.randn(5, 4, 2)
    msg = str(info.value)
    assert "(2, 3, 4)" in msg and "(5, 4, 2)" in msg
    assert "newaxis" not in msg and "remapped" not in msg


def test_load_of_a_folder_says_so(tmp_path):
    with pytest.raises(IsADirectoryError, match=r"is a folder.*safetensors file"):
        tg.load(tmp_path)
