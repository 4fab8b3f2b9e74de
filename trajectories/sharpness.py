r"""Sharpness along the paths: the loss Hessian's largest eigenvalue at every recorded step.

*Sharpness* is the algebraically largest eigenvalue :math:`\lambda_1(H)` of the Hessian
:math:`H = \nabla^2 L(w)` of the (full-batch, noise-free) loss at a recorded point. It is the
largest, not the largest in magnitude: at a saddle or on a ridge it is negative, and a path
there has no curvature to be stable against. It is found by Lanczos iteration on
Hessian-vector products (``jax.jvp`` of ``jax.grad``: the Hessian is never formed), with full
reorthogonalisation, :data:`LANCZOS_STEPS` products per point (fewer when the surface has fewer
weights: on a surface of ``dim <= LANCZOS_STEPS`` weights the Krylov space is the whole space
and the answer is exact up to rounding, so the 2-D surfaces need no special path). The
computation is jitted once per surface and vmapped over every instance, start point and record.

*Preconditioned sharpness* (Cohen et al. 2022, "Adaptive gradient methods at the edge of
stability") is :math:`\lambda_1(P^{-1} H)` for an optimizer whose step is
:math:`w_{t+1} = w_t - \eta\, P_t^{-1} m_t` with a diagonal preconditioner :math:`P_t`. It is
read off the per-weight learning rate the engine records (``Result.lr``: the factor the update
applies, for Adam to :math:`\hat m_t = m_t / (1 - \beta_1^t)`): the step is then
:math:`\mathrm{lr}_t \odot m_t / (1-\beta_1^t)`, so :math:`P_t^{-1} = \mathrm{diag}(\mathrm{lr}_t)
/ (\eta_t (1-\beta_1^t))` with :math:`\eta_t` the base learning rate (the schedule's value) of
that step. For Adam this is the paper's :math:`P_t = (1-\beta_1^t)\,\mathrm{diag}(\sqrt{\hat
v_t} + \varepsilon)`. :math:`P^{-1}H` is similar to the symmetric :math:`D^{1/2} H D^{1/2}`
(:math:`D = P^{-1}`), whose eigenvalues Lanczos finds the same way.

*Stability thresholds*, one constant :math:`c` per optimizer family, drawn at :math:`c/\eta_t`
(:data:`STABILITY`). They live here, in a small table keyed by the optimizer's kind, rather than
in the optimizers' declarations: a threshold is a result of a linear-stability analysis of the
update on a quadratic (a statement about the optimizer and a Hessian, which the optimizers
package knows nothing of), only a few families have one in the literature, and the table keeps
the derivations and their sources side by side (``tests/test_sharpness.py`` checks each against
the optimizer's own code on a quadratic). On a quadratic with curvature :math:`\lambda`:

* gradient descent is stable while :math:`\eta\lambda < 2` (Cohen et al. 2021, "Gradient descent
  on neural networks typically occurs at the edge of stability"): :math:`c = 2`;
* heavy-ball momentum (Keras SGD ``v = mu v - eta g``; optax/objax ``m = g + mu m``) iterates
  :math:`z^2 - (1 + \mu - \eta\lambda) z + \mu`, whose root reaches -1 at
  :math:`\eta\lambda = 2 + 2\mu`: :math:`c = 2 + 2\mu`;
* Nesterov momentum (either form) iterates :math:`z^2 - (1+\mu)(1-\eta\lambda) z +
  \mu(1-\eta\lambda)`: :math:`c = (2 + 2\mu)/(1 + 2\mu)` (Cohen et al. 2021, appendix);
* Adam's step, with the preconditioner frozen, is momentum of the exponential-average form
  :math:`m = \beta_1 m + (1-\beta_1) g` on :math:`P^{-1}H`, stable while
  :math:`\lambda_1(P^{-1}H) < (2 + 2\beta_1)/(\eta(1 - \beta_1))` (38/eta for beta_1 = 0.9,
  Cohen et al. 2022); RMSprop is its :math:`\beta_1 = 0` case (2/eta), with heavy-ball momentum
  :math:`(2+2\mu)/\eta`;
* Adagrad, Adamax and Nadam have a diagonal preconditioner (their preconditioned sharpness is
  given) but no threshold in the literature; Rprop, WAME, Lion and every other family have
  neither: no line is drawn for them.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import threading
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from trajectories.drawn import learning_rates
from trajectories.experiment import Computation, OptimizerSpec
from trajectories.run import Result

LANCZOS_STEPS = 40  # Hessian-vector products per point (the whole space when dim is smaller)
BATCH_FLOATS = 2**22  # Lanczos bases held at once: points per batch x steps x weights
SHARPNESS_SEED = 0  # the start vectors' key: the same numbers on every run


# ---- the stability table ---------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Stability:
    """What the edge-of-stability analysis says about one optimizer kind.

    ``constant(values)``: the threshold times the learning rate (``None``: no threshold known
    for these values). ``preconditioned``: the threshold bounds the preconditioned sharpness
    (the optimizer has a diagonal preconditioner, read from its per-weight learning rate), not
    the sharpness. ``bias_correction``: the decay rate whose power debiases the momentum
    inside the recorded rate (Adam's beta_1), or None. ``source``: where the number comes from.
    """

    constant: Callable[[Mapping[str, Any]], float | None]
    preconditioned: bool = False
    bias_correction: str | None = None
    source: str = ""


def _momentum(values: Mapping[str, Any]) -> float | None:
    mu = float(values.get("momentum", 0.0))
    if values.get("nesterov"):
        return (2 + 2 * mu) / (1 + 2 * mu)
    return 2 + 2 * mu


def _adam(values: Mapping[str, Any]) -> float | None:
    b1 = float(values["beta_1"])
    return (2 + 2 * b1) / (1 - b1)


def _none(values: Mapping[str, Any]) -> None:
    return None


_GD = (
    "Cohen et al. 2021, Gradient descent on neural networks typically occurs at the edge of "
    "stability"
)
_ADAPTIVE = "Cohen et al. 2022, Adaptive gradient methods at the edge of stability"
_ADAM_RULE = Stability(_adam, preconditioned=True, bias_correction="beta_1", source=_ADAPTIVE)

STABILITY: dict[str, Stability] = {
    "SGD": Stability(_momentum, source=_GD),
    "Momentum": Stability(_momentum, source=_GD),
    "Nesterov": Stability(_momentum, source=_GD),
    "Adam": _ADAM_RULE,
    "AdamW": _ADAM_RULE,  # Adam's step (the decoupled decay, a uniform shrink, is left out)
    "AMSGrad": _ADAM_RULE,
    "RMSprop": Stability(_momentum, preconditioned=True, source=_ADAPTIVE),
    "Adagrad": Stability(_none, preconditioned=True, source="no threshold in the literature"),
    "Adamax": Stability(
        _none, preconditioned=True, bias_correction="beta_1", source="no threshold known"
    ),
    "Nadam": Stability(_none, preconditioned=True, source="no threshold known"),
}


def stability(kind: str) -> Stability | None:
    """The table's entry for an optimizer kind (None: sharpness only, no threshold)."""
    return STABILITY.get(kind)


def threshold_constant(spec: OptimizerSpec) -> float | None:
    """``c`` of the threshold ``c / eta`` for this instance's values (None: none known)."""
    rule = stability(spec.kind)
    # a preset's fixed flags (Nesterov's nesterov=True) are no hyperparameters of the instance
    return None if rule is None else rule.constant({**spec.values(), **spec.info.fixed})


def bound_of(spec: OptimizerSpec) -> str:
    """What this instance's threshold bounds: ``"sharpness"``, ``"preconditioned_sharpness"``
    or ``""`` (no threshold known)."""
    if threshold_constant(spec) is None:
        return ""
    return "preconditioned_sharpness" if stability(spec.kind).preconditioned else "sharpness"


# ---- Lanczos on Hessian-vector products --------------------------------------------------------
def lanczos_top(matvec: Callable[[jax.Array], jax.Array], v0: jax.Array, key, steps: int):
    """The algebraically largest eigenvalue of the symmetric operator ``matvec``.

    ``steps`` Lanczos steps from ``v0`` with full reorthogonalisation (twice: Kahan's "twice
    is enough"), so the Ritz values stay those of a true orthonormal basis. A breakdown (the
    Krylov space closed early: ``v0`` lay in an invariant subspace) continues from a random
    vector orthogonal to the basis with a zero coupling, so the tridiagonal matrix splits into
    blocks whose eigenvalues are all eigenvalues of the operator: none is made up.
    """
    dim = v0.shape[0]
    dtype = v0.dtype
    eps = jnp.finfo(dtype).eps

    def orthogonalise(V, x):
        for _ in range(2):
            x = x - V.T @ (V @ x)
        return x

    def body(j, carry):
        V, alpha, beta, v, scale = carry
        V = V.at[j].set(v)
        w = matvec(v)
        a = jnp.vdot(v, w)
        w = orthogonalise(V, w - a * v)
        b = jnp.linalg.norm(w)
        scale = jnp.maximum(scale, jnp.abs(a) + b)
        r = orthogonalise(V, jax.random.normal(jax.random.fold_in(key, j), (dim,), dtype))
        broke = b <= 64 * eps * scale
        v_next = jnp.where(broke, r / jnp.linalg.norm(r), w / jnp.where(broke, 1, b))
        alpha = alpha.at[j].set(a)
        beta = beta.at[j].set(jnp.where(broke, 0, b))
        return V, alpha, beta, v_next, scale

    V = jnp.zeros((steps, dim), dtype)
    alpha = jnp.zeros(steps, dtype)
    beta = jnp.zeros(steps, dtype)
    start = (V, alpha, beta, v0 / jnp.linalg.norm(v0), jnp.zeros([], dtype))
    _, alpha, beta, _, _ = jax.lax.fori_loop(0, steps, body, start)
    off = beta[:-1]
    T = jnp.diag(alpha) + jnp.diag(off, 1) + jnp.diag(off, -1)
    return jnp.linalg.eigvalsh(T)[-1]


def hessian_vector_product(fn, theta):
    """``v -> H(w) v`` for the loss ``fn(w, theta)``: forward-over-reverse (``jvp`` of ``grad``)."""
    grad = jax.grad(fn)

    def hvp(w, v):
        return jax.jvp(lambda x: grad(x, theta), (w,), (v,))[1]

    return hvp


@functools.lru_cache(maxsize=64)
def _compiled(fn, steps: int, batch: int):
    """One jitted program per loss and Lanczos length: points and scales are traced."""

    def one(theta, w, s, key):
        hvp = hessian_vector_product(fn, theta)
        k0, k1 = jax.random.split(key)
        v0 = jax.random.normal(k0, w.shape, w.dtype)
        value = lanczos_top(lambda v: s * hvp(w, s * v), v0, k1, steps)
        ok = jnp.all(jnp.isfinite(w)) & jnp.all(jnp.isfinite(s))
        return jnp.where(ok, value, jnp.nan)

    def many(theta, points, scales, key):
        keys = jax.random.split(key, points.shape[0])
        return jax.lax.map(lambda args: one(theta, *args), (points, scales, keys), batch_size=batch)

    return jax.jit(many)


def top_eigenvalues(
    fn,
    theta,
    points: np.ndarray,
    scales: np.ndarray | None = None,
    lanczos_steps: int | None = None,
) -> np.ndarray:
    """``lambda_1(S H S)`` at each row of ``points`` ``(n, dim)``, ``S = diag(scales row)``
    (ones: the plain sharpness). Rows with non-finite values give NaN."""
    points = np.asarray(points)
    n, dim = points.shape
    if n == 0:
        return np.zeros(0)
    scales = np.ones_like(points) if scales is None else np.asarray(scales, points.dtype)
    k = min(dim, LANCZOS_STEPS if lanczos_steps is None else lanczos_steps)
    size = 1 << max(0, (n - 1).bit_length())  # padded to a power of two: few compiles
    pad = size - n
    points = np.concatenate([points, np.repeat(points[:1], pad, axis=0)])
    scales = np.concatenate([scales, np.repeat(scales[:1], pad, axis=0)])
    batch = int(max(1, min(size, BATCH_FLOATS // (k * dim))))
    key = jax.random.PRNGKey(SHARPNESS_SEED)
    out = _compiled(fn, k, batch)(theta, points, scales, key)
    return np.asarray(out, np.float64)[:n]


# ---- along a run ---------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Sharpness:
    """Sharpness along a run, indexed like ``Result.loss``: ``[instance, start, record]``.

    ``preconditioned`` is NaN for the instances without a diagonal preconditioner (see
    :data:`STABILITY`). ``threshold[a]`` is instance ``a``'s stability threshold at each record
    (``c / eta_t``), NaN where none is known; it bounds ``preconditioned`` where
    ``bounds[a] == "preconditioned_sharpness"`` and ``sharpness`` where it is ``"sharpness"``
    (``""``: no threshold). At the last record no step follows: its rates are the last step's.
    """

    sharpness: np.ndarray  # (I, S, R)
    preconditioned: np.ndarray  # (I, S, R)
    threshold: np.ndarray  # (I, R)
    bounds: tuple[str, ...]  # per instance: "sharpness", "preconditioned_sharpness" or ""

    def has_preconditioned(self, a: int) -> bool:
        return bool(np.any(np.isfinite(self.preconditioned[a])))


def preconditioner_scales(result: Result, a: int) -> np.ndarray | None:
    """``sqrt(diag(P^-1))`` at each record of instance ``a`` ``(S, R, dim)``, or None."""
    spec = result.experiment.optimizers[a]
    rule = stability(spec.kind)
    if rule is None or not rule.preconditioned:
        return None
    eta = learning_rates(spec, result.steps)  # (R,)
    factor = 1.0 / eta
    if rule.bias_correction is not None:
        beta = float(spec.values()[rule.bias_correction])
        factor = factor / (1.0 - beta ** (result.steps.astype(np.float64) + 1))
    d = np.asarray(result.lr, np.float64)[a] * factor[None, :, None]
    with np.errstate(invalid="ignore"):
        return np.sqrt(np.where(d >= 0, d, np.nan))


def compute(result: Result, lanczos_steps: int | None = None) -> Sharpness:
    """Sharpness, preconditioned sharpness and thresholds at every record of ``result``."""
    surface = result.surface
    n_inst, S, R, dim = result.position.shape
    dtype = result.position.dtype
    points = [result.position.reshape(-1, dim)]
    scales = [np.ones((n_inst * S * R, dim), dtype)]
    preconditioned_rows = []
    for a in range(n_inst):
        s = preconditioner_scales(result, a)
        if s is not None:
            points.append(result.position[a].reshape(-1, dim))
            scales.append(s.reshape(-1, dim).astype(dtype))
            preconditioned_rows.append(a)
    values = top_eigenvalues(
        surface.fn,
        surface.theta,
        np.concatenate(points),
        np.concatenate(scales),
        lanczos_steps,
    )
    sharp = values[: n_inst * S * R].reshape(n_inst, S, R)
    pre = np.full((n_inst, S, R), np.nan)
    rest = values[n_inst * S * R :].reshape(-1, S, R)
    for k, a in enumerate(preconditioned_rows):
        pre[a] = rest[k]
    threshold = np.full((n_inst, R), np.nan)
    specs = result.experiment.optimizers
    for a, spec in enumerate(specs):
        c = threshold_constant(spec)
        if c is not None:
            threshold[a] = c / learning_rates(spec, result.steps)
    return Sharpness(sharp, pre, threshold, tuple(bound_of(spec) for spec in specs))


# One result per computation (runs are deterministic), so a computation keys its sharpness.
_CACHE: collections.OrderedDict[str, Sharpness] = collections.OrderedDict()
_LOCK = threading.Lock()
MAX_CACHED = 32


def of(result: Result) -> Sharpness:
    """:func:`compute`, cached by the run's computation (the app asks on every rerun)."""
    key = result.computation.key if isinstance(result.computation, Computation) else None
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    value = compute(result)
    if key is not None:
        with _LOCK:
            _CACHE[key] = value
            while len(_CACHE) > MAX_CACHED:
                _CACHE.popitem(last=False)
    return value
