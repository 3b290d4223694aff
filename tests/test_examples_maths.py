"""The maths examples compute what the maths says.

Each test runs an example's main() and checks its key numbers against values derived here
independently: by the hand formulas, or by the same computation written in plain numpy.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu.datasets import load_digits, train_test_split

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name: str) -> dict:
    """The example's module namespace (its constants and main)."""
    return runpy.run_path(str(EXAMPLES / name))


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def descend_log_loss(X: np.ndarray, y: np.ndarray, lr: float, steps: int) -> tuple:
    """Gradient descent with the hand-derived gradient X^T (a - y) / m, mean(a - y)."""
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(steps):
        a = sigmoid(X @ w + b)
        w, b = w - lr * X.T @ (a - y) / len(y), b - lr * np.mean(a - y)
    return w, b


def test_one_neuron_derivatives_and_cat_or_dog(tmp_path, capsys):
    module = load("one_neuron.py")
    result = module["main"](tmp_path)
    assert (tmp_path / "activations.png").stat().st_size > 10_000

    # the engine's derivatives are the textbook formulas
    z = np.linspace(-4, 4, 161)
    s = sigmoid(z)
    expected = {"ReLU": (z > 0).astype(float), "tanh": 1 - np.tanh(z) ** 2, "sigmoid": s * (1 - s)}
    np.testing.assert_array_equal(result["z_grid"], z)
    for name, slope in expected.items():
        np.testing.assert_allclose(result["derivatives"][name], slope, rtol=0, atol=1e-12)
        assert result["derivative_error"][name] < 1e-12
    assert result["derivatives"]["ReLU"][80] == 0.0  # z = 0 exactly: the slope is taken as 0

    # the same training in numpy gives the same neuron, decisions and accuracy
    animals, is_cat = module["ANIMALS"], module["IS_CAT"]
    mean, std = animals.mean(axis=0), animals.std(axis=0)
    X = (animals - mean) / std
    w, b = descend_log_loss(X, is_cat, module["LEARNING_RATE"], module["STEPS"])
    np.testing.assert_allclose(result["weights"], w, rtol=1e-9, atol=1e-12)
    assert result["bias"] == pytest.approx(b, rel=1e-9)
    assert result["first_cost"] == pytest.approx(np.log(2), rel=1e-12)  # a = 1/2 for everyone
    assert result["final_cost"] == pytest.approx(log_loss(sigmoid(X @ w + b), is_cat), rel=1e-9)
    decisions = sigmoid(X @ w + b) >= 0.5
    assert result["accuracy"] == pytest.approx(np.mean(decisions == (is_cat == 1)))
    assert result["accuracy"] == pytest.approx(11 / 12)  # the pointy-eared little dog is a "cat"
    assert decisions[-1] and not is_cat[-1]
    p_new = sigmoid(((module["NEW_ANIMALS"] - mean) / std) @ w + b)
    np.testing.assert_allclose(result["new_probabilities"], p_new, rtol=1e-9)
    assert result["new_predictions"] == ["cat", "dog"]
    assert "accuracy on the twelve animals: 92%" in capsys.readouterr().out


def test_layer_as_matrix_loops_equal_the_matrix_product():
    result = load("layer_as_matrix.py")["main"]()
    W, b, x = result["W"], result["b"], result["x"]
    N, M = W.shape
    expected = np.array([sum(x[i] * W[i, j] for i in range(N)) + b[j] for j in range(M)])
    # the first neuron by hand: 1.5 * 0.2 + (-2.0) * 0.4 + 0.7 * (-0.3) + 0.13 = -0.58
    assert expected[0] == pytest.approx(-0.58, abs=1e-12)
    for key in ("z_loops", "z_matrix", "z_linear"):
        np.testing.assert_allclose(result[key], expected, rtol=0, atol=1e-12)
    assert result["small_difference"] < 1e-12
    # the article's shapes: N-by-M, transposed M-by-N, times N-by-1, plus M-by-1
    assert result["shapes"] == {
        "W": (N, M),
        "W^T": (M, N),
        "x": (N, 1),
        "W^T x": (M, 1),
        "b": (M, 1),
        "Z": (M, 1),
    }
    assert result["linear_weight_shape"] == (M, N)  # Linear.weight is W^T
    # floating-point addition is not associative
    assert result["left_sum"] == 0.6000000000000001 and result["right_sum"] == 0.6
    # the digits layer: (8x64)(64x1) + 8x1 on the first image of the data set
    assert result["digits_shapes"] == {"w": (8, 64), "x": (64, 1), "b": (8, 1), "z": (8, 1)}
    pixels = load_digits()[0][0].astype(np.float64).reshape(64, 1) / 16
    z = result["digits_weight"] @ pixels + result["digits_bias"]
    np.testing.assert_allclose(result["digits_z"], z, rtol=0, atol=1e-12)
    assert result["digits_difference"] < 1e-12


def test_logistic_regression_matches_the_hand_gradient(tmp_path):
    module = load("logistic_regression.py")
    result = module["main"](tmp_path)
    assert (tmp_path / "logistic_weights.png").stat().st_size > 5_000
    assert result["max_gradient_difference"] < 1e-6

    X, y = load_digits()
    keep = (y == 3) | (y == 8)
    X, y = X[keep].astype(np.float64) / 16, (y[keep] == 8).astype(np.int64)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=0)
    w, b = descend_log_loss(X_train, y_train.astype(float), lr=0.5, steps=300)
    np.testing.assert_allclose(result["weights"], w, rtol=1e-9, atol=1e-12)
    assert result["first_cost"] == pytest.approx(np.log(2), rel=1e-12)
    final_cost = log_loss(sigmoid(X_train @ w + b), y_train)
    assert result["final_cost"] == pytest.approx(final_cost, rel=1e-9)
    assert final_cost < 0.1
    train_accuracy = np.mean((sigmoid(X_train @ w + b) >= 0.5) == (y_train == 1))
    test_accuracy = np.mean((sigmoid(X_test @ w + b) >= 0.5) == (y_test == 1))
    assert result["train_accuracy"] == pytest.approx(train_accuracy)
    assert result["test_accuracy"] == pytest.approx(test_accuracy)
    assert test_accuracy >= 0.95
    assert np.all(np.diff(result["costs"]) < 0)  # every step lowers the cost


def test_cost_surface_local_and_global_minima(tmp_path):
    module = load("cost_surface.py")
    result = module["main"](tmp_path)
    assert (tmp_path / "cost_surface.png").stat().st_size > 10_000
    assert (tmp_path / "tangent.png").stat().st_size > 10_000
    wells, bowl = module["WELLS"], module["BOWL"]

    def cost(x, y):
        total = bowl * (x * x + y * y)
        for u, v, d, s in wells:
            total = total - d * np.exp(-((x - u) ** 2 + (y - v) ** 2) / (2 * s * s))
        return total

    def gradient(x, y):  # d/dx of -d exp(-r^2 / 2s^2) is d exp(...) (x - u) / s^2
        gx, gy = 2 * bowl * x, 2 * bowl * y
        for u, v, d, s in wells:
            e = d * np.exp(-((x - u) ** 2 + (y - v) ** 2) / (2 * s * s))
            gx, gy = gx + e * (x - u) / s**2, gy + e * (y - v) / s**2
        return np.array([gx, gy])

    grid = np.linspace(-3.5, 3.5, 701)
    GX, GY = np.meshgrid(grid, grid)
    C = cost(GX, GY)
    lowest = C.min()
    assert result["global_min"][2] == pytest.approx(lowest, abs=1e-12)

    values = []
    for end in result["ends"]:
        x, y = end["end"]
        assert np.linalg.norm(gradient(x, y)) < 1e-6  # descent stopped where the slope is zero
        assert end["value"] == pytest.approx(cost(x, y), abs=1e-12)
        values.append(end["value"])
        assert end["global"] == (end["value"] < lowest + 1e-3)
    values = np.array(values)
    assert np.any(np.abs(values - lowest) < 1e-3)  # some starts find the deepest valley
    assert np.any(values > lowest + 0.1)  # and some end in a local minimum, well above it
    assert result["n_local"] == int(np.sum(values > lowest + 1e-3)) >= 1
    assert values.min() <= lowest + 1e-9  # the exact bottom is at or below the grid's best

    # 1-D: g'(w) = w^3 - w^2 - 2w; positive, negative and zero at the three points
    def g(w):
        return w**4 / 4 - w**3 / 3 - w**2 + 2

    points = result["tangent_points"]
    assert [p["w"] for p in points] == [-0.5, 1.0, 2.0]
    for p, expected_slope in zip(points, [0.625, -2.0, 0.0]):
        w = p["w"]
        assert w**3 - w**2 - 2 * w == pytest.approx(expected_slope, abs=1e-12)
        assert p["slope"] == pytest.approx(expected_slope, abs=1e-12)
        assert p["g"] == pytest.approx(g(w), abs=1e-12)
        assert p["g_new"] == pytest.approx(g(w - module["TANGENT_LR"] * expected_slope), abs=1e-12)
    assert points[0]["g_new"] < points[0]["g"] and points[1]["g_new"] < points[1]["g"]
    assert points[2]["g_new"] == pytest.approx(points[2]["g"], abs=1e-12)


def test_checking_gradients(tmp_path):
    result = load("checking_gradients.py")["main"](tmp_path)
    assert (tmp_path / "finite_differences.png").stat().st_size > 10_000

    # 1. f(x, y) = x^2 y + e^(xy) at (0.5, -1.5)
    x, y = 0.5, -1.5
    hand = np.array([2 * x * y + y * np.exp(x * y), x * x + x * np.exp(x * y)])
    np.testing.assert_allclose(result["engine"], hand, rtol=1e-12)
    np.testing.assert_allclose(result["numerical"], hand, rtol=1e-7)

    # 2. the wrong backward is caught; its analytic value is half the numerical one
    assert result["caught"]
    message = result["message"]
    assert message.startswith("gradcheck: gradient of input 0")
    analytic = float(message.split("analytic ")[1].split(",")[0])
    numerical = float(message.split("numerical ")[1].split(",")[0])
    assert numerical == pytest.approx(2 * analytic, rel=1e-6)
    assert result["fixed_passes"] is True

    # 3. error against step size for f = exp at 1: truncation e eps^2/6, then rounding
    eps, errors = result["eps"], result["errors"]
    assert result["engine_derivative"] == pytest.approx(np.e, rel=1e-15)
    assert eps[0] == pytest.approx(1e-1) and eps[-1] == pytest.approx(1e-13)
    first = abs((np.exp(1 + 0.1) - np.exp(1 - 0.1)) / 0.2 - np.e)
    assert errors[0] == pytest.approx(first, rel=1e-9)
    assert errors[0] == pytest.approx(np.e * 0.1**2 / 6, rel=1e-2)  # the truncation term
    assert 1e-7 <= result["best_eps"] <= 1e-3
    best = result["best_error"]
    assert best == errors.min()
    at_1e12 = errors[np.argmin(np.abs(np.log10(eps) + 12))]
    assert errors[0] > 1000 * best and at_1e12 > 1000 * best
