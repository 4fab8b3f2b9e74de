"""L-BFGS: a quasi-Newton direction from the last m steps, scaled by a zoom line search
(``optax.lbfgs``).

Unlike the other families this one needs the loss itself: ``update(grads, state, params,
value=..., grad=..., value_fn=...)`` (optax's extra-arguments protocol), where ``value_fn``
evaluates the loss during the line search; the engine passes them
(``trajectories/kernel.py``). The shared Keras options are not offered
(``OptimizerInfo.shared_options``): clipping or decaying the gradient would change the direction
the line search measures its slope along, and no library defines that combination.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from optimizers import core, family
from optimizers.declare import (
    AT_LEAST_ONE,
    HParam,
    OptimizerInfo,
    StateField,
    flag,
    learning_rate,
)


class LBFGSState(NamedTuple):
    count: jax.Array
    params: Any  # w_{k-1}, the weights at the previous call
    grads: Any  # g_{k-1}, the gradient at the previous call
    diff_params: Any  # s_i = w_{i+1} - w_i, the last m of them (memory_size x parameter shape)
    diff_grads: Any  # y_i = g_{i+1} - g_i, the last m of them (memory_size x parameter shape)
    rhos: jax.Array  # rho_i = 1 / <y_i, s_i> (0 where undefined), shape (memory_size,)
    linesearch: Any  # optax's ScaleByZoomLinesearchState (its step size, value, grad, info); ()
    realised: Any  # -update / gradient of the last call, signed (0 where g = 0)
    step_size: Any  # alpha_k of the last line search, one scalar per tensor (the same for all)
    evaluations: Any  # loss evaluations of the last line search, one scalar per tensor
    total_evaluations: jax.Array  # loss and gradient evaluations so far, 1 + the search's a call


def _two_loop(g, s_mem, y_mem, rhos, gamma, newest):
    """The L-BFGS two-loop recursion H_k g, memory read oldest to newest from ``newest + 1``."""
    m = rhos.shape[0]
    order = (newest + jnp.arange(m)) % m

    def right(q, i):
        s_i, y_i = jax.tree.map(lambda x: x[i], (s_mem, y_mem))
        a = rhos[i] * optax.tree.real(optax.tree.vdot(s_i, q))
        return optax.tree.cast_like(optax.tree.add_scale(q, -a, y_i), q), a

    q, alphas = jax.lax.scan(right, g, order, reverse=True)
    r = optax.tree.scale(gamma, q)

    def left(r, i_a):
        i, a = i_a
        s_i, y_i = jax.tree.map(lambda x: x[i], (s_mem, y_mem))
        b = rhos[i] * optax.tree.real(optax.tree.vdot(y_i, r))
        return optax.tree.cast_like(optax.tree.add_scale(r, a - b, s_i), r), b

    return jax.lax.scan(left, r, (order, alphas))[0]


def _like_weights(search_state, params):
    """optax's line-search state with its float diagnostics (decrease and curvature errors,
    made in JAX's default float) in the weights' dtype: float32 stays float32."""
    dtype = core.float_dtype(params)
    return jax.tree.map(
        lambda x: x.astype(dtype) if jnp.issubdtype(x.dtype, jnp.floating) else x, search_state
    )


def _per_tensor(value, like):
    return jax.tree.map(lambda p: jnp.asarray(value, p.dtype), like)


def lbfgs_core(memory_size, scale_init_precond, linesearch, max_linesearch_steps) -> core.Core:
    search = (
        optax.scale_by_zoom_linesearch(
            max_linesearch_steps=max_linesearch_steps, initial_guess_strategy="one"
        )
        if linesearch == "zoom"
        else None
    )

    def init(params):
        stacked = jax.tree.map(lambda p: jnp.zeros((memory_size, *p.shape), p.dtype), params)
        z = core.zeros_like(params)
        return LBFGSState(
            count=family.count(),
            params=z,
            grads=z,
            diff_params=stacked,
            diff_grads=stacked,
            # optax keeps rho in JAX's default float (float64 under x64, even for float32
            # weights); here in the weights' dtype, so float32 stays float32 (float64: the same)
            rhos=jnp.zeros(memory_size, core.float_dtype(params)),
            linesearch=_like_weights(search.init(params), params) if search is not None else (),
            realised=z,
            step_size=_per_tensor(1.0, params),
            evaluations=_per_tensor(0.0, params),
            total_evaluations=jnp.zeros([], jnp.int32),
        )

    def step(grads, state, params, lr, *, value=None, grad=None, value_fn=None, **extra):
        if search is not None and (value is None or value_fn is None):
            raise ValueError(
                "LBFGS: update() needs value= and value_fn= for its line search "
                "(optax's extra-arguments protocol)"
            )
        k = state.count
        newest, previous = k % memory_size, (k - 1) % memory_size
        s = optax.tree.sub(params, state.params)
        y = optax.tree.sub(grads, state.grads)
        sy = optax.tree.real(optax.tree.vdot(y, s))
        rho = jnp.where(sy == 0.0, 0.0, 1.0 / sy)
        s, y, rho = jax.tree.map(lambda x: jnp.where(k > 0, x, jnp.zeros_like(x)), (s, y, rho))
        s_mem, y_mem, rhos = jax.tree.map(
            lambda mem, x: mem.at[previous].set(x),
            (state.diff_params, state.diff_grads, state.rhos),
            (s, y, rho),
        )
        if scale_init_precond:
            yy = optax.tree.norm(y, squared=True)
            gamma = jnp.where(yy > 0.0, optax.tree.real(optax.tree.vdot(y, s)) / yy, 1.0)
            first = jnp.minimum(1.0, 1.0 / optax.tree.norm(jax.lax.stop_gradient(grads)))
            gamma = jnp.where(k > 0, gamma, first)
        else:
            gamma = 1.0
        direction = _two_loop(grads, s_mem, y_mem, rhos, gamma, newest)
        # optax's scale_by_learning_rate (its learning_rate=None is scale(-1), the same as 1.0)
        direction = optax.tree.scale(-jnp.asarray(lr, core.float_dtype(params)), direction)
        if search is not None:
            updates, ls = search.update(
                direction,
                state.linesearch,
                params,
                value=value,
                grad=grads if grad is None else grad,
                value_fn=value_fn,
                **extra,
            )
            ls = _like_weights(ls, params)
            alpha, n_evals = ls.learning_rate, ls.info.num_linesearch_steps
        else:
            updates, ls = direction, ()
            alpha, n_evals = 1.0, 0
        realised = family.realised_ratio(updates, grads)
        return updates, LBFGSState(
            k + 1,
            params,
            grads,
            s_mem,
            y_mem,
            rhos,
            ls,
            realised,
            _per_tensor(alpha, params),
            _per_tensor(n_evals, params),
            state.total_evaluations + 1 + jnp.asarray(n_evals, jnp.int32),
        )

    def learning_rates(state, lr):
        return state.realised

    return core.Core(init, step, learning_rates)


def _inner(state):
    return state.inner if isinstance(state, core.OptionsState) else state


def line_search_step(state) -> jax.Array:
    """The step size alpha_k the last zoom line search chose (1 without a line search)."""
    return jax.tree.leaves(_inner(state).step_size)[0]


def function_evaluations(state) -> jax.Array:
    """Loss evaluations of the last line search (optax's ``num_linesearch_steps``)."""
    return jax.tree.leaves(_inner(state).evaluations)[0]


def total_evaluations(state) -> jax.Array:
    """Loss-and-gradient evaluations so far: per call, the one at the current weights (passed
    in as ``value`` and ``grad``) and the line search's."""
    return _inner(state).total_evaluations


# ---- declaration ------------------------------------------------------------------------------
def _count(name: str, default: int, high: int, help: str) -> HParam:
    return HParam(
        name=name, default=default, low=1, high=high, kind="int", valid=AT_LEAST_ONE, help=help
    )


LBFGS_INFO = OptimizerInfo(
    name="LBFGS",
    title="L-BFGS",
    rule=lbfgs_core,
    summary="Quasi-Newton: a curvature model from the last m steps, scaled by a line search.",
    group="second-order",
    reference="Liu & Nocedal, On the limited memory BFGS method for large scale optimization, "
    "Mathematical Programming 45 (1989); Nocedal & Wright, Numerical Optimization (2006), "
    "algorithms 3.5-3.6 (zoom) and 7.4-7.5 (L-BFGS)",
    matches="optax lbfgs (zoom line search)",
    update_latex=r"d_k=-\eta\,H_k g_k,\quad w_{k+1}=w_k+\alpha_k d_k",
    learning_rate_latex=r"-\Delta w_k / g_k\ \text{(realised, signed)}",
    hyperparams=(
        learning_rate(1.0, low=1e-3, high=2.0),
        _count("memory_size", 10, 50, "m: how many past steps the curvature model remembers."),
        flag(
            "scale_init_precond",
            True,
            "H^0 = gamma_k I with gamma_k = <y, s> / |y|^2 (the first step: min(1, 1/|g_0|)).",
        ),
        HParam(
            name="linesearch",
            default="zoom",
            kind="choice",
            choices=("zoom", "none"),
            can_be_off=True,
            help="zoom: optax's strong-Wolfe line search; none: step by eta * d_k itself.",
        ),
        _count("max_linesearch_steps", 20, 50, "At most this many loss evaluations per search."),
    ),
    state=(
        StateField(name="step_size", symbol=r"\alpha_k", shape="per_tensor"),
        StateField(name="evaluations", symbol=r"n_k", shape="per_tensor"),
    ),
    # no diagonal rate: the recorded one is the signed realised -update/gradient (diverging map)
    realised_rate="all",
    shared_options=False,
    takes_loss=True,
    evaluations=total_evaluations,
    defaults_from="optax 0.2.8 (its learning_rate=None is a factor 1: the default here is 1.0)",
    notes="H_k g_k is the two-loop recursion over the last m pairs s_i = w_{i+1} - w_i, "
    "y_i = g_{i+1} - g_i from H_k^0 = gamma_k I; alpha_k comes from the zoom line search "
    "(strong Wolfe conditions, first guess 1). The update needs the loss: "
    "``update(grads, state, params, value=f(w), grad=g, value_fn=f)`` (optax's "
    "extra-arguments protocol); the engine passes them (on a stochastic surface, the loss "
    "plus the step's gradient noise held fixed, trajectories/kernel.py). No per-weight "
    "learning rate is diagonal here: the one shown is the realised ratio -update/gradient, "
    "signed (for a diverging colour map). The inside view shows alpha_k, the line search's step "
    "size, and n_k, its loss evaluations; each step costs 1 + n_k evaluations of the loss "
    "and gradient, which sweeps and the fair comparison report beside the steps. The memory "
    "(m copies of the weights) is not shaped like the parameters. ``linesearch=None`` is "
    "accepted for ``'none'`` (optax's spelling). The shared Keras options are not offered.",
    example="    >>> opt = optimizers.LBFGS(memory_size=5)\n"
    "    >>> # updates, state = opt.update(g, state, w, value=f(w), grad=g, value_fn=f)",
)

LBFGS = LBFGS_INFO.build
