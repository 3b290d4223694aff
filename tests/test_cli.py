"""The `tinygrad-edu` command line: `train` end to end, its outputs, its flags and its errors.

SPEC ("Data, saving, command line"): `tinygrad-edu train` (also `python -m tinygrad_edu train`)
prints the final test accuracy and a confusion matrix and writes weights.safetensors,
curves.png and metrics.json; the weights load into the PyTorch model of the same architecture;
bad flags exit 2; without matplotlib it says how to get the plot and goes on.

Most runs use `--epochs 3 --no-progress` so that they take a fraction of a second; one runs the
defaults to check the accuracy bar (its time is printed, and asserted only loosely: the 5 s bar
is measured by benchmarks/, never by a unit test).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import cli, commands
from tinygrad_edu.datasets import load_digits, train_test_split

N_DIGITS = 1797
N_TEST = 359  # round(0.2 * n_c) test digits of each class c
QUICK = ["--epochs", "3", "--no-progress"]
DEFAULT_KEYS = {
    "0.weight": (128, 64),
    "0.bias": (128,),
    "2.weight": (64, 128),
    "2.bias": (64,),
    "4.weight": (10, 64),
    "4.bias": (10,),
}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TRAIN_FLAGS = [
    "--hidden",
    "--activation",
    "--optimizer",
    "--lr",
    "--epochs",
    "--batch-size",
    "--seed",
    "--out",
    "--no-progress",
]


# -- helpers ------------------------------------------------------------------------------------
def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["MPLBACKEND"] = "Agg"
    return env


def run_module(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -m tinygrad_edu ARGS` in a fresh interpreter (the one running the tests)."""
    return subprocess.run(
        [sys.executable, "-m", "tinygrad_edu", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=_env(),
        timeout=timeout,
    )


def run_inprocess(argv: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    """`tinygrad_edu.cli.main(argv)` in this process: (exit code, stdout, stderr)."""
    capsys.readouterr()  # drop anything printed before
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse exits on bad flags and --help
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def parse_confusion(stdout: str) -> np.ndarray:
    """The confusion matrix printed after 'confusion matrix': a header, then 10 labelled rows."""
    lines = stdout.splitlines()
    starts = [i for i, line in enumerate(lines) if "confusion matrix" in line.lower()]
    assert starts, f"no confusion matrix in the output:\n{stdout}"
    rows = []
    for line in lines[starts[0] + 1 :]:
        fields = line.split()
        if len(fields) == 11 and all(re.fullmatch(r"\d+", f) for f in fields):
            rows.append([int(f) for f in fields])
        elif rows:
            break  # the first line after the matrix
    assert [r[0] for r in rows] == list(range(10)), f"expected rows 0..9, got:\n{stdout}"
    return np.array([r[1:] for r in rows])


def printed_accuracy(stdout: str) -> float:
    match = re.search(r"test accuracy:?\s*([0-9.]+)\s*%", stdout, flags=re.IGNORECASE)
    assert match, f"no 'test accuracy: NN.NN%' in the output:\n{stdout}"
    return float(match.group(1)) / 100


def read_metrics(out: Path) -> dict[str, Any]:
    return json.loads((out / "metrics.json").read_text())


def read_weights(out: Path) -> dict[str, np.ndarray]:
    state = tg.load(out / "weights.safetensors")
    assert all(isinstance(v, tg.Tensor) for v in state.values())
    return {k: v.numpy() for k, v in state.items()}


def check_run(code: int, stdout: str, out: Path, epochs: int) -> dict[str, Any]:
    """What every successful train run must produce; returns metrics.json."""
    assert code == 0, stdout
    assert "test accuracy" in stdout.lower()
    confusion = parse_confusion(stdout)
    assert confusion.shape == (10, 10)
    assert confusion.sum() == N_TEST
    assert (out / "weights.safetensors").is_file()
    assert (out / "metrics.json").is_file()
    assert (out / "curves.png").read_bytes()[:8] == PNG_MAGIC

    metrics = read_metrics(out)
    assert metrics["n_test"] == N_TEST
    assert metrics["n_train"] == N_DIGITS - N_TEST
    acc = metrics["test_accuracy"]
    assert 0.0 <= acc <= 1.0
    cm = np.array(metrics["confusion_matrix"])
    assert cm.shape == (10, 10)
    assert cm.sum() == metrics["n_test"]
    assert (cm >= 0).all()
    # the matrix printed is the one saved, and its diagonal is the accuracy
    np.testing.assert_array_equal(cm, confusion)
    assert np.trace(cm) / cm.sum() == pytest.approx(acc, abs=1e-12)
    assert printed_accuracy(stdout) == pytest.approx(acc, abs=5e-5)  # printed to 0.01 %
    history = metrics["history"]
    assert set(history) >= {"train_loss", "train_acc", "test_loss", "test_acc"}
    for name, values in history.items():
        assert isinstance(values, list) and len(values) == epochs, name
        assert all(np.isfinite(v) for v in values), name
    assert history["test_acc"][-1] == pytest.approx(acc)
    norm = metrics["normalisation"]
    assert len(norm["mean"]) == 64 and len(norm["std"]) == 64
    assert all(s > 0 for s in norm["std"])
    return metrics


# -- one quick run, through both entry points, shared by several tests --------------------------
@pytest.fixture(scope="module")
def quick_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`train --epochs 3` once as `python -m tinygrad_edu` and once through cli.main."""
    root = tmp_path_factory.mktemp("quick")
    sub_out = root / "subprocess"
    proc = run_module("train", *QUICK, "--out", str(sub_out), cwd=root)

    inproc_out = root / "inprocess"
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = cli.main(["train", *QUICK, "--out", str(inproc_out)])
    return {
        "root": root,
        "proc": proc,
        "sub_out": sub_out,
        "inproc_code": code,
        "inproc_stdout": stdout.getvalue(),
        "inproc_out": inproc_out,
    }


def test_train_as_module_subprocess(quick_runs: dict[str, Any]) -> None:
    proc = quick_runs["proc"]
    assert proc.returncode == 0, proc.stderr
    metrics = check_run(proc.returncode, proc.stdout, quick_runs["sub_out"], epochs=3)
    config = metrics["config"]
    assert config["epochs"] == 3
    assert config["out"] == str(quick_runs["sub_out"])
    # nothing was written to the default folder of the working directory
    assert not (quick_runs["root"] / "runs").exists()


def test_train_in_process(quick_runs: dict[str, Any]) -> None:
    check_run(
        quick_runs["inproc_code"], quick_runs["inproc_stdout"], quick_runs["inproc_out"], epochs=3
    )


def test_train_jit_gives_the_eager_run_bit_for_bit(quick_runs: dict[str, Any]) -> None:
    """`train --jit`: the same weights and history as the eager run, and it really replayed."""
    out = quick_runs["root"] / "jit"
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = cli.main(["train", *QUICK, "--jit", "--out", str(out)])
    metrics = check_run(code, stdout.getvalue(), out, epochs=3)
    eager = read_metrics(quick_runs["inproc_out"])
    assert metrics["history"] == eager["history"]
    assert metrics["test_accuracy"] == eager["test_accuracy"]
    weights = (out / "weights.safetensors").read_bytes()
    assert weights == (quick_runs["inproc_out"] / "weights.safetensors").read_bytes()
    jit = metrics["jit"]
    assert jit["recorded"] == 2 and jit["checked"] == 2 and jit["eager"] == 0  # 2 batch sizes
    steps_per_epoch = -(-metrics["n_train"] // 32)  # batches of the default size, rounded up
    assert jit["replayed"] == 3 * steps_per_epoch - 4
    assert "tg.jit: 2 step(s) recorded, 2 checked against eager" in stdout.getvalue()


def test_subprocess_and_in_process_runs_agree(quick_runs: dict[str, Any]) -> None:
    """Same flags, same seed: the same weights and metrics, whichever way it was started."""
    a, b = quick_runs["sub_out"], quick_runs["inproc_out"]
    ma, mb = read_metrics(a), read_metrics(b)
    assert ma["test_accuracy"] == mb["test_accuracy"]
    assert ma["history"] == mb["history"]
    wa, wb = read_weights(a), read_weights(b)
    assert wa.keys() == wb.keys()
    for key in wa:
        np.testing.assert_array_equal(wa[key], wb[key], err_msg=key)


def test_metrics_config_echoes_the_defaults(quick_runs: dict[str, Any]) -> None:
    config = read_metrics(quick_runs["inproc_out"])["config"]
    assert config["hidden"] == [128, 64]
    assert config["activation"] == "relu"
    assert config["optimizer"] == "sgd"
    assert config["epochs"] == 3
    assert config["seed"] == 0
    assert config["batch_size"] == 32
    assert config["out"] == str(quick_runs["inproc_out"])


def test_weights_load_with_tg_load(quick_runs: dict[str, Any]) -> None:
    state = tg.load(quick_runs["inproc_out"] / "weights.safetensors")
    assert set(state) == set(DEFAULT_KEYS)
    for key, shape in DEFAULT_KEYS.items():
        assert state[key].shape == shape, key
        assert state[key].dtype == np.float32, key
        assert not state[key].requires_grad
        assert np.isfinite(state[key].numpy()).all(), key
    # and into the tinygrad_edu model it came from, strictly
    model = tg.nn.MLP([64, 128, 64, 10])
    model.load_state_dict(state)


def test_weights_load_into_torch_and_reproduce_the_accuracy(
    quick_runs: dict[str, Any], torch_or_skip: Any
) -> None:
    torch = torch_or_skip()
    from safetensors.torch import load_file

    out = quick_runs["inproc_out"]
    metrics = read_metrics(out)
    state = load_file(str(out / "weights.safetensors"))
    model = torch.nn.Sequential(
        torch.nn.Linear(64, 128),
        torch.nn.ReLU(),
        torch.nn.Linear(128, 64),
        torch.nn.ReLU(),
        torch.nn.Linear(64, 10),
    )
    model.load_state_dict(state, strict=True)

    X, y = load_digits()
    _, X_test, _, y_test = train_test_split(X, y, test_size=0.2, seed=metrics["config"]["seed"])
    assert len(y_test) == metrics["n_test"]
    mean = np.array(metrics["normalisation"]["mean"], dtype=np.float32)
    std = np.array(metrics["normalisation"]["std"], dtype=np.float32)
    X_test = (X_test - mean) / std
    with torch.no_grad():
        pred = model(torch.from_numpy(X_test)).argmax(dim=1).numpy()
    accuracy = float((pred == y_test).mean())
    assert accuracy == metrics["test_accuracy"]
    confusion = np.zeros((10, 10), dtype=np.int64)
    np.add.at(confusion, (y_test, pred), 1)
    np.testing.assert_array_equal(confusion, np.array(metrics["confusion_matrix"]))


# -- the default run ----------------------------------------------------------------------------
def test_default_run_reaches_97_percent(tmp_path: Path) -> None:
    """SPEC bar: >= 97 % test accuracy with the defaults, in under 5 s (start-up included).

    The 5 s bar itself is measured by benchmarks/; here the time is printed and only a loose
    10 s limit is asserted, so that a loaded CI machine does not make the test flaky.
    """
    out = tmp_path / "digits"
    start = time.perf_counter()
    proc = run_module("train", "--out", str(out), "--no-progress", cwd=tmp_path)
    seconds = time.perf_counter() - start
    print(f"\n`python -m tinygrad_edu train` with the defaults: {seconds:.2f} s wall time")
    assert proc.returncode == 0, proc.stderr
    metrics = check_run(proc.returncode, proc.stdout, out, epochs=60)
    assert metrics["config"]["epochs"] == 60
    assert metrics["test_accuracy"] >= 0.97, metrics["test_accuracy"]
    assert seconds < 10, f"the default run took {seconds:.1f} s (SPEC bar: under 5 s)"
    # the README quotes what this run prints (issue 22, item 4)
    printed = re.search(r"test accuracy: ([0-9.]+%)", proc.stdout).group(1)
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    headline = readme[readme.index("`tinygrad-edu train` does this") :][:300]
    assert f"prints {printed}" in headline, (printed, headline)


# -- reproducibility ----------------------------------------------------------------------------
def _train(tmp: Path, name: str, *flags: str, capsys: pytest.CaptureFixture) -> Path:
    out = tmp / name
    code, stdout, _ = run_inprocess(["train", *QUICK, *flags, "--out", str(out)], capsys)
    assert code == 0, stdout
    return out


def test_same_seed_same_results_other_seed_other_weights(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    a = _train(tmp_path, "a", "--seed", "7", capsys=capsys)
    b = _train(tmp_path, "b", "--seed", "7", capsys=capsys)
    c = _train(tmp_path, "c", "--seed", "8", capsys=capsys)
    ma, mb, mc = read_metrics(a), read_metrics(b), read_metrics(c)
    assert ma["test_accuracy"] == mb["test_accuracy"]
    assert ma["history"] == mb["history"]
    assert ma["confusion_matrix"] == mb["confusion_matrix"]
    assert ma["normalisation"] == mb["normalisation"]
    wa, wb, wc = read_weights(a), read_weights(b), read_weights(c)
    assert wa.keys() == wb.keys() == wc.keys() == set(DEFAULT_KEYS)
    for key in wa:
        np.testing.assert_array_equal(wa[key], wb[key], err_msg=key)
        assert not np.array_equal(wa[key], wc[key]), f"seeds 7 and 8 gave the same {key}"
    assert mc["config"]["seed"] == 8
    assert ma["history"] != mc["history"]


# -- flags --------------------------------------------------------------------------------------
def test_one_hidden_layer(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "h32"
    code, stdout, _ = run_inprocess(["train", *QUICK, "--hidden", "32", "--out", str(out)], capsys)
    metrics = check_run(code, stdout, out, epochs=3)
    assert metrics["config"]["hidden"] == [32]
    weights = read_weights(out)
    assert {k: v.shape for k, v in weights.items()} == {
        "0.weight": (32, 64),
        "0.bias": (32,),
        "2.weight": (10, 32),
        "2.bias": (10,),
    }


def test_three_hidden_layers(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "h3"
    argv = ["train", *QUICK, "--hidden", "48", "32", "16", "--out", str(out)]
    code, stdout, _ = run_inprocess(argv, capsys)
    metrics = check_run(code, stdout, out, epochs=3)
    assert metrics["config"]["hidden"] == [48, 32, 16]
    shapes = {k: v.shape for k, v in read_weights(out).items()}
    assert shapes == {
        "0.weight": (48, 64),
        "0.bias": (48,),
        "2.weight": (32, 48),
        "2.bias": (32,),
        "4.weight": (16, 32),
        "4.bias": (16,),
        "6.weight": (10, 16),
        "6.bias": (10,),
    }


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--activation", "tanh"], {"activation": "tanh"}),
        (["--activation", "sigmoid"], {"activation": "sigmoid"}),
        (["--activation", "leaky_relu"], {"activation": "leaky_relu"}),
        (["--optimizer", "adam"], {"optimizer": "adam"}),
        (["--optimizer", "adamw"], {"optimizer": "adamw"}),
        (["--lr", "0.01"], {"lr": 0.01}),
        (["--batch-size", "64"], {"batch_size": 64}),
        (
            ["--optimizer", "adam", "--lr", "0.003", "--activation", "tanh", "--batch-size", "16"],
            {"optimizer": "adam", "lr": 0.003, "activation": "tanh", "batch_size": 16},
        ),
    ],
    ids=["tanh", "sigmoid", "leaky_relu", "adam", "adamw", "lr", "batch-size", "combined"],
)
def test_flags_run_and_are_echoed_in_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture, flags: list[str], expected: dict[str, Any]
) -> None:
    out = tmp_path / "run"
    code, stdout, _ = run_inprocess(["train", *QUICK, *flags, "--out", str(out)], capsys)
    metrics = check_run(code, stdout, out, epochs=3)
    for key, value in expected.items():
        assert metrics["config"][key] == value, key
    if "lr" in expected:
        assert metrics["lr"] == expected["lr"]  # the peak learning rate that was used
    # three epochs are enough to learn something on the digits whatever the flags
    assert metrics["test_accuracy"] > 0.5


def test_optimizers_give_different_weights(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    weights = {
        name: read_weights(_train(tmp_path, name, "--optimizer", name, capsys=capsys))
        for name in ("sgd", "adam", "adamw")
    }
    assert not np.array_equal(weights["sgd"]["0.weight"], weights["adam"]["0.weight"])
    assert not np.array_equal(weights["adam"]["0.weight"], weights["adamw"]["0.weight"])


# -- bad flags ----------------------------------------------------------------------------------
ONE = ["--epochs", "1", "--no-progress"]  # should a bad value get through, it trains briefly
BAD_ARGV = {
    "unknown-flag": ["train", *ONE, "--bogus"],
    "unknown-optimizer": ["train", *ONE, "--optimizer", "rmsprop"],
    "unknown-activation": ["train", *ONE, "--activation", "gelu"],
    "zero-epochs": ["train", "--no-progress", "--epochs", "0"],
    "non-integer-epochs": ["train", "--no-progress", "--epochs", "abc"],
    "fractional-epochs": ["train", "--no-progress", "--epochs", "2.5"],
    "negative-hidden": ["train", *ONE, "--hidden", "-5"],
    "zero-hidden": ["train", *ONE, "--hidden", "64", "0"],
    "negative-lr": ["train", *ONE, "--lr", "-1"],
    "zero-lr": ["train", *ONE, "--lr", "0"],
    "nan-lr": ["train", *ONE, "--lr", "nan"],
    "infinite-lr": ["train", *ONE, "--lr", "inf"],
    "negative-momentum": ["train", *ONE, "--momentum", "-0.5"],
    "zero-batch-size": ["train", *ONE, "--batch-size", "0"],
    "non-integer-seed": ["train", *ONE, "--seed", "x"],
    "negative-seed": ["train", *ONE, "--seed", "-1"],
    "no-command": [],
    "unknown-command": ["fly"],
}


@pytest.mark.parametrize("argv", list(BAD_ARGV.values()), ids=list(BAD_ARGV))
def test_bad_flags_exit_2_with_usage(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # should it train anyway, it writes here, not in the repository
    try:
        code, out, err = run_inprocess(argv, capsys)
    except Exception as exc:  # noqa: BLE001  (a traceback instead of a usage error)
        pytest.fail(f"{argv} raised {type(exc).__name__}: {exc} instead of exiting 2 with usage")
    assert code == 2, f"exit code {code} for {argv}; stdout:\n{out}\nstderr:\n{err}"
    assert "usage:" in err.lower()
    assert "error" in err.lower()
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["train", "--epochs", "0"], ["--epochs", "0"]),
        (["train", "--optimizer", "rmsprop"], ["--optimizer", "rmsprop", "sgd", "adam"]),
        (["train", "--lr", "-1"], ["--lr", "-1"]),
        (["train", "--hidden", "-5"], ["--hidden", "-5"]),
    ],
)
def test_bad_flag_errors_name_the_flag_and_value(
    argv: list[str], words: list[str], capsys: pytest.CaptureFixture
) -> None:
    code, _, err = run_inprocess(argv, capsys)
    assert code == 2
    for word in words:
        assert word in err, f"{word!r} not in the error for {argv}:\n{err}"


def test_bad_flag_exit_code_in_a_subprocess(tmp_path: Path) -> None:
    proc = run_module("train", "--optimizer", "rmsprop", cwd=tmp_path)
    assert proc.returncode == 2
    assert "usage:" in proc.stderr.lower()
    assert "rmsprop" in proc.stderr
    proc = run_module(cwd=tmp_path)
    assert proc.returncode == 2
    assert "usage:" in proc.stderr.lower()
    assert not (tmp_path / "runs").exists()


def test_help(capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run_inprocess(["--help"], capsys)
    assert code == 0
    assert "usage:" in out.lower()
    assert "train" in out

    code, out, _ = run_inprocess(["train", "--help"], capsys)
    assert code == 0
    assert "usage:" in out.lower()
    for flag in TRAIN_FLAGS:
        assert flag in out, f"{flag} missing from `train --help`"
    for choice in ("sgd", "adam", "adamw", "relu", "tanh"):
        assert choice in out


def test_help_in_a_subprocess(tmp_path: Path) -> None:
    proc = run_module("train", "--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for flag in TRAIN_FLAGS:
        assert flag in proc.stdout


def test_out_that_is_a_file_gives_a_clear_error(tmp_path: Path) -> None:
    """SPEC: errors explain themselves; a user's mistake is a message, not a traceback."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("in the way")
    proc = run_module("train", *QUICK, "--out", str(blocker), cwd=tmp_path)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr, proc.stderr
    assert str(blocker) in proc.stderr
    assert blocker.read_text() == "in the way"


# -- the outputs' format ------------------------------------------------------------------------
def _strict_json(text: str) -> Any:
    """json.loads that refuses NaN and Infinity (not JSON, RFC 8259; jq and browsers reject)."""

    def refuse(constant: str) -> None:
        raise ValueError(f"metrics.json holds {constant}, which is not valid JSON")

    return json.loads(text, parse_constant=refuse)


def test_metrics_json_is_strict_json(quick_runs: dict[str, Any]) -> None:
    _strict_json((quick_runs["inproc_out"] / "metrics.json").read_text())


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["--lr", "10"], ["diverged", "epoch 1", "smaller --lr"]),
        (["--lr", "1.0", "--epochs", "5"], ["stuck at chance", "after 5 epochs", "smaller --lr"]),
    ],
)
def test_a_failed_run_stops_and_overwrites_nothing(
    flags: list[str], words: list[str], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A run that diverges (the loss becomes NaN) or stays at chance stops with a message that
    says when and what to try, exits 1, and leaves the results of an earlier run alone
    (issue 22, item 6)."""
    out = tmp_path / "digits"
    out.mkdir()
    (out / "weights.safetensors").write_bytes(b"good weights")
    with np.errstate(all="ignore"):
        code, _, err = run_inprocess(["train", "--no-progress", *flags, "--out", str(out)], capsys)
    assert code == 1
    assert "Traceback" not in err
    for word in words:
        assert word in err, (word, err)
    assert (out / "weights.safetensors").read_bytes() == b"good weights"
    assert not (out / "metrics.json").exists()


def test_progress_bar_shows_loss_and_accuracy(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "bar"
    code, stdout, stderr = run_inprocess(["train", "--epochs", "2", "--out", str(out)], capsys)
    assert code == 0, stdout
    assert "loss=" in stderr and "acc=" in stderr, stderr
    assert "2/2" in stderr, stderr
    assert "test accuracy" in stdout.lower()


def test_progress_when_stderr_is_not_a_terminal_is_one_line_per_epoch(tmp_path: Path) -> None:
    """Issue: into a pipe or a CI log, tqdm wrote every update into one huge '\\r'-joined line."""
    out = tmp_path / "log"
    proc = subprocess.run(  # bytes: text mode would turn each "\r" into a newline
        [sys.executable, "-m", "tinygrad_edu", "train", "--epochs", "3", "--hidden", "16"]
        + ["--out", str(out)],
        capture_output=True,
        cwd=tmp_path,
        env=_env(),
        timeout=120,
    )
    stderr = proc.stderr.decode()
    assert proc.returncode == 0, stderr
    assert "\r" not in stderr, repr(stderr[:300])
    lines = stderr.split("\n")[:-1]
    assert len(lines) == 3, lines
    history = read_metrics(out)["history"]
    for epoch, line in enumerate(lines):
        assert line.startswith(f"epoch {epoch + 1}/3 "), line
        assert f"loss={history['train_loss'][epoch]:.4f}" in line, line
        assert f"acc={history['train_acc'][epoch]:.3f}" in line, line
        assert f"test_acc={history['test_acc'][epoch]:.3f}" in line, line


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_is_a_tqdm_bar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("tqdm")
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    argv = ["train", "--epochs", "2", "--hidden", "16", "--out", str(tmp_path / "tty")]
    assert cli.main(argv) == 0
    text = terminal.getvalue()
    assert "\r" in text and "training" in text and "2/2" in text, repr(text)
    assert "loss=" in text and "test_acc=" in text, repr(text)
    assert "epoch 1/2" not in text  # not the plain lines


# -- without matplotlib -------------------------------------------------------------------------
def test_train_without_matplotlib(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SPEC: without matplotlib `train` says how to get the plot and goes on."""
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` -> ImportError
    out = tmp_path / "noplot"
    code, stdout, _ = run_inprocess(["train", *QUICK, "--out", str(out)], capsys)
    assert code == 0, stdout
    assert (out / "weights.safetensors").is_file()
    assert (out / "metrics.json").is_file()
    assert not (out / "curves.png").exists()
    assert "matplotlib" in stdout
    assert "tinygrad-edu[plot]" in stdout
    assert "test accuracy" in stdout.lower()
    assert parse_confusion(stdout).sum() == N_TEST
    assert read_metrics(out)["n_test"] == N_TEST


# -- the console script -------------------------------------------------------------------------
def _console_script() -> str | None:
    beside = Path(sys.executable).parent / ("tinygrad-edu" + (".exe" if os.name == "nt" else ""))
    if beside.is_file():
        return str(beside)
    return shutil.which("tinygrad-edu")


def test_console_script(tmp_path: Path) -> None:
    script = _console_script()
    if script is None:
        pytest.skip("the tinygrad-edu console script is not installed (pip install -e .)")
    out = tmp_path / "script"
    proc = subprocess.run(
        [script, "train", "--epochs", "1", "--no-progress", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    metrics = check_run(proc.returncode, proc.stdout, out, epochs=1)
    assert metrics["config"]["epochs"] == 1


# -- issue 22, the command line: every flag combination works or exits 2 with a reason --------


def test_momentum_zero_is_plain_sgd(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "plain"
    code, stdout, err = run_inprocess(
        ["train", "--epochs", "1", "--momentum", "0", "--no-progress", "--out", str(out)], capsys
    )
    assert code == 0, err
    assert "Traceback" not in err
    assert read_metrics(out)["config"]["momentum"] == 0.0
    assert "1 epoch," in stdout  # and not "1 epochs"


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["train", "--momentum", "1.5"], ["--momentum", "1.5", "below 1"]),
        (["train", "--optimizer", "adam", "--momentum", "0"], ["--momentum", "sgd"]),
        (["train", "--epochs", "abc"], ["--epochs", "abc", "positive integer"]),
        (["train", "--lr", "fast"], ["--lr", "fast", "positive"]),
        (["train", "--seed", "x"], ["--seed", "x", "integer"]),
    ],
)
def test_bad_flag_combinations_exit_2_with_a_reason(
    argv: list[str], words: list[str], capsys: pytest.CaptureFixture
) -> None:
    code, _, err = run_inprocess(argv, capsys)
    assert code == 2
    assert "Traceback" not in err and "_positive_int" not in err and "_positive_float" not in err
    for word in words:
        assert word in err, f"{word!r} not in the error for {argv}:\n{err}"


def test_an_unknown_train_flag_prints_trains_usage(capsys: pytest.CaptureFixture) -> None:
    code, _, err = run_inprocess(["train", "--nonsense"], capsys)
    assert code == 2
    assert "usage: tinygrad-edu train" in err
    assert "--nonsense" in err


@pytest.mark.parametrize("where", ["under_a_file", "proc"])
def test_an_unwritable_out_is_refused_before_training(
    where: str, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    out = blocker / "run" if where == "under_a_file" else Path("/proc/nope")
    trained = []
    monkeypatch.setattr(commands, "train_digits", lambda *a, **k: trained.append(1))
    code, _, err = run_inprocess(["train", "--no-progress", "--out", str(out)], capsys)
    assert code == 2
    assert not trained  # refused before any training
    assert str(out) in err and "cannot write" in err and "Traceback" not in err


def test_ctrl_c_stops_cleanly_with_status_130(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(commands, "train_digits", interrupted)
    out = tmp_path / "run"
    code, _, err = run_inprocess(["train", "--no-progress", "--out", str(out)], capsys)
    assert code == 130
    assert "interrupted" in err and "nothing was written" in err and "Traceback" not in err
