"""curves.png: axes fitted to the run's numbers, and its best epoch marked.

The accuracy axis used to be fixed at 0.8-1.0: a run at chance (10%) showed an empty panel, the
first epochs of a sigmoid run (30%) and the default run's first epoch (65%) were cut off. Now
`train.curve_limits(history)` fits both axes to the data (accuracy within [0, 1], the loss on a
log axis when it spans more than a decade) and names the best epoch (the highest held-out
accuracy), and `plot_curves` draws what it says.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tinygrad_edu import train

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
EPOCHS = 60


def _history(loss: tuple, test_loss: tuple, acc: tuple, test_acc: tuple, n: int = EPOCHS) -> dict:
    """Curves that go geometrically (loss) or linearly (accuracy) from a first to a last value."""
    return {
        "train_loss": list(np.geomspace(*loss, n)),
        "train_acc": list(np.linspace(*acc, n)),
        "test_loss": list(np.geomspace(*test_loss, n)),
        "test_acc": list(np.linspace(*test_acc, n)),
    }


def stuck_at_chance() -> dict:
    """A run that learns nothing: 10% right, the loss flat at log(10) = 2.30."""
    rng = np.random.default_rng(0)
    h = _history((2.31, 2.30), (2.31, 2.30), (0.1, 0.1), (0.1, 0.1), n=5)
    h["train_acc"] = list(0.1 + rng.uniform(-0.01, 0.01, 5))
    h["test_acc"] = list(0.1 + rng.uniform(-0.02, 0.02, 5))
    return h


def sigmoid_run() -> dict:
    """A sigmoid MLP: a slow start at 30%, the loss from 2.0 down to 0.4 (under a decade)."""
    return _history((2.0, 0.4), (1.9, 0.45), (0.3, 0.95), (0.32, 0.94))


def default_run() -> dict:
    """The default run: the loss from 1.2 to 0.001, 65% right after epoch 1, then 100%; the
    test accuracy peaks at epoch 19 and settles a little lower."""
    h = _history((1.2, 0.001), (0.44, 0.07), (0.65, 1.0), (0.89, 0.97))
    h["test_acc"][18] = 0.983
    return h


HISTORIES = {"stuck": stuck_at_chance, "sigmoid": sigmoid_run, "default": default_run}


def _values(history: dict, kind: str) -> list[float]:
    return [v for k, vs in history.items() if k.endswith(kind) for v in vs if math.isfinite(v)]


@pytest.mark.parametrize("name", HISTORIES)
def test_every_point_lies_inside_the_limits_with_a_margin(name: str) -> None:
    history = HISTORIES[name]()
    limits = train.curve_limits(history)
    lo, hi = limits.acc_ylim
    assert 0.0 <= lo < hi <= 1.0
    acc = _values(history, "_acc")
    assert lo < min(acc) and max(acc) <= hi  # a margin below; at most 1 (100%) above
    if max(acc) < 1:
        assert max(acc) < hi
    lo, hi = limits.loss_ylim
    loss = _values(history, "_loss")
    assert 0 <= lo < min(loss) and max(loss) < hi


def test_a_run_at_chance_fills_its_panel() -> None:
    """10% accuracy: the old axis (0.8-1.0) showed nothing; now the axis is around 10%."""
    history = stuck_at_chance()
    lo, hi = train.curve_limits(history).acc_ylim
    acc = _values(history, "_acc")
    assert hi < 0.2 and lo > 0.0
    assert max(acc) - min(acc) > 0.3 * (hi - lo)  # the data is not a thin line at the bottom


def test_the_first_epochs_are_on_the_axis() -> None:
    assert train.curve_limits(sigmoid_run()).acc_ylim[0] < 0.3
    assert train.curve_limits(default_run()).acc_ylim[0] < 0.65  # epoch 1 of the default run


def test_a_margin_that_is_only_a_little() -> None:
    lo, hi = train.curve_limits(default_run()).acc_ylim
    assert hi == 1.0  # capped: no axis above 100%
    assert 0.6 < lo < 0.65  # 65% is the lowest point


@pytest.mark.parametrize(
    ("name", "scale"), [("default", "log"), ("sigmoid", "linear"), ("stuck", "linear")]
)
def test_the_loss_is_on_a_log_axis_only_when_it_spans_decades(name: str, scale: str) -> None:
    assert train.curve_limits(HISTORIES[name]()).loss_scale == scale


def test_a_linear_loss_axis_fits_a_flat_loss() -> None:
    """A loss flat at 2.30 gets an axis around 2.30, not one from 0."""
    lo, hi = train.curve_limits(stuck_at_chance()).loss_ylim
    assert 2.0 < lo < 2.30 < 2.31 < hi < 2.6


def test_the_best_epoch_is_the_highest_test_accuracy() -> None:
    limits = train.curve_limits(default_run())
    assert (limits.best_epoch, limits.best_acc, limits.best_split) == (19, 0.983, "test")


def test_the_best_epoch_comes_from_the_validation_accuracy_when_the_history_has_one() -> None:
    history = sigmoid_run()
    history["val_loss"] = history.pop("test_loss")
    history["val_acc"] = history.pop("test_acc")
    history["val_acc"][29] = 0.99
    limits = train.curve_limits(history)
    assert (limits.best_epoch, limits.best_split) == (30, "val")


def test_ties_go_to_the_first_best_epoch() -> None:
    history = default_run()
    history["test_acc"][40] = history["test_acc"][18]
    assert train.curve_limits(history).best_epoch == 19


def test_a_non_finite_test_loss_is_left_out_of_the_limits() -> None:
    """A run can finish with a test loss that overflowed (metrics.json says "diverged")."""
    history = default_run()
    history["test_loss"][30] = math.inf
    history["test_loss"][31] = math.nan
    limits = train.curve_limits(history)
    assert all(math.isfinite(v) and v > 0 for v in limits.loss_ylim)
    assert limits.loss_scale == "log"


# -- the drawn figure ------------------------------------------------------------------------------
def _draw(history: dict, path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """plot_curves(history, path), and the figure it saved (caught as it is saved)."""
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    saved = []
    savefig = Figure.savefig

    def keep(fig: Figure, *args: Any, **kwargs: Any) -> None:
        saved.append(fig)
        savefig(fig, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", keep)
    assert train.plot_curves(history, path) == str(path)
    assert path.read_bytes()[:8] == PNG_MAGIC
    (fig,) = saved
    return fig


@pytest.mark.parametrize("name", HISTORIES)
def test_the_png_shows_every_point_and_marks_the_best_epoch(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read back from the figure plot_curves saved: what the axes show, and the best epoch."""
    history = HISTORIES[name]()
    best = int(np.argmax(history["test_acc"])) + 1
    fig = _draw(history, tmp_path / "curves.png", monkeypatch)
    ax_loss, ax_acc = fig.axes
    for ax, kind in ((ax_acc, "_acc"), (ax_loss, "_loss")):
        lo, hi = ax.get_ylim()
        values = _values(history, kind)
        assert lo <= min(values) and max(values) <= hi, (kind, (lo, hi), min(values), max(values))
        x_lo, x_hi = ax.get_xlim()
        assert x_lo <= 1 and len(history["train_loss"]) <= x_hi  # every epoch, the first too
    for ax in (ax_loss, ax_acc):  # the best epoch: a vertical line on both panels
        xs = [set(np.atleast_1d(line.get_xdata())) for line in ax.get_lines()]
        assert {best} in xs, xs
    labels = [t.get_text() for t in ax_acc.get_legend().get_texts()]
    assert any("best" in t and f"epoch {best}" in t for t in labels), labels
    # and a marker on the best point itself
    marked = [
        (list(line.get_xdata()), list(line.get_ydata()))
        for line in ax_acc.get_lines()
        if line.get_marker() not in (None, "None", "", " ")
    ]
    assert ([best], [history["test_acc"][best - 1]]) in marked, marked
    # what curve_limits says is what was drawn
    limits = train.curve_limits(history)
    assert ax_acc.get_ylim() == pytest.approx(limits.acc_ylim)
    assert ax_loss.get_ylim() == pytest.approx(limits.loss_ylim)
    assert ax_loss.get_yscale() == limits.loss_scale


def test_the_png_has_the_figure_size(tmp_path: Path) -> None:
    mpl_image = pytest.importorskip("matplotlib.image")
    path = tmp_path / "curves.png"
    assert train.plot_curves(default_run(), path) == str(path)
    assert mpl_image.imread(path).shape[:2] == (400, 1000)  # 10 x 4 inches at 100 dpi
