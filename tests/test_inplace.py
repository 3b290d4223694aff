"""In-place changes: they really change the data, bump a version, and never corrupt a gradient."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg


def test_inplace_methods_change_data_and_bump_the_version():
    t = tg.Tensor([1.0, 2.0, 3.0])
    data = t.data
    t.add_(1).mul_(2).sub_(tg.Tensor([1.0, 1.0, 1.0])).div_(2)
    # ((x + 1) * 2 - 1) / 2, by hand: [1.5, 2.5, 3.5]
    np.testing.assert_array_equal(t.numpy(), [1.5, 2.5, 3.5])
    assert t.data is data  # the same memory, changed in place
    assert t._version == 4
    t.zero_()
    np.testing.assert_array_equal(t.numpy(), [0, 0, 0])
    t.fill_(7)
    np.testing.assert_array_equal(t.numpy(), [7, 7, 7])
    t.copy_([1, 2, 3])
    np.testing.assert_array_equal(t.numpy(), [1, 2, 3])
    t[0] = 9
    np.testing.assert_array_equal(t.numpy(), [9, 2, 3])
    assert t._version == 8


def test_augmented_assignment_is_in_place_and_keeps_float32():
    t = tg.ones(3)
    same = t
    t += 0.5
    t *= np.float64(2.0)  # a numpy float64 scalar must not promote a float32 tensor
    assert t is same
    assert t.dtype == np.float32
    np.testing.assert_array_equal(t.numpy(), [3.0, 3.0, 3.0])


def test_setitem_with_repeated_and_masked_indices():
    t = tg.zeros(4)
    t[[0, 2]] = tg.Tensor([5.0, 6.0])
    t[t.data > 5.5] = -1.0
    np.testing.assert_array_equal(t.numpy(), [5.0, 0.0, -1.0, 0.0])


def test_leaf_requiring_grad_changes_only_under_no_grad():
    w = tg.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"leaf tensor .* requires grad.*no_grad"):
        w.add_(1)
    with pytest.raises(RuntimeError, match="no_grad"):
        w -= 0.1
    with tg.no_grad():
        w -= 0.5
    np.testing.assert_allclose(w.numpy(), [0.5, 1.5])
    assert w.requires_grad and w.is_leaf  # still the same parameter


def test_nonleaf_in_graph_cannot_change_in_place():
    h = tg.Tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"made by Mul.*out of place"):
        h += 1
    with pytest.raises(RuntimeError, match="Mul"):
        h[0] = 3.0


def test_saved_input_changed_in_place_makes_backward_raise():
    # the case that would silently give a wrong gradient: dL/dw = x, but x changed after forward
    x = tg.Tensor([1.0, 2.0])
    w = tg.Tensor([3.0, 4.0], requires_grad=True)
    loss = (w * x).sum()
    x.mul_(10)
    with pytest.raises(RuntimeError) as info:
        loss.backward()
    message = str(info.value)
    # both versions, as SPEC asks: the one saved and the current one
    assert "Mul saved input 1 (shape (2,)) at version 0" in message
    assert "it is now at version 1" in message
    assert w.grad is None  # nothing wrong was accumulated


def test_the_saved_version_is_the_one_at_forward_not_zero():
    x = tg.Tensor([1.0, 2.0])
    w = tg.Tensor([3.0, 4.0], requires_grad=True)
    x.add_(1)
    x.add_(1)  # version 2 when Mul saves it
    loss = (w * x).sum()
    x.mul_(3)
    x.mul_(3)
    x.mul_(3)  # version 5 at backward
    with pytest.raises(
        RuntimeError,
        match=r"Mul saved input 1 \(shape \(2,\)\) at version 2;.*"
        r"it is now at version 5",
    ):
        loss.backward()


def test_a_version_saved_long_ago_is_bounded_not_invented():
    # the counter keeps the clock of a tensor's last 32 changes (memory stays flat in training);
    # older than that, the message says "or earlier" instead of inventing a number
    x = tg.Tensor([1.0, 2.0])
    w = tg.Tensor([3.0, 4.0], requires_grad=True)
    x.add_(1)
    loss = (w * x).sum()  # x at version 1
    for _ in range(40):
        x.add_(0)
    with pytest.raises(RuntimeError, match=r"at version 9 or earlier;.*now at version 41"):
        loss.backward()
    assert len(x._vbox[2]) == 32  # bounded


def test_parameter_updated_before_backward_raises():
    w = tg.Tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    with tg.no_grad():
        w.sub_(0.1)
    with pytest.raises(RuntimeError, match=r"input 0 .*at version 0; it is now at version 1"):
        loss.backward()


def test_saved_output_changed_through_a_view_raises():
    # exp saves its output; a view of that output, changed under no_grad, changes it too
    x = tg.Tensor([0.0, 1.0], requires_grad=True)
    y = x.exp()
    loss = y.sum()  # Sum saves nothing, so only Exp's saved output is at stake
    with tg.no_grad():
        y_view = y.reshape(2, 1)
        y_view[0, 0] = 5.0
    assert y.data[0] == 5.0  # shared memory
    with pytest.raises(RuntimeError, match=r"Exp saved its output .* at version 0;.* version 1"):
        loss.backward()


def test_view_and_base_share_one_version_counter():
    a = tg.Tensor([[1.0, 2.0], [3.0, 4.0]])
    p = tg.Tensor(np.ones((2, 2)), requires_grad=True)
    loss = (p @ a).sum()
    a.T[0, 1] = 10.0  # a view of a, changed in place
    with pytest.raises(RuntimeError, match="MatMul saved input 1"):
        loss.backward()


def test_only_changes_made_after_a_node_was_made_count():
    # the check compares each tensor's last change with when the node was made (the process's
    # in-place clock): changes before the node, or to other tensors, must not raise
    x = tg.Tensor([1.0, 2.0])
    other = tg.Tensor([0.0])
    w = tg.Tensor([3.0, 4.0], requires_grad=True)
    x.mul_(2)  # before the node: its saved x is the changed one, so this is fine
    first = (w * x).sum()
    other.add_(1)  # moves the clock, but touches nothing saved
    first.backward(retain_graph=True)
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 4.0])
    x.add_(1)  # after `first` was made: its backward must now refuse
    second = (w * x).sum()  # made after the change: its own backward is fine
    w.grad = None
    second.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 5.0])
    with pytest.raises(RuntimeError, match=r"Mul saved input 1 .*at version 1;.*now at version 2"):
        first.backward()


def test_a_saved_tensor_changed_twice_still_raises():
    w = tg.Tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    with tg.no_grad():
        w.sub_(0.1)
        w.add_(0.1)  # back to the old values, but backward cannot know that
    with pytest.raises(RuntimeError, match="now at version 2"):
        loss.backward()


def test_optimizer_step_counts_as_an_in_place_change():
    # a graph kept across an update would use the new weights with the old activations
    model = tg.nn.Linear(2, 1)
    opt = tg.optim.SGD(model.parameters(), lr=0.1)
    loss = (model(tg.ones(3, 2)) ** 2).sum()
    loss.backward(retain_graph=True)
    opt.step()
    with pytest.raises(RuntimeError, match="Linear saved input 1"):
        loss.backward()


def test_change_after_backward_is_fine_and_unsaved_inputs_are_not_checked():
    x = tg.Tensor([1.0, 2.0])
    w = tg.Tensor([3.0, 4.0], requires_grad=True)
    loss = (w + x).sum()  # Add saves nothing: changing x cannot corrupt its gradient
    x.add_(1)
    loss.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 1.0])
    x.add_(1)  # after backward: allowed


def test_inplace_errors_say_what_was_given():
    t = tg.zeros(2, 3)
    with pytest.raises(ValueError, match=r"add_.*shape \(2, 3\).*shape \(4,\)"):
        t.add_(tg.zeros(4))
    i = tg.Tensor([1, 2])
    with pytest.raises(TypeError, match=r"float64 values into a int64"):
        i.add_(np.array([0.5, 0.5]))
    b = tg.zeros(3).broadcast_to((2, 3))
    with pytest.raises(ValueError, match="read-only"):
        b.fill_(1.0)


def test_grad_can_be_zeroed_in_place():
    w = tg.Tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    w.grad.zero_()
    (w * 3).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 3.0])


def test_an_optimiser_step_that_fails_half_way_still_counts_its_changes():
    class FailsOnSecond(tg.optim.SGD):
        def update(self, p, g, state, group):
            if state.setdefault("seen", 0) == 0 and len(self.state) > 1:
                raise RuntimeError("update failed")
            state["seen"] = 1
            return super().update(p, g, state, group)

    w = tg.Tensor([1.0, 2.0], requires_grad=True)
    b = tg.Tensor([0.5], requires_grad=True)
    loss = (w * w).sum() + (b * b).sum()
    loss.backward(retain_graph=True)
    opt = FailsOnSecond([w, b], lr=0.1)
    with pytest.raises(RuntimeError, match="update failed"):
        opt.step()
    assert w._version == 1 and b._version == 0  # w was changed, b was not
    with pytest.raises(RuntimeError, match="Mul saved input 0"):
        loss.backward()
