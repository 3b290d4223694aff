"""The `tinygrad-edu` command (also `python -m tinygrad_edu`): what you can type.

The arguments, their checks and the dispatch to a command live here; what each command does
(train, graph, gradcheck) is in `commands.py`.
"""

from __future__ import annotations

import argparse
import math
import sys

from tinygrad_edu.commands import run_gradcheck, run_graph, run_train
from tinygrad_edu.train import DEFAULT_LR, TrainConfig


def _number(text: str, kind: type, expected: str) -> float:
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None


def _positive_int(text: str) -> int:
    value = _number(text, int, "a positive integer")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _non_negative_int(text: str) -> int:
    value = _number(text, int, "zero or a positive integer")
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected zero or a positive integer, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = _number(text, float, "a positive number")
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive, finite number, got {text}")
    return value


def _non_negative_float(text: str) -> float:
    value = _number(text, float, "zero or a positive number")
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected zero or a positive, finite number, got {text}")
    return value


def _momentum(text: str) -> float:
    value = _number(text, float, "a number from 0 up to (not including) 1")
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(
            f"expected a number from 0 up to below 1 (0 is plain SGD; 0.9 is usual), got {text}"
        )
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinygrad-edu",
        description="tinygrad_edu: an autograd engine to learn neural networks from.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    defaults = TrainConfig()
    train = commands.add_parser(
        "train",
        help="train an MLP on the 8x8 hand-written digits",
        description="Train an MLP on the UCI 8x8 digits (80/20 stratified split) and write "
        "weights.safetensors, curves.png and metrics.json.",
    )
    train.add_argument(
        "--hidden",
        type=_positive_int,
        nargs="+",
        default=defaults.hidden,
        metavar="N",
        help="hidden layer sizes (default: 128 64)",
    )
    train.add_argument(
        "--activation",
        choices=["relu", "leaky_relu", "tanh", "sigmoid"],
        default=defaults.activation,
        help="activation between layers (default: relu)",
    )
    train.add_argument(
        "--optimizer",
        choices=list(DEFAULT_LR),
        default=defaults.optimizer,
        help="sgd (Nesterov momentum), adam or adamw (default: sgd)",
    )
    train.add_argument(
        "--lr",
        type=_positive_float,
        default=None,
        help="peak learning rate, decayed to 0 on a cosine (default: "
        + ", ".join(f"{k} {v}" for k, v in DEFAULT_LR.items())
        + ")",
    )
    train.add_argument(
        "--epochs",
        type=_positive_int,
        default=defaults.epochs,
        help=f"passes over the training set (default: {defaults.epochs})",
    )
    train.add_argument(
        "--batch-size",
        type=_positive_int,
        default=defaults.batch_size,
        help=f"samples per step (default: {defaults.batch_size})",
    )
    train.add_argument(
        "--seed",
        type=_non_negative_int,
        default=defaults.seed,
        help="seed of the split, the initial weights and the shuffles (default: 0)",
    )
    train.add_argument(
        "--momentum",
        type=_momentum,
        default=None,
        help=f"SGD's Nesterov momentum, 0 to below 1; 0 is plain SGD (default: "
        f"{defaults.momentum}; --optimizer sgd only)",
    )
    train.add_argument(
        "--weight-decay",
        type=_non_negative_float,
        default=defaults.weight_decay,
        help=f"weight decay (default: {defaults.weight_decay})",
    )
    train.add_argument(
        "--noise",
        type=_non_negative_float,
        default=defaults.noise,
        help="std of the Gaussian noise added to the standardised training "
        f"inputs (default: {defaults.noise}; 0 turns it off)",
    )
    train.add_argument(
        "--out", default=defaults.out, help=f"folder for the outputs (default: {defaults.out})"
    )
    train.add_argument(
        "--jit",
        action="store_true",
        help="run each training step under tg.jit: recorded once, checked once against "
        "eager, then replayed (same results, less Python per step)",
    )
    train.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress output (a bar on a terminal, else a line per epoch)",
    )
    graph = commands.add_parser(
        "graph",
        help="draw the graph of one training step of a small MLP",
        description="Draw the computation graph of one training step of MLP([4, 5, 3]) on two "
        "digits (cross-entropy), with values and gradients, to <out>.<format>.",
    )
    graph.add_argument("--out", default="graph", help="path without extension (default: graph)")
    graph.add_argument(
        "--format",
        choices=["svg", "png", "pdf", "dot", "html"],
        default="svg",
        help="(default: svg); html: the graph explorer, one page to click through and step "
        "through backward in a browser",
    )
    graph.add_argument("--no-values", action="store_true", help="leave out the values")
    graph.add_argument("--no-grads", action="store_true", help="leave out the gradients")
    graph.add_argument(
        "--color", choices=["kind", "grad"], default="kind", help="colour by kind or by gradient"
    )
    graph.add_argument("--collapse", action="store_true", help="one box per layer")
    graph.add_argument(
        "--rankdir",
        choices=["LR", "TB"],
        default=None,
        help="the direction data flows: LR left to right (wide; the default), TB top to bottom "
        "(the default for html, beside the page's panel)",
    )
    check = commands.add_parser(
        "gradcheck",
        help="check every differentiable op against finite differences",
        description="Check every differentiable op (the table tinygrad_edu.opinfo.OPS) on "
        "random float64 inputs: first and second derivatives against central differences. "
        "Exits 1 if any op fails.",
    )
    check.add_argument(
        "--op",
        action="append",
        metavar="NAME",
        help="check only this op (repeatable; default: all)",
    )
    check.add_argument(
        "--seed", type=_non_negative_int, default=0, help="seed of the random inputs (default: 0)"
    )
    parser.commands = {"train": train, "graph": graph, "gradcheck": check}
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    command = parser.commands[args.command]
    if unknown:  # the command's own usage, not the top level's
        command.error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command == "train" and args.momentum is not None and args.optimizer != "sgd":
        command.error(
            f"argument --momentum: applies to --optimizer sgd only; {args.optimizer} keeps its "
            "own running averages (its betas)"
        )
    return RUNS[args.command](args)  # argparse has rejected any other command


RUNS = {"train": run_train, "graph": run_graph, "gradcheck": run_gradcheck}


if __name__ == "__main__":
    sys.exit(main())
