"""Gradient descent on a cost surface with several valleys: where you start decides where you end.

Training a network means walking downhill on its cost C(w), a function of every weight and bias.
There are far too many of them to draw, so here the "weights" are just two numbers (x, y) and the
cost is a landscape with four valleys of different depths (Gaussian wells on a gentle bowl):

    C(x, y) = 0.05 (x^2 + y^2) - sum_k d_k exp(-((x - u_k)^2 + (y - v_k)^2) / (2 s_k^2))

(well k: centre (u_k, v_k), depth d_k, width s_k). Gradient descent repeats

    (x, y)  <-  (x, y) - lr * grad C(x, y),        grad C = (dC/dx, dC/dy) from backward()

and stops where the slope is zero: at the bottom of whichever valley it started above. Only one of
them is the deepest (the global minimum, found here by evaluating C on a fine grid); the others
are local minima, and descent that starts above one of them stays there.

The 1-D picture shows what the gradient means. For g(w) = w^4/4 - w^3/3 - w^2 + 2, whose slope is
g'(w) = w^3 - w^2 - 2w = w (w - 2)(w + 1), the tangent at a point rises where g' > 0, falls where
g' < 0 and is flat where g' = 0. A small step against the slope, w - lr g'(w), always goes
downhill: when g' > 0 it moves left, when g' < 0 it moves right, and where g' = 0 it stays put.

Run:  python examples/cost_surface.py [out_dir]   (writes cost_surface.png and tangent.png)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import tinygrad_edu as tg

# (u, v, depth, width) of each well; the first is the deepest
WELLS = [
    (-1.5, -1.0, 2.0, 0.9),
    (1.6, 1.2, 1.3, 0.7),
    (1.4, -1.6, 0.9, 0.6),
    (-1.3, 1.8, 0.7, 0.6),
]
BOWL = 0.05
STARTS = [(-3.0, -3.0), (3.0, 3.0), (2.8, -2.9), (-3.0, 3.0), (0.3, -2.9), (0.4, 0.3)]
LEARNING_RATE = 0.2
STEPS = 300
GRID = np.linspace(-3.5, 3.5, 701)  # spacing 0.01 for the search of the global minimum

TANGENT_POINTS = [-0.5, 1.0, 2.0]  # slopes: positive, negative, zero
TANGENT_LR = 0.3


def cost(x: tg.Tensor, y: tg.Tensor) -> tg.Tensor:
    """C(x, y), with the engine's operations: works on single points and on whole grids."""
    total = BOWL * (x * x + y * y)
    for u, v, depth, width in WELLS:
        total = total - depth * (-((x - u) ** 2 + (y - v) ** 2) / (2 * width**2)).exp()
    return total


def descend(start: tuple[float, float]) -> np.ndarray:
    """The path of gradient descent from `start`: an array of (x, y) points."""
    x = tg.Tensor(np.float64(start[0]), requires_grad=True)
    y = tg.Tensor(np.float64(start[1]), requires_grad=True)
    path = [start]
    for _ in range(STEPS):
        dx, dy = tg.grad(cost(x, y), [x, y])  # the slope in each direction
        with tg.no_grad():
            x -= LEARNING_RATE * dx
            y -= LEARNING_RATE * dy
        path.append((x.item(), y.item()))
    return np.array(path)


def g(w: tg.Tensor) -> tg.Tensor:
    """The 1-D cost g(w) = w^4/4 - w^3/3 - w^2 + 2."""
    return w**4 / 4 - w**3 / 3 - w**2 + 2


def plot_surface(paths: list, ends: list, global_min: tuple, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with tg.no_grad():
        GX, GY = np.meshgrid(GRID[::5], GRID[::5])
        C = cost(tg.Tensor(GX), tg.Tensor(GY)).numpy()
    fig, ax = plt.subplots(figsize=(8.2, 8.2), layout="constrained")
    filled = ax.contourf(GX, GY, C, levels=30, cmap="viridis")
    ax.contour(GX, GY, C, levels=30, colors="white", linewidths=0.4, alpha=0.5)
    fig.colorbar(filled, ax=ax, label="cost C(x, y)")
    for i, (p, end) in enumerate(zip(paths, ends)):
        color = f"C{i + 1}"
        kind = "global minimum" if end["global"] else "local minimum"
        ax.plot(p[:, 0], p[:, 1], "-", color=color, lw=2.2)
        ax.plot(*p[0], "o", color=color, ms=9, mec="black")
        ax.plot(
            *p[-1],
            "X",
            color=color,
            ms=11,
            mec="black",
            label=f"start ({p[0, 0]:+.1f}, {p[0, 1]:+.1f}) -> {kind}, C = {end['value']:.3f}",
        )
    ax.plot(*global_min[:2], "*", color="white", ms=20, mec="black", label="global minimum (grid)")
    ax.set_title(
        f"Gradient descent from {len(paths)} starting points (o start, X end)\n"
        "each path runs downhill into the valley below its start"
    )
    ax.set_xlabel("x  (think: one weight)")
    ax.set_ylabel("y  (think: another weight)")
    ax.set_aspect("equal")
    fig.legend(loc="outside lower center", fontsize=9, ncol=2)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_tangents(points: list, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ws = np.linspace(-1.8, 2.8, 300)
    with tg.no_grad():
        gs = g(tg.Tensor(ws)).numpy()
    fig, ax = plt.subplots(figsize=(8.5, 5.5))
    ax.plot(ws, gs, color="black", lw=2.2, label="cost g(w) = w⁴/4 - w³/3 - w² + 2")
    for point, color in zip(points, ["C0", "C3", "C2"]):
        w0, g0, slope = point["w"], point["g"], point["slope"]
        w1, g1 = point["w_new"], point["g_new"]  # after one step against the slope
        sign = "positive" if slope > 1e-12 else "negative" if slope < -1e-12 else "zero"
        span = np.linspace(w0 - 0.55, w0 + 0.55, 2)
        ax.plot(
            span,
            g0 + slope * (span - w0),
            color=color,
            lw=2,
            label=f"tangent at w = {w0:g}: slope g'(w) = {slope:+.3f} ({sign})",
        )
        ax.plot(w0, g0, "o", color=color, ms=9, mec="black")
        if abs(w1 - w0) > 1e-12:
            ax.annotate(
                "",
                xy=(w1, g1),
                xytext=(w0, g0),
                arrowprops={
                    "arrowstyle": "-|>",
                    "color": color,
                    "lw": 2.5,
                    "shrinkB": 6,
                    "connectionstyle": f"arc3,rad={0.35 if w1 > w0 else -0.6}",
                },
            )
            ax.plot(w1, g1, "o", ms=9, mfc="white", mec=color, mew=2)
    ax.annotate(
        "local minimum",
        xy=(-1, g(tg.Tensor(-1.0)).item()),
        xytext=(-1.55, 0.95),
        arrowprops={"arrowstyle": "->"},
    )
    ax.annotate(
        "global minimum",
        xy=(2, g(tg.Tensor(2.0)).item()),
        xytext=(0.9, -0.9),
        arrowprops={"arrowstyle": "->"},
    )
    ax.set_title(
        f"The slope of the tangent is the derivative. A step against it, w - {TANGENT_LR} g'(w)\n"
        "(arrow to the open circle), goes downhill; where the slope is zero, it stays put"
    )
    ax.set_xlabel("w")
    ax.set_ylabel("g(w)")
    ax.set_ylim(-1.3, 3.2)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper center", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(out_dir: str | Path = ".") -> dict:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    # the true lowest point, by brute force on a fine grid (only possible in 2-D!)
    with tg.no_grad():
        GX, GY = np.meshgrid(GRID, GRID)
        C = cost(tg.Tensor(GX), tg.Tensor(GY)).numpy()
    k = np.unravel_index(np.argmin(C), C.shape)
    global_min = (float(GX[k]), float(GY[k]), float(C[k]))
    print(
        f"global minimum on a {len(GRID)}x{len(GRID)} grid: C({global_min[0]:.2f}, "
        f"{global_min[1]:.2f}) = {global_min[2]:.4f}"
    )

    print(f"\ngradient descent, {STEPS} steps of learning rate {LEARNING_RATE} from each start:")
    paths, ends = [], []
    for start in STARTS:
        p = descend(start)
        x, y = tg.Tensor(p[-1, 0], requires_grad=True), tg.Tensor(p[-1, 1], requires_grad=True)
        value = cost(x, y)
        slope = np.hypot(*[d.item() for d in tg.grad(value, [x, y])])
        # descent reaches the exact bottom; the grid's best point is within its spacing of it
        is_global = value.item() < global_min[2] + 1e-3
        ends.append(
            {
                "start": start,
                "end": (float(p[-1, 0]), float(p[-1, 1])),
                "value": value.item(),
                "slope": float(slope),
                "global": bool(is_global),
            }
        )
        paths.append(p)
        print(
            f"  from ({start[0]:+.1f}, {start[1]:+.1f}) to ({p[-1, 0]:+.3f}, {p[-1, 1]:+.3f}): "
            f"C = {value.item():+.4f}, |slope| {slope:.0e} -> "
            f"{'the global minimum' if is_global else 'a LOCAL minimum, in a higher valley'}"
        )
    n_local = sum(not e["global"] for e in ends)
    print(
        f"{n_local} of {len(STARTS)} starts end in a local minimum: the slope there is zero too,\n"
        "so gradient descent cannot tell that a deeper valley exists elsewhere."
    )
    surface_png = out_dir / "cost_surface.png"
    plot_surface(paths, ends, global_min, surface_png)
    print(f"wrote {surface_png}")

    print(
        "\nIn 1-D: g(w) = w^4/4 - w^3/3 - w^2 + 2, slopes from the engine, one step against each:"
    )
    points = []
    for w0 in TANGENT_POINTS:
        w = tg.Tensor(np.float64(w0), requires_grad=True)
        value = g(w)
        value.backward()
        slope = w.grad.item()
        w_new = w0 - TANGENT_LR * slope
        g_new = g(tg.Tensor(np.float64(w_new))).item()
        points.append({"w": w0, "g": value.item(), "slope": slope, "w_new": w_new, "g_new": g_new})
        print(
            f"  w = {w0:+.1f}: g = {value.item():.4f}, slope g'(w) = {slope:+.4f}; "
            f"step to w = {w_new:+.4f}: g = {g_new:.4f} "
            f"({'lower' if g_new < value.item() else 'unchanged: the slope is zero'})"
        )
    tangent_png = out_dir / "tangent.png"
    plot_tangents(points, tangent_png)
    print(f"wrote {tangent_png}")
    return {
        "global_min": global_min,
        "ends": ends,
        "n_local": n_local,
        "tangent_points": points,
        "png": [surface_png, tangent_png],
    }


if __name__ == "__main__":
    main(*sys.argv[1:2])
