"""Which per-weight rates the app may draw on a log scale: a declaration's ``realised_rate``
(``optimizers/declare.py``) must say where an optimizer's recorded rate is the signed realised
-update/gradient, and everywhere else the recorded rates are positive. Checked by running every
registered optimizer on the MLP (matrices and vectors) and on a 2-D surface (vectors only)."""

from __future__ import annotations

import numpy as np
import pytest

from app import payload
from optimizers import registry
from trajectories import Experiment, OptimizerSpec, run

pytestmark = pytest.mark.slow  # one compile per optimizer and surface

KINDS = sorted(registry.OPTIMIZERS)


def _runs(surface: str):
    specs = tuple(OptimizerSpec(k, {}) for k in KINDS)
    return [
        run(Experiment(surface=surface, optimizers=specs[i : i + 8], steps=15))
        for i in range(0, len(specs), 8)
    ]


@pytest.mark.parametrize("surface", ["mlp", "rosenbrock"])
def test_rates_off_the_log_scale_are_declared(surface):
    for r in _runs(surface):
        for a, spec in enumerate(r.experiment.optimizers):
            rates = r.lr[a][np.isfinite(r.lr[a])]
            if payload.lr_map(r, a) == "log":
                assert np.all(rates >= 0), (surface, spec.kind, rates.min())
            else:  # declared realised: both signs occur on these weights
                assert (rates < 0).any() and (rates > 0).any(), (surface, spec.kind)


def test_muon_is_realised_on_matrices_only():
    muon = registry.get("Muon")
    assert muon.realised_rate == "matrices"
    assert muon.rate_is_realised(((2, 16), (16,)))
    assert not muon.rate_is_realised(((2,),))
    # no diagonal rate: Muon's matrices (and L-BFGS's every weight, once it is registered)
    assert {k for k in KINDS if registry.get(k).realised_rate} <= {"Muon", "LBFGS"}
    with pytest.raises(ValueError, match="realised_rate"):
        muon.derive(name="Bad", realised_rate="diagonal")
