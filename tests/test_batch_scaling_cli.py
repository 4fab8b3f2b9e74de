"""``python -m app.cli batch-scaling``: CSV columns, refused input."""

import csv
import math

import pytest

from app import cli


def test_writes_the_four_columns(tmp_path, capsys):
    out = tmp_path / "scaling.csv"
    argv = [
        "batch-scaling",
        "--surface",
        "noisy_quadratic:dim=4,condition=10",
        "--optimizer",
        "sgd",
        "--optimizer",
        "adam+ema",
        "--batch-sizes",
        "2,64",
        "--target",
        "0.05",
        "--out",
        str(out),
    ]
    assert cli.main(argv) == 0
    with out.open() as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    assert reader.fieldnames == ["optimizer", "batch_size", "learning_rate", "steps_to_target"]
    assert [(r["optimizer"], float(r["batch_size"])) for r in rows] == [
        ("sgd", 2.0),
        ("sgd", 64.0),
        ("adam+ema", 2.0),
        ("adam+ema", 64.0),
    ]
    sgd = {float(r["batch_size"]): r for r in rows if r["optimizer"] == "sgd"}
    # a larger batch (less noise) reaches the target in fewer steps, at a larger rate
    assert float(sgd[64.0]["steps_to_target"]) < float(sgd[2.0]["steps_to_target"])
    assert float(sgd[64.0]["learning_rate"]) > float(sgd[2.0]["learning_rate"])
    assert all(math.isfinite(float(r["learning_rate"])) for r in rows)
    captured = capsys.readouterr()
    assert "wrote" in captured.out and "batch scaling [" in captured.err  # the progress bar


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--batch-sizes", "1,two"], "batch size 'two' is not a number"),
        (["--batch-sizes", "0.5"], "must be from 1 to 1e6"),
        (["--optimizer", "lion"], "invalid choice: 'lion'"),
        (["--target", "-1"], "must be a positive number"),
        (["--surface", "rosenbrock"], "noisy quadratic model, not 'rosenbrock'"),
        (["--surface", "noisy_quadratic:batch_size=4"], "--batch-sizes"),
        (["--surface", "noisy_quadratic:dim=1"], "dim"),
        (["--out", "x.png"], "cannot write x.png"),
    ],
)
def test_bad_input_is_one_line(extra, message, capsys):
    assert cli.main(["batch-scaling", "--no-progress", *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1, err
