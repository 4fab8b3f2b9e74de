"""Each optimizer is declared once (optimizers/declare.py): what derives from the declaration.

The constructors' signatures and the Keras 3 defaults, the state each algorithm keeps, what the
engine traces, the cross-parameter rules, and the "momentum" arrow of the app's payload, checked
on a constant slope against closed forms for every registered optimizer.
"""

from __future__ import annotations

import inspect

import jax.numpy as jnp
import numpy as np
import pytest

import optimizers
from optimizers import OPTIMIZERS
from trajectories import hyperparams, pieces

NAMES = list(OPTIMIZERS)


@pytest.mark.parametrize("name", NAMES)
def test_the_constructor_signature_is_the_declaration(name):
    info = OPTIMIZERS[name]
    params = inspect.signature(info.build).parameters
    declared = {h.name: h.default for h in (info.parent or info).hyperparams}
    assert {k: p.default for k, p in params.items() if k != "options"} == declared
    assert info.build.__name__ == (info.parent or info).name
    assert info.update_latex in (info.parent or info).build.__doc__ or info.parent is not None


# The optimizers whose defaults are Keras 3's (the others follow kerasy or objax: documented).
KERAS_DEFAULTS = ["SGD", "RMSprop", "Adam", "AdamW", "Nadam"]


@pytest.mark.parametrize("name", KERAS_DEFAULTS)
def test_declared_defaults_agree_with_keras(name):
    keras = pytest.importorskip("keras")
    theirs = inspect.signature(getattr(keras.optimizers, name)).parameters
    for h in OPTIMIZERS[name].hyperparams:
        assert theirs[h.name].default == h.default, h.name


def test_each_algorithm_keeps_only_its_own_state():
    w = jnp.ones(2)
    fields = {
        name: OPTIMIZERS[name].make().init(w).inner._fields
        for name in ("Adam", "AMSGrad", "AdamW", "Nadam", "Adamax")
    }
    assert fields["Adam"] == ("count", "mu", "nu")
    assert fields["AdamW"] == fields["Adam"]
    assert fields["Adamax"] == fields["Adam"]
    assert fields["AMSGrad"] == ("count", "mu", "nu", "nu_max")
    assert fields["Nadam"] == ("count", "mu", "nu", "u_product")


def test_adamw_is_adam_with_the_shared_decoupled_decay():
    w, g = jnp.array([1.0, -2.0]), jnp.array([0.3, 0.1])
    a = optimizers.AdamW(0.01, weight_decay=0.1)
    b = optimizers.Adam(0.01, weight_decay=0.1)
    ua, _ = a.update(g, a.init(w), w)
    ub, _ = b.update(g, b.init(w), w)
    np.testing.assert_array_equal(ua, ub)


@pytest.mark.parametrize("name", NAMES)
def test_recorded_state_fields_exist_in_the_state(name):
    info = OPTIMIZERS[name]
    state = info.make().init(jnp.ones(3)).inner
    for field, _ in info.state_symbols:
        assert field in state._fields


def test_engine_traces_what_the_declaration_says():
    info = OPTIMIZERS["Adam"]
    static, traced = hyperparams.split_hyperparams(
        info,
        {
            "learning_rate": 0.01,
            "amsgrad": True,
            "clipnorm": 2.0,  # set: its value is traced, that it is set is structural
            "global_clipnorm": None,
            "gradient_accumulation_steps": 2,
        },
    )
    assert set(traced) == {"learning_rate", "clipnorm"}
    assert dict(static) == {"amsgrad": True, "global_clipnorm": None,
                            "gradient_accumulation_steps": 2}  # fmt: skip
    assert all(o.traced == (o.kind == "float") for o in optimizers.OPTIONS)


def test_changing_clipnorm_never_recompiles():
    from trajectories import Experiment, OptimizerSpec, run

    def scene(c):
        spec = OptimizerSpec("Adam", {"learning_rate": 0.05, "clipnorm": c})
        return Experiment(surface="rosenbrock", optimizers=(spec,), steps=20)

    first = run(scene(1.0))
    before = pieces.compile_count()
    second = run(scene(0.01))
    assert pieces.compile_count() == before
    assert not np.allclose(first.position, second.position)


def test_cross_parameter_rules_live_in_the_declaration():
    wame = OPTIMIZERS["WAME"]
    with pytest.raises(ValueError, match=r"zeta_min=10\.0 must not exceed zeta_max=1\.0"):
        wame.check({"zeta_min": 10.0, "zeta_max": 1.0})
    wame.check({"zeta_min": 1.0, "zeta_max": 1.0})
    with pytest.raises(ValueError, match="only one of clipnorm"):
        OPTIMIZERS["SGD"].check({"clipnorm": 1.0, "clipvalue": 1.0})


def test_the_registry_lists_the_groups_in_the_pickers_order():
    """The picker shows the registry's order: each group's optimizers together, groups in
    ``GROUPS`` order."""
    order = [list(optimizers.GROUPS).index(info.group) for info in OPTIMIZERS.values()]
    assert order == sorted(order)


def test_every_group_and_live_slider_is_declared():
    for info in OPTIMIZERS.values():
        assert info.group in optimizers.GROUPS
        assert "learning_rate" in info.live
        for name in ("momentum", "beta_1", "rho", "alpha"):
            if any(h.name == name for h in info.hyperparams):
                assert name in info.live, (info.name, name)


# ---- the momentum arrow ----------------------------------------------------------------------
SLOPE = np.array([1.0, -2.0])  # the gradient of x - 2 y everywhere: downhill is (-1, +2)
LR = 0.01
MOMENTUM_ON = {"SGD": {"momentum": 0.9}, "RMSprop": {"momentum": 0.9}}


def _doc(name, steps=12, **hyperparams):
    from app import payload, surface_image
    from trajectories import Experiment, OptimizerSpec, run

    spec = OptimizerSpec(name, {"learning_rate": LR, **MOMENTUM_ON.get(name, {}), **hyperparams})
    e = Experiment(
        surface="custom",
        surface_params={"formula": "x - 2*y"},
        optimizers=(spec,),
        steps=steps,
        starts=((0.0, 0.0),),
        dtype="float64",
    )
    r = run(e)
    (o,) = payload.build(r, surface_image.render(r.surface))["optimizers"]
    return r, o


def _arrow(o, key):
    from app import payload

    return payload.decode(o["arrows"][key])[0].astype(np.float64)  # (R, 2), first start


# ADOPT's first update only measures v_0 = g_0^2 (optax.contrib.adopt): m_1 = 0, no move.
FIRST_STEP_STANDS_STILL = {"ADOPT"}


@pytest.mark.parametrize("name", NAMES)
def test_momentum_arrow_points_downhill_or_is_absent(name):
    info = OPTIMIZERS[name]
    _, o = _doc(name)
    if info.momentum is None:
        assert "momentum" not in o["arrows"]
        return
    arrow = _arrow(o, "momentum")
    if name in FIRST_STEP_STANDS_STILL:  # its momentum is still exactly 0 after the first step
        assert np.all(arrow[0] == 0), arrow
        arrow = arrow[1:]
    # every buffer on a constant slope pushes downhill, component by component
    assert np.all(arrow[:, 0] < 0) and np.all(arrow[:, 1] > 0), arrow


@pytest.mark.parametrize("name", ["SGD", "Momentum", "RMSprop", "LARS"])
def test_momentum_arrow_is_the_step_where_the_buffer_is_the_step(name):
    """For these (no Nesterov) the update is the buffer itself: the arrow equals the update
    arrow at every frame but the last (where no step follows)."""
    _, o = _doc(name)
    np.testing.assert_allclose(_arrow(o, "momentum")[:-1], _arrow(o, "update")[:-1], rtol=1e-5)


def test_rmsprop_arrow_is_built_from_b_not_v():
    r, o = _doc("RMSprop")
    b, v = r.state[0]["momentum"][0], r.state[0]["velocity"][0]
    np.testing.assert_allclose(_arrow(o, "momentum"), -b, rtol=1e-6)
    assert np.all(v > 0)  # -v would point the wrong way in x - 2y's y direction


@pytest.mark.parametrize(
    ("lr", "eta"),
    [
        (LR, lambda t: LR),
        (
            {
                "schedule": "exponential_decay",
                "initial_learning_rate": LR,
                "decay_steps": 4,
                "decay_rate": 0.5,
            },
            lambda t: LR * 0.5 ** (t / 4),
        ),
    ],
    ids=["constant", "schedule"],
)
def test_adam_arrow_is_minus_eta_m_in_closed_form(lr, eta):
    """On a constant gradient g, Adam's m_t = (1 - beta_1^t) g; the arrow is -eta_t m_t with
    eta_t the learning rate of that step (the schedule's value at the update count)."""
    r, o = _doc("Adam", learning_rate=lr)
    t = np.asarray(r.steps)  # the update count before the step recorded at each frame
    m = (1 - 0.9 ** np.minimum(t + 1, 12))[:, None] * SLOPE
    expected = -np.array([eta(k) for k in t])[:, None] * m
    np.testing.assert_allclose(_arrow(o, "momentum"), expected, rtol=1e-5)


def test_momentum_zero_means_no_momentum_arrow():
    _, o = _doc("SGD", momentum=0.0)
    assert "momentum" not in o["arrows"]
