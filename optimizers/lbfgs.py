"""L-BFGS: a quasi-Newton direction from the last m steps, scaled by a zoom line search
(``optax.lbfgs``).

Unlike the other families this one needs the loss itself: ``update(grads, state, params,
value=..., grad=..., value_fn=...)`` (optax's extra-arguments protocol), where ``value_fn``
evaluates the loss during the line search. It therefore does not go through
``core.with_options`` (whose ``update`` passes no extra arguments): the shared Keras options
are not offered.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from optimizers import core, declare, family


class LBFGSState(NamedTuple):
    count: jax.Array
    params: Any  # w_{k-1}, the weights at the previous call
    grads: Any  # g_{k-1}, the gradient at the previous call
    diff_params: Any  # s_i = w_{i+1} - w_i, the last m of them (memory_size x parameter shape)
    diff_grads: Any  # y_i = g_{i+1} - g_i, the last m of them (memory_size x parameter shape)
    rhos: jax.Array  # rho_i = 1 / <y_i, s_i> (0 where undefined), shape (memory_size,)
    learning_rate: jax.Array  # eta_k, the schedule's value (1 without one)
    linesearch: Any  # optax's ScaleByZoomLinesearchState (its step size, value, grad, info); ()
    realised: Any  # -update / gradient of the last call, signed (0 where g = 0)


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


def LBFGS(
    learning_rate=None,
    memory_size=10,
    scale_init_precond=True,
    linesearch="zoom",
    max_linesearch_steps=20,
) -> core.Optimizer:
    r"""L-BFGS (Nocedal, 1980; Liu & Nocedal, 1989) with optax's zoom line search.

    Symbols: $m$ ``memory_size``; $s_i = w_{i+1}-w_i$, $y_i = g_{i+1}-g_i$,
    $\rho_i = 1/\langle y_i, s_i\rangle$ over the last $m$ steps; $\eta$ ``learning_rate``
    (``None``: 1).

    $$q \leftarrow g_k;\ \text{for } i = k-1 \dots k-m:\ a_i = \rho_i\langle s_i, q\rangle,\
      q \leftarrow q - a_i y_i;\qquad r \leftarrow \gamma_k q$$
    $$\text{for } i = k-m \dots k-1:\ b_i = \rho_i\langle y_i, r\rangle,\
      r \leftarrow r + (a_i - b_i)s_i;\qquad d_k = -\eta\, r$$
    $$w_{k+1} = w_k + \alpha_k d_k,\quad \alpha_k \text{ from the zoom line search (strong Wolfe
      conditions, first guess 1)}$$

    $\gamma_k = \langle y_{k-1}, s_{k-1}\rangle/\lVert y_{k-1}\rVert^2$ with
    ``scale_init_precond`` (at the first step $\min(1, 1/\lVert g_0\rVert)$), else 1.
    ``linesearch=None`` takes the step $d_k$ itself. No per-weight learning rate is diagonal
    here: :meth:`learning_rates` gives the realised ratio $-\Delta w/g$, signed, for a diverging
    colour map. The memory is not shaped like the parameters ($m$ copies of them).
    :func:`line_search_step` and :func:`function_evaluations` read the last line search.
    Defaults are optax's. Matches ``optax.lbfgs`` exactly: the two-loop recursion is written
    here, the line search is optax's own ``scale_by_zoom_linesearch`` (with optax's
    ``max_linesearch_steps=20`` and ``initial_guess_strategy="one"``).

    Example:
        >>> opt = LBFGS()
        >>> # updates, state = opt.update(g, state, w, value=f(w), grad=g, value_fn=f)

    Reference: Liu & Nocedal, "On the limited memory BFGS method for large scale
    optimization", Mathematical Programming 45 (1989); Nocedal & Wright, "Numerical
    Optimization" (2006), algorithms 3.5-3.6 (zoom) and 7.4-7.5 (L-BFGS).
    """
    name = "LBFGS"
    if learning_rate is not None:
        declare.learning_rate(1.0).validate(name, learning_rate)
    core.check_range(name, "memory_size", memory_size, 1, None, integer=True)
    core.check_flag(name, "scale_init_precond", scale_init_precond)
    core.check_choice(name, "linesearch", linesearch, ("zoom", None))
    core.check_range(name, "max_linesearch_steps", max_linesearch_steps, 1, None, integer=True)
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
            rhos=jnp.zeros(memory_size),
            learning_rate=jnp.ones([], optax.tree.dtype(params, "lowest")),
            linesearch=search.init(params) if search is not None else (),
            realised=z,
        )

    def update(grads, state, params, *, value=None, grad=None, value_fn=None, **extra):
        if search is not None and (value is None or value_fn is None):
            raise ValueError(
                f"{name}: update() needs value= and value_fn= for its line search "
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
        if learning_rate is None:
            lr = jnp.ones([], state.learning_rate.dtype)
        else:  # optax's scale_by_learning_rate, its count being ours
            lr = jnp.asarray(
                learning_rate(k) if callable(learning_rate) else learning_rate,
                state.learning_rate.dtype,
            )
        direction = optax.tree.scale(-lr, direction)
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
        else:
            updates, ls = direction, ()
        realised = jax.tree.map(
            lambda u, g: jnp.where(g == 0, 0.0, -u / jnp.where(g == 0, 1.0, g)).astype(g.dtype),
            updates,
            grads,
        )
        return updates, LBFGSState(k + 1, params, grads, s_mem, y_mem, rhos, lr, ls, realised)

    def learning_rates(state):
        return state.realised

    hyperparams = dict(
        learning_rate=learning_rate,
        memory_size=memory_size,
        scale_init_precond=scale_init_precond,
        linesearch=linesearch,
        max_linesearch_steps=max_linesearch_steps,
    )
    return core.Optimizer(init, update, learning_rates, name=name, hyperparams=hyperparams)


def line_search_step(state: LBFGSState) -> jax.Array:
    """The step size alpha_k the last zoom line search chose (1 without a line search)."""
    if state.linesearch == ():
        return jnp.ones([], state.learning_rate.dtype)
    return state.linesearch.learning_rate


def function_evaluations(state: LBFGSState) -> jax.Array:
    """Loss evaluations of the last line search (optax's ``num_linesearch_steps``)."""
    if state.linesearch == ():
        return jnp.zeros([], jnp.int32)
    return state.linesearch.info.num_linesearch_steps
