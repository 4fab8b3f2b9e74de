"""Exponential moving average of the weights, as objax ``ExponentialMovingAverage``."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from optimizers import core


class EmaState(NamedTuple):
    count: jax.Array
    ema: Any  # e_t (biased towards 0 at first when debias is off, as objax)
    debias_factor: jax.Array  # 1 - (1 - eps) momentum^t with debias, 1 without


def ExponentialMovingAverage(
    momentum=0.999, debias=False, epsilon=1e-6
) -> optax.GradientTransformation:
    r"""An EMA of the weights that leaves the updates untouched (objax's, as a transform).

    Symbols: $\mu$ ``momentum``, $\epsilon$ ``epsilon``.

    $$e_0 = 0,\qquad e_t = e_{t-1} + (1-\mu)(w_t - e_{t-1}),\qquad
      \hat w_t = \frac{e_t}{1 - (1-\epsilon)\mu^t}\ \text{(debias)}\ \text{or}\ e_t$$

    where $w_t$ are the weights after update $t$. Chain it after an optimizer and read the
    averaged weights with :func:`averaged_weights`; the trajectory itself is unchanged (it is a
    read-out). Defaults from the objax ``ExponentialMovingAverage`` documentation (momentum 0.999,
    debias off, eps 1e-6).
    For Keras-style averaging (no debias, $a_1 = w_1$, optional overwrite), use the
    ``use_ema`` option of any optimizer instead.

    Example:
        >>> import jax.numpy as jnp, optax, optimizers
        >>> opt = optax.chain(optimizers.Adam(0.1),
        ...                   optimizers.ExponentialMovingAverage(0.9, debias=True))
        >>> w = jnp.ones(2); state = opt.init(w)
        >>> updates, state = opt.update(2 * w, state, w)
        >>> averaged = optimizers.averaged_weights(state)

    Reference: Polyak & Juditsky, "Acceleration of Stochastic Approximation by Averaging" (1992).
    """
    owner = "ExponentialMovingAverage"
    core.check_range(owner, "momentum", momentum, 0.0, 1.0)
    core.check_flag(owner, "debias", debias)
    core.check_range(owner, "epsilon", epsilon, 0.0, None)

    def init(params):
        dtype = core.float_dtype(params)
        return EmaState(jnp.zeros([], jnp.int32), core.zeros_like(params), jnp.ones([], dtype))

    def update(updates, state, params=None):
        if params is None:
            raise ValueError(f"{owner}: update() needs params (it averages the weights)")
        new_params = optax.apply_updates(params, updates)
        ema = jax.tree.map(
            lambda e, w: e + (1 - core.cast(momentum, e)) * (w - e), state.ema, new_params
        )
        t = state.count + 1
        factor = state.debias_factor
        if debias:
            m = core.cast(momentum, factor)
            factor = 1 - (1 - core.cast(epsilon, factor)) * jnp.power(m, t.astype(factor.dtype))
        return updates, EmaState(t, ema, factor)

    return optax.GradientTransformation(init, update)


def averaged_weights(state: Any) -> Any:
    """The averaged weights held anywhere in an optimizer state (objax EMA or Keras use_ema).

    Searches nested states (``optax.chain`` gives tuples); raises ``ValueError`` if none.
    """
    if isinstance(state, EmaState):
        return jax.tree.map(lambda e: e / state.debias_factor.astype(e.dtype), state.ema)
    if isinstance(state, core.OptionsState) and not (
        isinstance(state.ema, tuple) and not state.ema
    ):
        return state.ema
    if isinstance(state, tuple):
        for s in state:
            try:
                return averaged_weights(s)
            except ValueError:
                continue
    raise ValueError(
        "no weight average in this optimizer state: chain ExponentialMovingAverage() or "
        "build the optimizer with use_ema=True"
    )
