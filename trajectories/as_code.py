"""An experiment as a short, runnable Python script ("Copy as Python").

:func:`script` writes a script that imports this package's ``surfaces`` and ``optimizers``,
builds the experiment's surface (by name, with its parameters, gradient noise included) and
each enabled optimizer instance (its declaration's constructor with every hyperparameter
written out), and runs each from each start point with a plain ``jax.lax.scan`` over the
optax-style ``init``/``update``. It reproduces the engine (``trajectories/kernel.py``) exactly:

* the step's key is ``fold_in(PRNGKey(seed), t)`` for step ``t`` (common random numbers), so
  stochastic surfaces (minibatches, gradient noise) draw the engine's very samples;
* a path stops, frozen at its last finite point, when a step leaves the divergence box
  (``kernel.divergence_box``) or meets a non-finite loss, gradient or weight;
* an optimizer that evaluates the loss itself (L-BFGS, ``OptimizerInfo.takes_loss``) gets
  the loss, the gradient and the loss as a function of the weights, as the engine gives them.

Run as ``python script.py`` it prints each path's final position and loss; ``--json`` prints
every iterate (what ``tests/test_as_code.py`` compares with the engine to 1e-10 in float64),
``--plot`` draws the paths over the loss with matplotlib (imported only there). Optimizers
made in Python in this process (``optimizers.from_optax``) have no declaration a script could
name, so :func:`script` refuses them. The engine needs no Streamlit: labels come from the
caller (``names``).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

import optimizers
from trajectories import kernel
from trajectories.errors import FieldError
from trajectories.experiment import Experiment


def _literal(value: Any) -> str:
    """A hyperparameter or surface value as Python source (``repr`` round-trips floats)."""
    if isinstance(value, float) and not math.isfinite(value):
        return f'float("{value}")'
    if isinstance(value, Mapping):
        items = ", ".join(f"{k!r}: {_literal(v)}" for k, v in value.items())
        return "{" + items + "}"
    return repr(value)


def _kwargs(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={_literal(v)}" for k, v in values.items())


def _optimizer_source(kind: str, values: Mapping[str, Any]) -> str:
    """``optimizers.get(KIND).make(...)`` with every value; whole-number options as ints (as
    the engine passes them, ``hyperparams.split_hyperparams``), a schedule through
    ``schedules.from_config``."""
    info = optimizers.get(kind)
    if kind not in optimizers.OPTIMIZERS:
        raise FieldError(
            "optimizers",
            f"optimizer {kind!r} was made in Python (optimizers.from_optax): a script cannot name"
            " it; remove it to copy the scene as code",
        )
    kinds = {h.name: h.kind for h in (*info.hyperparams, *optimizers.OPTIONS)}
    parts = []
    for name, value in values.items():
        if isinstance(value, Mapping):
            parts.append(f"{name}=schedules.from_config({_literal(dict(value))})")
        elif kinds.get(name) == "int" and isinstance(value, float):
            parts.append(f"{name}={int(value)!r}")
        else:
            parts.append(f"{name}={_literal(value)}")
    head = f"optimizers.get({info.name!r}).make("
    if len(head) + sum(len(p) + 2 for p in parts) < 70:
        return head + ", ".join(parts) + ")"
    lines = textwrap.wrap(", ".join(parts), 80, break_long_words=False, break_on_hyphens=False)
    return head + "\n" + "".join(f"            {line}\n" for line in lines) + "        )"


def _starts_source(e: Experiment, dim: int) -> str:
    """The start points: as given (a 2-D view point on a high-dimensional surface lifted, as
    ``Experiment.start_points`` does), or the surface's first default start."""
    if not e.starts:
        return "np.asarray(SURFACE.starts[:1], np.float64)"
    rows = []
    for p in e.starts:
        point = "[" + ", ".join(repr(float(v)) for v in p) + "]"
        lifted = len(p) == 2 and dim != 2
        rows.append(f"    SURFACE.lift(np.array({point}))," if lifted else f"    {point},")
    return "np.array([\n" + "\n".join(rows) + "\n])"


def script(experiment: Experiment, names: Sequence[str] | None = None) -> str:
    """The experiment as a runnable script (see the module's docstring); ``names`` label the
    enabled instances (default: their kinds). A ``FieldError`` for what a script cannot hold."""
    e = experiment
    surface = e.validate()
    active = [spec for _, spec in e.active()]
    labels = list(names) if names is not None else [s.name or s.kind for s in active]
    if len(labels) != len(active):
        raise ValueError(f"names: {len(labels)} names for {len(active)} enabled optimizers")
    opt_lines = [
        f"    (\n        {label!r},\n        {_optimizer_source(spec.kind, spec.values())},\n    ),"
        for label, spec in zip(labels, active, strict=True)
    ]
    lo, hi = kernel.divergence_box(surface.bounds)
    takes_loss = any(spec.info.takes_loss for spec in active)
    surface_call = f"surfaces.get({e.surface!r}{', ' if e.surface_params else ''}"
    surface_call += _kwargs(e.surface_params) + ")"
    noise = f"SURFACE = surfaces.with_gradient_noise(SURFACE, {e.noise!r})\n" if e.noise > 0 else ""
    x64 = 'jax.config.update("jax_enable_x64", True)  # float64, as the scene\n'
    return _TEMPLATE.format(
        title=f"{e.surface}, {e.steps} steps, seed {e.seed}, {e.dtype}",
        x64=x64 if e.dtype == "float64" else "",
        dtype=e.dtype,
        surface=surface_call,
        noise=noise,
        optimizers="\n".join(opt_lines),
        starts=_starts_source(e, surface.dim),
        steps=e.steps,
        seed=e.seed,
        lo=_array(lo),
        hi=_array(hi),
        extra=_LOSS_ARGS if takes_loss else _NO_LOSS_ARGS,
    )


def _array(x: np.ndarray) -> str:
    values = np.asarray(x, np.float64).ravel().tolist()
    if len(set(values)) == 1:
        return f"np.full({len(values)}, {values[0]!r})"
    return "np.array([" + ", ".join(repr(v) for v in values) + "])"


_NO_LOSS_ARGS = """
def loss_args(w, loss, g):
    return {}  # none of these optimizers evaluates the loss itself
"""

_LOSS_ARGS = '''
def loss_args(w, loss, g):
    """optax's extra arguments for an optimizer that evaluates the loss itself (a line search):
    the step's loss as a function of the weights, f(v) + <e, v - w> with e the step's gradient
    noise held fixed (e = 0 on a deterministic surface), so it sees the gradient it steps along."""
    if SURFACE.grad_estimate_fn is None:

        def value_fn(v):
            return SURFACE.fn(SURFACE.ravel(v), SURFACE.theta)

    else:
        noise = jax.lax.stop_gradient(g - jax.grad(SURFACE.fn)(w, SURFACE.theta))

        def value_fn(v):
            v = SURFACE.ravel(v)
            return SURFACE.fn(v, SURFACE.theta) + jnp.vdot(noise, v - w)

    return {"value": loss, "grad": SURFACE.unravel(g), "value_fn": value_fn}
'''

_TEMPLATE = '''"""Optimizer paths on {title}.

Generated by the optimizer visualizer ("Copy as Python").

Needs this project's packages (surfaces, optimizers) importable, and JAX. It reproduces the
app's engine exactly: step t uses the key fold_in(PRNGKey(SEED), t) (the same minibatches and
gradient noise for every optimizer), and a path stops, frozen, once a step leaves the
divergence box or meets a non-finite value.

    python optimizer_run.py          # final position and loss of every path
    python optimizer_run.py --json   # every iterate, as JSON
    python optimizer_run.py --plot   # the paths over the loss (needs matplotlib)
"""

import argparse
import json

import jax
import jax.numpy as jnp
import numpy as np

import optimizers
import surfaces
from optimizers import schedules  # noqa: F401  (for learning-rate schedules)

{x64}
DTYPE = jnp.dtype("{dtype}")
SURFACE = {surface}
{noise}OPTIMIZERS = [
{optimizers}
]
STARTS = {starts}
N_STEPS = {steps}
SEED = {seed}
# A step that leaves this box (the domain widened by its width on every side) stops the path.
LO, HI = jnp.asarray({lo}, DTYPE), jnp.asarray({hi}, DTYPE)

{extra}

def value_and_grad(w, key):
    """The loss and the step's gradient (a minibatch or noisy one on a stochastic surface)."""
    if SURFACE.grad_estimate_fn is None:
        return jax.value_and_grad(SURFACE.fn)(w, SURFACE.theta)
    return SURFACE.fn(w, SURFACE.theta), SURFACE.grad_estimate_fn(w, SURFACE.theta, key)


def run(opt, w0):
    """One path: the N_STEPS + 1 positions (the start first) and the loss at each."""
    key0 = jax.random.PRNGKey(SEED)
    w0 = jnp.asarray(w0, DTYPE)

    def step(carry, t):
        w, state, alive = carry
        loss, g = value_and_grad(w, jax.random.fold_in(key0, t))
        extra = loss_args(w, loss, g)
        u, state = opt.update(SURFACE.unravel(g), state, SURFACE.unravel(w), **extra)
        new = w + SURFACE.ravel(u)
        ok = jnp.all((new >= LO) & (new <= HI) & jnp.isfinite(new) & jnp.isfinite(g))
        alive = alive & ok & jnp.isfinite(loss)
        w = jnp.where(alive, new, w)
        return (w, state, alive), (w, loss)

    carry = (w0, opt.init(SURFACE.unravel(w0)), jnp.bool_(True))
    steps = jnp.arange(N_STEPS, dtype=jnp.int32)
    (w, _, _), (path, losses) = jax.lax.scan(step, carry, steps)
    positions = jnp.concatenate([w0[None], path])
    losses = jnp.concatenate([losses, SURFACE.fn(w, SURFACE.theta)[None]])
    return np.asarray(positions), np.asarray(losses)


def plot(paths):
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise SystemExit("--plot needs matplotlib (pip install matplotlib)") from None

    fig, ax = plt.subplots(figsize=(6, 5))
    if SURFACE.dim == 2:
        (x0, x1), (y0, y1) = SURFACE.window
        xs, ys = np.meshgrid(np.linspace(x0, x1, 200), np.linspace(y0, y1, 200))
        grid = jnp.stack([xs.ravel(), ys.ravel()], axis=1).astype(DTYPE)
        z = np.asarray(jax.vmap(lambda w: SURFACE.fn(w, SURFACE.theta))(grid)).reshape(xs.shape)
        ax.contourf(xs, ys, np.log1p(z - z.min()) if SURFACE.log_scale else z, levels=40)
    for name, s, positions, _ in paths:
        xy = np.array([SURFACE.project(p) for p in positions])
        ax.plot(xy[:, 0], xy[:, 1], marker=".", markersize=2, label=f"{{name}} (start {{s}})")
    ax.legend()
    plt.show()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print every iterate as JSON")
    parser.add_argument("--plot", action="store_true", help="plot the paths (matplotlib)")
    args = parser.parse_args()
    paths = [(name, s, *run(opt, w0)) for name, opt in OPTIMIZERS for s, w0 in enumerate(STARTS)]
    if args.json:
        rows = [
            {{"optimizer": n, "start": s, "positions": p.tolist(), "losses": f.tolist()}}
            for n, s, p, f in paths
        ]
        print(json.dumps(rows))
    else:
        for name, s, positions, losses in paths:
            final, loss = positions[-1].tolist(), float(losses[-1])
            print(f"{{name}} start {{s}}: final position {{final}}, loss {{loss!r}}")
    if args.plot:
        plot(paths)
'''
