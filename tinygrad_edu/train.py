"""Training the digits MLP end to end: the recipe behind `tinygrad-edu train`.

The steps are those of any supervised training run:
  1. load the 8x8 digits and split them 80/20, stratified, with the seed;
  2. standardise each pixel with the training set's mean and standard deviation;
  3. build an MLP (64 inputs, the hidden sizes, 10 outputs) and an optimiser;
  4. for each epoch, for each shuffled mini-batch: forward, cross-entropy, backward, step
     (the inputs get a little Gaussian noise: seeing slightly different digits each epoch keeps
     the network from memorising the training set; the learning rate follows a cosine decay);
  5. measure accuracy on the held-out 20% and write the weights, curves and metrics.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu.datasets import load_digits, train_test_split

DEFAULT_LR = {"sgd": 0.05, "adam": 2e-3, "adamw": 2e-3}
CHANCE_EPOCHS = 5  # a run still at chance after this many epochs is stopped
CHANCE_ACCURACY = 0.2  # twice chance (10 classes): sigmoid's slow start is past it by epoch 5


class TrainingFailed(RuntimeError):
    """The run diverged or stayed at chance: it stopped, and wrote nothing."""


@dataclass
class TrainConfig:
    hidden: list[int] = field(default_factory=lambda: [128, 64])
    activation: str = "relu"
    optimizer: str = "sgd"
    lr: float | None = None  # None: DEFAULT_LR for the optimizer
    epochs: int = 60
    batch_size: int = 32
    seed: int = 0
    momentum: float = 0.9  # SGD only (Nesterov); 0 is plain SGD
    weight_decay: float = 1e-3
    noise: float = 0.3  # std of the Gaussian noise added to standardised training inputs
    out: str = "runs/digits"
    jit: bool = False  # run each step under tg.jit (recorded once, then replayed)

    def validate(self) -> None:
        if self.optimizer not in DEFAULT_LR:
            raise ValueError(f"optimizer must be one of {', '.join(DEFAULT_LR)}")
        if not self.hidden or any(h <= 0 for h in self.hidden):
            raise ValueError(f"hidden sizes must be positive, got {self.hidden}")
        for name in ("epochs", "batch_size"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.lr is not None and self.lr <= 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        if self.noise < 0 or self.weight_decay < 0:
            raise ValueError("noise and weight_decay must not be negative")
        if not 0 <= self.momentum < 1:
            raise ValueError(f"momentum must be from 0 up to below 1, got {self.momentum}")


def make_optimizer(cfg: TrainConfig, params: Any) -> tg.optim.Optimizer:
    lr = cfg.lr if cfg.lr is not None else DEFAULT_LR[cfg.optimizer]
    if cfg.optimizer == "sgd":
        return tg.optim.SGD(
            params,
            lr,
            momentum=cfg.momentum,
            weight_decay=cfg.weight_decay,
            nesterov=cfg.momentum > 0,  # momentum 0: plain SGD
        )
    if cfg.optimizer == "adam":
        return tg.optim.Adam(params, lr, weight_decay=cfg.weight_decay)
    return tg.optim.AdamW(params, lr, weight_decay=cfg.weight_decay)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, classes: int = 10) -> np.ndarray:
    """counts[i, j] = how many samples of class i were predicted as class j."""
    counts = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts


def format_confusion(counts: np.ndarray) -> str:
    width = max(3, len(str(counts.max())) + 1)
    head = "true\\pred" + "".join(f"{j:>{width}}" for j in range(counts.shape[1]))
    rows = [f"{i:>9}" + "".join(f"{v:>{width}}" for v in row) for i, row in enumerate(counts)]
    return "\n".join([head, *rows])


@tg.no_grad()
def evaluate(model: tg.nn.Module, X: np.ndarray, y: np.ndarray) -> tuple[float, float, np.ndarray]:
    """(mean cross-entropy, accuracy, predictions) of the model on X, y."""
    model.eval()
    logits = model(tg.Tensor(X))
    loss = tg.nn.functional.cross_entropy(logits, tg.Tensor(y)).item()
    pred = logits.argmax(axis=1).numpy()
    model.train()
    return loss, float((pred == y).mean()), pred


def train_digits(cfg: TrainConfig, progress: bool = True) -> dict:
    """Train the digits MLP as `cfg` says; returns the metrics (also written under cfg.out)."""
    cfg.validate()
    start = time.perf_counter()
    tg.manual_seed(cfg.seed)
    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, seed=cfg.seed)
    mean = X_train.mean(axis=0)
    std = np.maximum(X_train.std(axis=0), np.float32(1.0))  # at least one grey level
    X_train, X_test = (X_train - mean) / std, (X_test - mean) / std

    model = tg.nn.MLP([64, *cfg.hidden, 10], activation=cfg.activation)
    optimizer = make_optimizer(cfg, model.parameters())
    base_lr = optimizer.param_groups[0]["lr"]
    loader = tg.data.DataLoader(X_train, y_train, batch_size=cfg.batch_size, seed=cfg.seed)
    total_steps = cfg.epochs * len(loader)

    history: dict[str, list[float]] = {
        "train_loss": [],
        "train_acc": [],
        "test_loss": [],
        "test_acc": [],
    }
    bar = _progress_bar(cfg.epochs) if progress else None

    def train_step(xb: tg.Tensor, yb: tg.Tensor) -> tuple[tg.Tensor, tg.Tensor]:
        """One step: forward, loss, backward, update; returns the loss and the hits."""
        if cfg.noise:
            xb = xb + tg.randn(*xb.shape) * cfg.noise
        logits = model(xb)
        loss = tg.nn.functional.cross_entropy(logits, yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss, (logits.argmax(axis=1) == yb).sum()

    # under tg.jit the first step of each batch size is recorded, the second checked against
    # eager, and the rest replayed: the same numbers, without the engine's bookkeeping
    run_step = tg.jit(train_step) if cfg.jit else train_step
    step = 0
    for epoch in bar if bar is not None else range(cfg.epochs):
        losses, correct = [], 0
        for xb, yb in loader:
            # cosine decay: the learning rate glides from base_lr to 0 over the run (a jitted
            # step reads the learning rate from param_groups at every replay)
            optimizer.param_groups[0]["lr"] = (
                base_lr * 0.5 * (1 + math.cos(math.pi * step / total_steps))
            )
            step += 1
            loss, hits = run_step(xb, yb)
            losses.append(loss.item())
            correct += int(hits.item())
        history["train_loss"].append(float(np.mean(losses)))
        history["train_acc"].append(correct / len(y_train))
        _check_progress(history, base_lr, cfg)
        test_loss, test_acc, _ = evaluate(model, X_test, y_test)
        history["test_loss"].append(test_loss)
        history["test_acc"].append(test_acc)
        if bar is not None:
            bar.set_postfix(
                loss=f"{history['train_loss'][-1]:.4f}",
                acc=f"{history['train_acc'][-1]:.3f}",
                test_acc=f"{test_acc:.3f}",
            )
        elif progress:  # no terminal (a pipe, a CI log) or no tqdm: one plain line per epoch
            print(
                f"epoch {epoch + 1}/{cfg.epochs}  loss={history['train_loss'][-1]:.4f}  "
                f"acc={history['train_acc'][-1]:.3f}  test_acc={test_acc:.3f}  "
                f"({time.perf_counter() - start:.1f} s)",
                file=sys.stderr,
                flush=True,
            )

    test_loss, test_acc, pred = evaluate(model, X_test, y_test)
    counts = confusion_matrix(y_test, pred)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    tg.save(dict(model.state_dict()), out / "weights.safetensors")
    metrics = {
        "test_accuracy": test_acc,
        "test_loss": test_loss,
        "train_seconds": time.perf_counter() - start,
        "config": asdict(cfg),
        "lr": base_lr,
        "n_train": int(len(y_train)),
        "n_test": int(len(y_test)),
        "confusion_matrix": counts.tolist(),
        "normalisation": {"mean": mean.tolist(), "std": std.tolist()},
        "history": history,
    }
    if cfg.jit:
        metrics["jit"] = dict(run_step.stats)
    # (a run whose training loss is not finite has stopped already; the test loss can still be)
    metrics["diverged"] = not all(
        math.isfinite(v) for v in history["train_loss"] + history["test_loss"]
    )
    # strict JSON has no NaN or Infinity: a diverged run writes null for them
    (out / "metrics.json").write_text(json.dumps(_finite_or_none(metrics), indent=2))
    metrics["curves"] = plot_curves(history, out / "curves.png")
    return metrics


def _progress_bar(epochs: int) -> Any:
    """A tqdm bar over the epochs when stderr is a terminal and tqdm is installed, else None.

    Into a pipe or a CI log a bar's redraws (each starts with a carriage return) pile up into one
    huge line, so there, and without tqdm, train_digits prints a plain line per epoch instead.
    """
    isatty = getattr(sys.stderr, "isatty", None)
    if not (isatty and isatty()):
        return None
    try:
        from tqdm import tqdm  # loaded only when used: importing tinygrad_edu stays quick
    except ImportError:
        return None
    return tqdm(range(epochs), desc="training", unit="epoch", leave=True)


def _check_progress(history: dict, lr: float, cfg: TrainConfig) -> None:
    """Stop a run that diverged or learns nothing, before it writes over good results."""
    epoch = len(history["train_loss"])
    advice = f"try a smaller --lr (e.g. {lr / 10:g}; this run used {lr:g}) or --optimizer adam"
    loss = history["train_loss"][-1]
    if not math.isfinite(loss):
        raise TrainingFailed(
            f"training diverged in epoch {epoch}: the loss became {loss}; stopped, and nothing "
            f"was written to {cfg.out}; {advice}"
        )
    acc = history["train_acc"][-1]
    if epoch == CHANCE_EPOCHS and acc < CHANCE_ACCURACY:
        raise TrainingFailed(
            f"training is stuck at chance: {acc:.1%} of the training digits right after "
            f"{epoch} epochs (guessing gives 10%); stopped, and nothing was written to "
            f"{cfg.out}; {advice}"
        )


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite_or_none(v) for v in value]
    return value


class CurveLimits(NamedTuple):
    """What the axes of curves.png show, fitted to one run's history (see curve_limits)."""

    loss_ylim: tuple[float, float]
    loss_scale: str  # "log" when the loss spans more than a decade, else "linear"
    acc_ylim: tuple[float, float]  # within [0, 1]
    best_epoch: int  # counted from 1: the epoch of the highest held-out accuracy
    best_acc: float
    best_split: str  # whose accuracy that is: "val" or "test" ("train" if the history has neither)


SPLITS = ("train", "val", "test")  # the curves a history may hold: f"{split}_loss", f"{split}_acc"
MARGIN = 0.05  # of the data's span, added below and above it (on a log axis, of its decades)
LOG_SPAN = 10.0  # a loss whose largest value is more than this times its smallest: log axis


def curve_limits(history: dict) -> CurveLimits:
    """The y-limits of both panels, the loss axis's scale and the best epoch of a history.

    Each axis holds every finite value of its curves with a little margin: accuracy within
    [0, 1], and the loss on a log axis when it spans more than a decade (a default run goes
    from 1.2 to 0.01, and on a linear axis everything after epoch 3 would lie on the floor).
    """
    acc = _finite_values(history, "acc")
    lo, hi = (min(acc), max(acc)) if acc else (0.0, 1.0)
    pad = max(MARGIN * (hi - lo), 0.01)  # at least a point of accuracy: a flat run at 10%
    acc_ylim = (max(0.0, lo - pad), min(1.0, hi + pad))

    loss = _finite_values(history, "loss")
    lo, hi = (min(loss), max(loss)) if loss else (0.0, 1.0)
    if lo > 0 and hi > LOG_SPAN * lo:
        factor = (hi / lo) ** MARGIN
        loss_ylim, loss_scale = (lo / factor, hi * factor), "log"
    else:
        pad = max(MARGIN * (hi - lo), 0.02 * hi, 1e-3)  # a flat loss gets a band around it
        loss_ylim, loss_scale = (max(0.0, lo - pad), hi + pad), "linear"

    split = next((s for s in ("val", "test") if history.get(f"{s}_acc")), "train")
    held_out = history.get(f"{split}_acc") or [0.0]
    best = int(np.argmax(held_out))  # the first, if several epochs tie
    return CurveLimits(loss_ylim, loss_scale, acc_ylim, best + 1, float(held_out[best]), split)


def _finite_values(history: dict, kind: str) -> list[float]:
    """Every finite value of the history's curves of one kind ("loss" or "acc")."""
    values = (v for split in SPLITS for v in history.get(f"{split}_{kind}", ()))
    return [float(v) for v in values if v is not None and math.isfinite(v)]


def plot_curves(history: dict, path: Path) -> str | None:
    """Loss and accuracy per epoch, train and held-out, as a PNG; None without matplotlib.

    The axes fit the run (curve_limits) and the best epoch is marked on both panels.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        return None
    limits = curve_limits(history)
    epochs = np.arange(1, len(history["train_loss"]) + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for split in SPLITS:
        if history.get(f"{split}_loss"):
            ax_loss.plot(epochs, history[f"{split}_loss"], label=split)
        if history.get(f"{split}_acc"):
            ax_acc.plot(epochs, history[f"{split}_acc"], label=split)
    ax_loss.set_yscale(limits.loss_scale)
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="Loss", ylim=limits.loss_ylim)
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="Accuracy", ylim=limits.acc_ylim)
    best = limits.best_epoch
    ax_acc.plot(
        [best],
        [limits.best_acc],
        marker="*",
        markersize=12,
        linestyle="none",
        color="C3",
        label=f"best {limits.best_split} {limits.best_acc:.1%} (epoch {best})",
    )
    for ax in (ax_loss, ax_acc):
        ax.axvline(best, color="C3", linestyle="--", linewidth=1, alpha=0.6)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("MLP on the 8x8 digits")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return str(path)
