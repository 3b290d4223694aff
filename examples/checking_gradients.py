"""Checking gradients: how we know back-propagation gives the right numbers.

A derivative is the limit of a difference quotient. Without taking the limit, the central
difference

    f'(x)  ~  (f(x + eps) - f(x - eps)) / (2 eps)

needs nothing but two evaluations of f, and by Taylor's theorem it is off by only
f'''(x) eps^2 / 6 + ... (the even terms cancel). So any hand-derived or engine-computed gradient
can be checked against it, one input at a time.

1. A function with a gradient derived by hand, f(x, y) = x^2 y + e^(x y):
       df/dx = 2 x y + y e^(x y),      df/dy = x^2 + x e^(x y)
   compared with the engine and with finite differences.
2. A deliberately wrong backward: a custom Square op (z = x^2) whose backward forgets the 2 and
   returns x instead of 2x. tg.gradcheck compares it with finite differences and raises.
3. How small should eps be? In exact arithmetic, the smaller the better: the truncation error
   falls like eps^2. But the computer rounds f(x +- eps) to about 16 significant digits (relative
   error u = 2^-53 ~ 1.1e-16 each), and dividing their difference by 2 eps magnifies that rounding
   into an error of about u |f| / eps, which grows as eps shrinks. The total error
   ~ |f'''| eps^2 / 6 + u |f| / eps is smallest near eps = (3 u |f| / |f'''|)^(1/3), about 1e-5
   in float64. For f = exp at x = 1 the script measures the error for eps from 1e-1 to 1e-13.

Run:  python examples/checking_gradients.py [out_dir]   (writes finite_differences.png into out_dir)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu.function import Function

X0, Y0 = 0.5, -1.5  # the point where part 1 checks the gradient
EPS_GRID = np.logspace(-1, -13, 61)  # 5 step sizes per decade
FD_POINT = 1.0  # part 3 differentiates exp at x = 1, where every derivative equals e
UNIT_ROUNDOFF = 2.0**-53  # the largest relative rounding error of one float64 operation


def f(x: tg.Tensor, y: tg.Tensor) -> tg.Tensor:
    """f(x, y) = x^2 y + e^(x y)"""
    return x * x * y + (x * y).exp()


def central_difference(fn, x: float, eps: float) -> float:
    """(fn(x + eps) - fn(x - eps)) / (2 eps), evaluated in float64."""
    return (fn(x + eps) - fn(x - eps)) / (2 * eps)


class SquareForgetsTheTwo(Function):
    """z = x**2;   dz/dx = x   (WRONG on purpose: the derivative of x**2 is 2x)"""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save_for_backward(x)  # backward will need x
        return x * x

    def backward(self, grad):
        (x,) = self.saved_tensors
        return grad * x  # the bug: should be grad * 2 * x


class Square(Function):
    """z = x**2;   dz/dx = 2x"""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save_for_backward(x)
        return x * x

    def backward(self, grad):
        (x,) = self.saved_tensors
        return grad * 2 * x


def part1_hand_gradient() -> dict:
    print("1. f(x, y) = x^2 y + e^(x y) at (x, y) = (0.5, -1.5)")
    x = tg.Tensor(np.float64(X0), requires_grad=True)
    y = tg.Tensor(np.float64(Y0), requires_grad=True)
    engine = np.array([g.item() for g in tg.grad(f(x, y), [x, y])])
    e = np.exp(X0 * Y0)
    hand = np.array([2 * X0 * Y0 + Y0 * e, X0**2 + X0 * e])
    with tg.no_grad():
        fx = lambda t: f(tg.Tensor(np.float64(t)), tg.Tensor(np.float64(Y0))).item()  # noqa: E731
        fy = lambda t: f(tg.Tensor(np.float64(X0)), tg.Tensor(np.float64(t))).item()  # noqa: E731
        numerical = np.array([central_difference(fx, X0, 1e-6), central_difference(fy, Y0, 1e-6)])
    print("                 df/dx            df/dy")
    print(f"   by hand      {hand[0]:+.12f}  {hand[1]:+.12f}   (2xy + y e^(xy),  x^2 + x e^(xy))")
    print(f"   engine       {engine[0]:+.12f}  {engine[1]:+.12f}   (backward)")
    print(f"   finite diff. {numerical[0]:+.12f}  {numerical[1]:+.12f}   (eps = 1e-6)")
    engine_error = float(np.abs(engine - hand).max())
    fd_error = float(np.abs(numerical - hand).max())
    print(f"   engine vs hand: {engine_error:.1e};  finite differences vs hand: {fd_error:.1e}")
    print("   (finite differences are only approximately right - part 3 shows how approximately)")
    return {"hand": hand, "engine": engine, "numerical": numerical, "fd_error": fd_error}


def part2_wrong_backward() -> dict:
    print("\n2. A custom op whose backward forgets the factor 2 of d(x^2)/dx = 2x:")
    x = tg.Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    message = ""
    try:
        tg.gradcheck(lambda t: SquareForgetsTheTwo.apply(t), [x])
    except tg.GradcheckError as err:
        message = str(err)
        print(f"   tg.gradcheck raised GradcheckError:\n   {message}")
    print("   The numerical value is twice the analytic one: exactly the missing 2.")
    fixed = tg.gradcheck(lambda t: Square.apply(t), [x])
    print(f"   With backward returning grad * 2 * x, tg.gradcheck returns {fixed}.")
    return {"caught": bool(message), "message": message, "fixed_passes": fixed}


def part3_step_size(out_dir: Path) -> dict:
    print("\n3. Error of the central difference of exp at x = 1 (exact derivative e) against eps:")
    x = tg.Tensor(np.float64(FD_POINT), requires_grad=True)
    (exact,) = tg.grad(x.exp(), x)  # the engine: d/dx e^x = e^x
    with tg.no_grad():
        fn = lambda t: tg.Tensor(np.float64(t)).exp().item()  # noqa: E731
        errors = np.array(
            [abs(central_difference(fn, FD_POINT, h) - exact.item()) for h in EPS_GRID]
        )
    best = int(np.argmin(errors))
    best_eps = float(EPS_GRID[best])
    for h, err in zip(EPS_GRID, errors):
        if np.isclose(np.log10(h), np.round(np.log10(h))):  # print one line per decade
            print(f"   eps = {h:.0e}: error {err:.2e}")
    e = np.e
    theory_best = (3 * UNIT_ROUNDOFF) ** (1 / 3)  # minimises e eps^2/6 + u e / eps
    print(f"   smallest error {errors[best]:.2e} at eps = {best_eps:.1e}")
    print(
        f"   (theory: the truncation e eps^2/6 and the rounding ~ u e/eps balance at "
        f"eps = {theory_best:.1e})"
    )
    print(
        "   Large eps: the cubic term of f's Taylor series is not negligible (error ~ eps^2).\n"
        "   Tiny eps: f(x+eps) and f(x-eps) agree in almost all their digits, and subtracting\n"
        "   them leaves mostly rounding noise (error ~ 1e-16/eps).\n"
        "   tg.gradcheck uses eps = 1e-6, a little below the sweet spot: there the error is\n"
        "   ~1e-10, far under its tolerance (atol 1e-5), and it stays small even for functions\n"
        "   whose third derivative is much larger than e, which push the truncation error up;\n"
        "   it is also PyTorch's default."
    )
    path = out_dir / "finite_differences.png"
    plot_errors(errors, best_eps, path, e)
    print(f"   wrote {path}")
    return {
        "eps": EPS_GRID.copy(),
        "errors": errors,
        "best_eps": best_eps,
        "best_error": float(errors[best]),
        "engine_derivative": exact.item(),
        "png": path,
    }


def plot_errors(errors: np.ndarray, best_eps: float, path: Path, e: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.5, 5.6))
    ax.loglog(EPS_GRID, errors, "o-", ms=4, color="black", label="measured error |FD - e|")
    ax.loglog(EPS_GRID, e * EPS_GRID**2 / 6, "--", color="C0", label="truncation  e·eps²/6")
    ax.loglog(EPS_GRID, UNIT_ROUNDOFF * e / EPS_GRID, "--", color="C3", label="rounding  ≈ u·e/eps")
    ax.axvline(best_eps, color="C2", lw=2, label=f"smallest measured error: eps = {best_eps:.0e}")
    ax.axvline(1e-6, color="C1", lw=2, ls=":", label="tg.gradcheck's eps = 1e-6")
    ax.invert_xaxis()  # read left to right as eps shrinks
    ax.set_xlabel("step size eps  (shrinking to the right)")
    ax.set_ylabel("error of (f(x+eps) - f(x-eps)) / (2 eps)")
    ax.set_title(
        "Central differences of f = exp at x = 1 (float64):\n"
        "error falls like eps², then rises like 1e-16/eps"
    )
    ax.set_ylim(1e-14, 1e-1)
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="lower left", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(out_dir: str | Path = ".") -> dict:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return {**part1_hand_gradient(), **part2_wrong_backward(), **part3_step_size(out_dir)}


if __name__ == "__main__":
    main(*sys.argv[1:2])
