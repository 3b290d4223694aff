"""What each `tinygrad-edu` command does, once `cli.py` has read its arguments.

`run_train` trains the MLP on the digits and writes its results, `run_graph` draws (or, with
`--format html`, opens the explorer page of) one training step of a small MLP, and
`run_gradcheck` checks every differentiable op against finite differences. Each returns the exit
status and says on stderr what went wrong and what to do about it.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import numpy as np

from tinygrad_edu.train import TrainConfig, TrainingFailed, format_confusion, train_digits


def run_train(args: argparse.Namespace) -> int:
    """`train`: check --out can be written, train on the digits, print and write the results."""
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
    """`graph`: draw one training step with Graphviz, or write its DOT source if it cannot."""
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


def run_gradcheck(args: argparse.Namespace) -> int:
    """`gradcheck`: first and second derivatives of the chosen ops against finite differences."""
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
