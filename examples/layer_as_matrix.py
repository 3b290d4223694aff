"""A layer of neurons is one matrix product.

Each neuron j of a layer computes its own weighted sum of the same inputs x_1 .. x_N:

    z_j = x_1 W_1j + x_2 W_2j + ... + x_N W_Nj + b_j          for j = 1 .. M

Written out, that is two loops: for every neuron, multiply each input by its weight, add the
products up, add the bias. Collect the weights in an N-by-M matrix W (row i: the weights leaving
input i; column j: the weights arriving at neuron j) and the same M sums are one matrix product:

    Z = W^T x + b        (M-by-N) times (N-by-1) plus (M-by-1)  ->  (M-by-1)

tg.nn.Linear stores the matrix the other way round, as weight = W^T (M-by-N: one row per neuron,
as in PyTorch), and computes y = x weight^T + b. Same numbers, same layer.

The loop and the matrix product compute the same sums, but not always in the same order, and in
floating point the order matters: addition is rounded after every step, so it is not associative,
(0.1 + 0.2) + 0.3 is not 0.1 + (0.2 + 0.3). The two results can therefore differ in their last
bits: by a few rounding errors of about 1e-16 (relative, in float64) each, not by more.

Finally the layer from the digits network: 64 pixel inputs, 8 neurons, an 8x64 weight matrix times
a 64x1 image plus an 8x1 bias gives 8x1.

Run:  python examples/layer_as_matrix.py
"""

from __future__ import annotations

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu.datasets import load_digits

# A layer with N = 3 inputs and M = 4 neurons, the weights in the N-by-M layout:
# W[i, j] is the weight from input i to neuron j.
W = np.array(
    [
        [0.2, -0.5, 0.1, 0.7],
        [0.4, 0.3, -0.6, 0.1],
        [-0.3, 0.8, 0.5, 0.2],
    ]
)
b = np.array([0.13, 0.14, 0.15, 0.16])  # one bias per neuron
x = np.array([1.5, -2.0, 0.7])  # one value per input


def layer_by_loops(W: list, b: list, x: list) -> list[float]:
    """z_j = sum_i x_i W[i][j] + b_j, one neuron and one input at a time, in plain Python."""
    n_inputs, n_neurons = len(W), len(W[0])
    z = []
    for j in range(n_neurons):
        total = 0.0
        for i in range(n_inputs):
            total += x[i] * W[i][j]  # multiply each input by its weight and add it up
        z.append(total + b[j])  # then add the neuron's bias
    return z


def shape(t: tg.Tensor) -> str:
    return "x".join(str(n) for n in t.shape)


def main() -> dict:
    N, M = W.shape
    print(f"A layer with N = {N} inputs and M = {M} neurons")
    print(f"W (N-by-M; W[i, j] is the weight from input i to neuron j):\n{W}")
    print(f"b = {b},  x = {x}")

    # 1. neuron by neuron
    z_loops = np.array(layer_by_loops(W.tolist(), b.tolist(), x.tolist()))
    print(f"\n1. neuron by neuron (plain Python loops): z = {z_loops}")

    # 2. the same layer as one matrix product, shapes in the article's convention
    Wt = tg.Tensor(W)  # N-by-M
    xt = tg.Tensor(x.reshape(N, 1))  # a column: N-by-1
    bt = tg.Tensor(b.reshape(M, 1))  # a column: M-by-1
    WT = Wt.T  # M-by-N
    WTx = WT @ xt  # (M-by-N) @ (N-by-1) = M-by-1
    z_matrix = WTx + bt
    print("\n2. the same layer as one matrix product, Z = W^T x + b:")
    print(f"   W        {shape(Wt):>5s}   N-by-M: row i holds the weights leaving input i")
    print(f"   W^T      {shape(WT):>5s}   M-by-N: row j holds the weights arriving at neuron j")
    print(f"   x        {shape(xt):>5s}   N-by-1: the inputs as a column")
    print(f"   W^T x    {shape(WTx):>5s}   (M-by-N) times (N-by-1) gives M-by-1")
    print(f"   b        {shape(bt):>5s}   M-by-1: one bias per neuron")
    print(f"   Z        {shape(z_matrix):>5s}   M-by-1: one weighted sum per neuron")
    print(f"   Z = {z_matrix.numpy().ravel()}")
    small_difference = float(np.abs(z_matrix.numpy().ravel() - z_loops).max())
    print(f"   largest difference from the loops: {small_difference:.1e}")

    # 3. tg.nn.Linear holds W^T and computes x weight^T + b
    layer = tg.nn.Linear(N, M, dtype=np.float64)
    layer.load_state_dict({"weight": W.T, "bias": b})
    z_linear = layer(tg.Tensor(x)).numpy()
    print(
        f"\n3. tg.nn.Linear({N}, {M}): weight {shape(layer.weight)} is W^T, "
        f"bias {shape(layer.bias)}"
    )
    print(f"   layer(x) = {z_linear}")
    linear_difference = float(np.abs(z_linear - z_matrix.numpy().ravel()).max())
    assert linear_difference < 1e-12, "Linear and W^T x + b should be the same layer"
    print(f"   largest difference from W^T x + b: {linear_difference:.1e}")

    # 4. why "equal up to rounding": addition in floating point depends on the order
    left, right = (0.1 + 0.2) + 0.3, 0.1 + (0.2 + 0.3)
    print("\n4. Floating-point addition is rounded after every step, so the order counts:")
    print(f"   (0.1 + 0.2) + 0.3 = {left!r}")
    print(f"   0.1 + (0.2 + 0.3) = {right!r}")
    print(
        f"   equal? {left == right}: they differ by {abs(left - right):.1e}, one unit in the last"
    )
    print("   place of 0.6. A matrix product is free to add the products in another order than our")
    print("   loop (in blocks, several at a time), so its last bits may differ from the loop's -")
    print("   which is why Linear above, which adds the bias in its own way, is off by ~1e-16.")

    # 5. the digits layer: 8 neurons looking at an 8x8 image
    images, labels = load_digits()
    pixels = images[0].astype(np.float64) / 16  # the first digit, pixels scaled to [0, 1]
    tg.manual_seed(0)
    digits_layer = tg.nn.Linear(64, 8, dtype=np.float64)  # weight 8x64, bias 8
    W8 = digits_layer.weight.detach()  # 8-by-64: already "transposed" (M-by-N), one row a neuron
    x64 = tg.Tensor(pixels.reshape(64, 1))
    b8 = digits_layer.bias.detach().reshape(8, 1)
    z8 = W8 @ x64 + b8
    print(f"\n5. The digits layer, on the first image (a {labels[0]}):")
    print(f"   w {shape(W8)}  times  x {shape(x64)}  gives  wx {shape(W8 @ x64)};")
    print(f"   plus the biases b {shape(b8)}  gives  z {shape(z8)}: one number per neuron")
    print(f"   z = {np.round(z8.numpy().ravel(), 4)}")
    z8_loops = np.array(
        layer_by_loops(W8.numpy().T.tolist(), b8.numpy().ravel().tolist(), pixels.tolist())
    )
    digits_difference = float(np.abs(z8.numpy().ravel() - z8_loops).max())
    same_bits = int((z8.numpy().ravel() == z8_loops).sum())
    print(
        f"   the loops give the same z up to {digits_difference:.1e} "
        f"({same_bits} of 8 neurons identical to the last bit)"
    )
    z8_linear = digits_layer(tg.Tensor(pixels)).detach().numpy()
    assert np.abs(z8_linear - z8.numpy().ravel()).max() < 1e-12

    return {
        "W": W,
        "b": b,
        "x": x,
        "z_loops": z_loops,
        "z_matrix": z_matrix.numpy().ravel().copy(),
        "z_linear": z_linear.copy(),
        "linear_weight_shape": layer.weight.shape,
        "small_difference": small_difference,
        "shapes": {
            "W": Wt.shape,
            "W^T": WT.shape,
            "x": xt.shape,
            "W^T x": WTx.shape,
            "b": bt.shape,
            "Z": z_matrix.shape,
        },
        "left_sum": left,
        "right_sum": right,
        "digits_shapes": {"w": W8.shape, "x": x64.shape, "b": b8.shape, "z": z8.shape},
        "digits_weight": W8.numpy().copy(),
        "digits_bias": b8.numpy().copy(),
        "digits_z": z8.numpy().copy(),
        "digits_difference": digits_difference,
    }


if __name__ == "__main__":
    main()
