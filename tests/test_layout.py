"""Which optimizer groups step a layered surface's weights as one flat vector
(trajectories/layout.py), and that doing so gives the paths the tensors give."""

from __future__ import annotations

import numpy as np
import pytest

import optimizers
import surfaces
from trajectories import Experiment, OptimizerSpec, kernel, layout, pieces, run
from trajectories.hyperparams import split_hyperparams

MLP_LAYERS = tuple(surfaces.get("mlp").layers)


def group(kind: str, **values) -> kernel.Group:
    info = optimizers.get(kind)
    static, traced = split_hyperparams(info, values)
    return kernel.Group(info.name, static, tuple(sorted(traced)))


def flat(g: kernel.Group, layers=MLP_LAYERS) -> bool:
    return layout.elementwise(g, layers, np.dtype(np.float32))


@pytest.mark.parametrize(
    "g",
    [group("SGD"), group("Momentum"), group("Adam", use_ema=True), group("Nadam"),
     group("RMSprop", weight_decay=0.01), group("Lion")],
    ids=lambda g: g.kind,
)  # fmt: skip
def test_rules_that_treat_every_weight_alike_step_the_flat_vector(g):
    assert flat(g)


@pytest.mark.parametrize(
    "g",
    [
        group("LARS"),  # a trust ratio per tensor
        group("Lamb"),
        group("Adafactor"),  # second moments factored by a matrix's rows and columns
        group("Muon"),  # orthogonalises each matrix
        group("NovoGrad"),  # a second moment per tensor
        group("LBFGS"),  # inner products over all weights, and a line search
        group("SGD", clipnorm=1.0),  # a norm per tensor
        group("Adam", global_clipnorm=1.0),  # a norm over all weights
    ],
    ids=lambda g: f"{g.kind}{dict(g.static).get('clipnorm') or ''}",
)
def test_rules_that_look_at_a_tensor_as_a_whole_keep_the_tensors(g):
    assert not flat(g)


def test_a_surface_without_layers_has_nothing_to_flatten():
    assert not flat(group("SGD"), layers=())


def test_flat_and_tensor_steps_give_the_same_paths(monkeypatch):
    """The MLP with rules on the flat vector against the same rules on the tensors: the same
    paths up to floating-point rounding (XLA fuses the two programs differently), and the
    same recorded state."""
    specs = (
        OptimizerSpec("Momentum", {"learning_rate": 0.05}),
        OptimizerSpec("Adam", {"learning_rate": 0.01, "use_ema": True}),
        OptimizerSpec("Nadam", {"learning_rate": 0.01}),
    )
    # 25 steps: Nadam normalises the weights whose gradient is near zero (dead units) to steps
    # of about the learning rate whatever the gradient's rounding, so a last-bit difference
    # there grows without bound later (by step 40 on one AMD EPYC machine, where 60 steps failed)
    e = Experiment("mlp", optimizers=specs, steps=25)
    pieces.clear_compiled()
    flat_run = run(e)
    monkeypatch.setattr(layout, "elementwise", lambda *a: False)
    pieces.clear_compiled()
    tensor_run = run(e)
    pieces.clear_compiled()
    for name in ("position", "loss", "grad", "update", "lr"):
        np.testing.assert_allclose(
            getattr(flat_run, name), getattr(tensor_run, name), rtol=1e-4, atol=1e-6, err_msg=name
        )
    assert len(flat_run.state) == len(tensor_run.state) == len(specs)
    for mine, theirs in zip(flat_run.state, tensor_run.state, strict=True):
        assert mine.keys() == theirs.keys() and mine
        for name in mine:
            np.testing.assert_allclose(mine[name], theirs[name], rtol=1e-4, atol=1e-6, err_msg=name)
