"""The `tinygrad-edu` command (also `python -m tinygrad_edu`)."""

from __future__ import annotations

import argparse
import importlib.util
import math
import sys
from pathlib import Path

from tinygrad_edu.train import (
    DEFAULT_LR,
    TrainConfig,
    TrainingFailed,
    format_confusion,
    train_digits,
)


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


def run_train(args: argparse.Namespace) -> int:
    cfg = TrainConfig(
        hidden=args.hidden,
        activation=args.activation,
        optimizer=args.optimizer,
        lr=args.lr,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        momentum=TrainConfig.momentum if args.momentum is None else args.momentum,
        weight_decay=args.weight_decay,
        noise=args.noise,
        out=args.out,
        jit=args.jit,
    )
    if Path(cfg.out).exists() and not Path(cfg.out).is_dir():
        print(
            f"tinygrad-edu train: --out {cfg.out} is a file; give a folder to write into",
            file=sys.stderr,
        )
        return 2
    if importlib.util.find_spec("safetensors") is None:  # found now, not after the training
        print(
            "tinygrad-edu train: writing weights.safetensors needs the safetensors package, "
            "which is not installed: pip install safetensors",
            file=sys.stderr,
        )
        return 1
    problem = _unwritable(Path(cfg.out))
    if problem:  # found now, not after the whole training
        print(
            f"tinygrad-edu train: cannot write into --out {cfg.out} ({problem}); give a "
            "folder you can write to",
            file=sys.stderr,
        )
        return 2
    sizes = "-".join(str(n) for n in [64, *cfg.hidden, 10])
    print(
        f"MLP {sizes} ({cfg.activation}), {cfg.optimizer}, {cfg.epochs} "
        f"epoch{'' if cfg.epochs == 1 else 's'}, "
        f"batch {cfg.batch_size}, seed {cfg.seed}" + (", steps under tg.jit" if cfg.jit else "")
    )
    try:
        metrics = train_digits(cfg, progress=not args.no_progress)
    except TrainingFailed as failed:
        print(f"tinygrad-edu train: {failed}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            f"\ntinygrad-edu train: interrupted; nothing was written to {cfg.out} (results are "
            "written at the end of a run; any files there are from an earlier one)",
            file=sys.stderr,
        )
        return 130
    if metrics["diverged"]:
        print(
            "warning: training diverged (the loss became NaN or infinite); try a smaller --lr",
            file=sys.stderr,
        )
    print(
        f"test accuracy: {metrics['test_accuracy']:.2%} on {metrics['n_test']} held-out digits "
        f"(trained in {metrics['train_seconds']:.1f} s)"
    )
    if "jit" in metrics:
        j = metrics["jit"]
        print(
            f"tg.jit: {j['recorded']} step(s) recorded, {j['checked']} checked against eager, "
            f"{j['replayed']} replayed, {j['eager']} run eagerly"
        )
    import numpy as np

    print("confusion matrix (rows: true digit, columns: predicted):")
    print(format_confusion(np.array(metrics["confusion_matrix"])))
    print(f"wrote {cfg.out}/weights.safetensors and {cfg.out}/metrics.json")
    if metrics["curves"] is None:
        print(
            "matplotlib is not installed, so curves.png was not drawn; install it with "
            "`pip install 'tinygrad-edu[plot]'` (or `pip install matplotlib`)"
        )
    else:
        print(f"wrote {metrics['curves']}")
    return 0


def _unwritable(folder: Path) -> str | None:
    """Why files cannot be written into `folder` (made if missing), or None if they can."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".tinygrad-edu-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        return err.strerror or type(err).__name__
    return None


def run_graph(args: argparse.Namespace) -> int:
    import shutil

    if args.format == "html":
        return _run_explorer(args)
    from tinygrad_edu.viz import training_step_graph

    drawing = training_step_graph(
        values=not args.no_values,
        grads=not args.no_grads,
        color=args.color,
        collapse=args.collapse,
        rankdir=args.rankdir or "LR",
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    dot_file = Path(f"{out}.dot")
    if args.format != "dot":
        target = f"{out}.{args.format}"
        try:
            import graphviz
        except ImportError:  # draw_graph wrote the DOT text without it; drawing needs it
            print(
                f"warning: the graphviz Python package is not installed, so {target} was not "
                f"drawn; wrote the DOT source to {dot_file} instead. Install it with "
                "`pip install graphviz` (Graphviz's `dot` program is needed too) and run again, "
                f"or convert it with `dot -T{args.format} {dot_file} -o {target}`.",
                file=sys.stderr,
            )
        else:
            try:
                if shutil.which("dot") is None:
                    raise graphviz.ExecutableNotFound(["dot"])
                drawing.render(outfile=target, cleanup=True)
                print(f"wrote {target}")
                return 0
            except graphviz.CalledProcessError as err:
                print(
                    f"tinygrad-edu graph: Graphviz could not draw {target}: {err}",
                    file=sys.stderr,
                )
                return 1
            except graphviz.ExecutableNotFound:
                print(
                    f"warning: Graphviz's `dot` program was not found, so {target} was not "
                    f"drawn; wrote the DOT source to {dot_file} instead. Install Graphviz "
                    "(`apt-get install graphviz`, `brew install graphviz`, or "
                    "https://graphviz.org/download/) and run again, or convert it with "
                    f"`dot -T{args.format} {dot_file} -o {target}`.",
                    file=sys.stderr,
                )
    dot_file.write_text(drawing.source)
    print(f"wrote {dot_file}")
    return 0


def run_gradcheck(args: argparse.Namespace) -> int:
    from tinygrad_edu.check_ops import check_ops, format_table
    from tinygrad_edu.opinfo import OPS_BY_NAME

    unknown = [name for name in args.op or [] if name not in OPS_BY_NAME]
    if unknown:
        print(
            f"tinygrad-edu gradcheck: unknown op {', '.join(unknown)}; the ops are: "
            + ", ".join(OPS_BY_NAME),
            file=sys.stderr,
        )
        return 2
    rows = check_ops(args.op, seed=args.seed)
    print(format_table(rows))
    return 0 if all(r.passed for r in rows) else 1


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
    if args.command == "train":
        return run_train(args)
    if args.command == "graph":
        return run_graph(args)
    if args.command == "gradcheck":
        return run_gradcheck(args)
    return 2  # argparse rejects unknown commands before this


if __name__ == "__main__":
    sys.exit(main())


def _run_explorer(args: argparse.Namespace) -> int:
    """`graph --format html`: the explorer page of the same training step."""
    from tinygrad_edu.explore import explore
    from tinygrad_edu.viz import training_step

    loss, model = training_step()
    explorer = explore(
        loss,
        model=model,
        color=args.color,
        rankdir=args.rankdir or "TB",
        collapse=True if args.collapse else "auto",
    )
    target = Path(f"{args.out}.html")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        explorer.save(target)
    except RuntimeError as err:  # no Graphviz to lay the page out
        print(f"tinygrad-edu graph: {err}", file=sys.stderr)
        return 1
    print(f"wrote {target} (open it in a browser)")
    return 0
