"""Shared pieces of every optimizer: the Optimizer type, hyperparameter checks, moments, and the
Keras options every optimizer accepts (clipping, decoupled weight decay, EMA, loss scaling,
gradient accumulation, learning-rate schedules).

An optimizer here is an optax ``GradientTransformation`` (``init``/``update`` pure functions)
built from a small *core*: the update rule proper, written once per algorithm. ``with_options``
wraps a core in the Keras 3 ``BaseOptimizer.apply`` order of operations (Keras 3
``keras/src/optimizers/base_optimizer.py``; docs/optimizer-equations.md, options) so every named
optimizer accepts the same options with the same semantics:

1. divide the gradients by ``loss_scale_factor``;
2. accumulate ``gradient_accumulation_steps`` gradients and update with their mean on every
   k-th call only (the core's own step count advances once per real update);
3. clip (``clipnorm`` per tensor, ``global_clipnorm``, or ``clipvalue``: at most one);
4. decoupled weight decay ``w <- w - lr * weight_decay * w``;
5. the core's update, seeing the decayed weights;
6. Keras EMA of the weights (``use_ema``), optionally overwriting them every
   ``ema_overwrite_frequency`` updates.

Every numeric hyperparameter may be a traced JAX value: nothing here branches on a value, so
building an optimizer inside ``jax.jit`` from traced hyperparameters never recompiles when the
values change. Structural choices (which options are set, ``amsgrad``, ``nesterov``, ...) are
Python values and are static; each hyperparameter's declaration says which it is
(``declare.HParam.traced``).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from optimizers import schedules

Params = Any
LearningRate = float | jax.Array | schedules.Schedule | Callable[[jax.Array], jax.Array]


# --------------------------------------------------------------------------------------------
# The Optimizer type
# --------------------------------------------------------------------------------------------
class Optimizer(optax.GradientTransformationExtraArgs):
    """An optax ``GradientTransformation`` that can also report per-weight learning rates.

    It is one with extra-arguments support (``update(grads, state, params, **extra)``, so
    ``optax.chain`` hands L-BFGS its ``value``, ``grad`` and ``value_fn``); an update rule that
    takes none ignores them, as optax's ``with_extra_args_support`` does.

    It is an ordinary ``GradientTransformation`` (``init``, ``update``) and works in
    ``optax.chain``, with ``optax.apply_updates`` and in any flax/optax training loop. In
    addition, ``learning_rates(state)`` returns, with the structure of the parameters, the
    effective learning rate each weight received in the most recent update (the optimizer's
    natural per-weight learning rate, documented in each constructor).
    """

    def __new__(
        cls,
        init: Callable,
        update: Callable,
        learning_rates: Callable[[Any], Params],
        name: str = "",
        hyperparams: Mapping[str, Any] | None = None,
    ):
        self = super().__new__(cls, init, update)
        self.learning_rates = learning_rates
        self.name = name
        self.hyperparams = dict(hyperparams or {})
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparams.items())
        return f"{self.name}({args})"


class Core(NamedTuple):
    """The update rule of one algorithm, before the shared options are applied.

    ``step(grads, state, params, lr) -> (updates, state)`` receives the learning rate of this
    step (a scalar: the schedule is evaluated by the wrapper), so algorithms that keep the
    learning rate inside their state (Keras momentum, LARS) are exact under schedules.
    ``learning_rates(state, lr)`` returns the per-weight learning rate of the last step.
    """

    init: Callable[[Params], Any]
    step: Callable[[Params, Any, Params, jax.Array], tuple[Params, Any]]
    learning_rates: Callable[[Any, jax.Array], Params]


# --------------------------------------------------------------------------------------------
# Hyperparameter checks
# --------------------------------------------------------------------------------------------
def is_traced(value: Any) -> bool:
    """True for a value only known inside a jax transformation (no check possible)."""
    return isinstance(value, jax.core.Tracer)


def _interval(low, high, low_open, high_open) -> str:
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    left = "(" if low_open or low is None else "["
    right = ")" if high_open or high is None else "]"
    return f"{left}{lo}, {hi}{right}"


def check_range(
    owner: str,
    name: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
) -> Any:
    """Validate one numeric hyperparameter; return it unchanged.

    Raises ``ValueError`` naming the optimizer, the argument, the value and the allowed range.
    Traced values cannot be checked and pass through (the caller checked them before tracing).
    """
    if is_traced(value):
        return value
    allowed = _interval(low, high, low_open, high_open)
    if integer:
        ok_type = isinstance(value, int) and not isinstance(value, bool)
        what = "an integer"
    else:
        ok_type = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok_type and isinstance(value, jax.Array | jnp.ndarray) and jnp.ndim(value) == 0:
            ok_type = jnp.issubdtype(jnp.asarray(value).dtype, jnp.number)
        what = "a number"
    if not ok_type:
        raise ValueError(
            f"{owner}: {name}={value!r} must be {what} in {allowed}, got {type(value).__name__}"
        )
    try:
        v = float(value)
    except OverflowError:  # an integer too large for a float: certainly out of range
        raise ValueError(
            f"{owner}: {name}={str(value)[:20]}... is out of range {allowed}"
        ) from None
    bad = (
        math.isnan(v)
        or (low is not None and (v < low or (low_open and v == low)))
        or (high is not None and (v > high or (high_open and v == high)))
        or math.isinf(v)  # no hyperparameter is meaningful at infinity
    )
    if bad:
        raise ValueError(f"{owner}: {name}={value!r} is out of range {allowed}")
    return value


def check_choice(owner: str, name: str, value: Any, choices: tuple) -> Any:
    if value not in choices:
        raise ValueError(
            f"{owner}: {name}={value!r} must be one of {', '.join(map(repr, choices))}"
        )
    return value


def check_flag(owner: str, name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{owner}: {name}={value!r} must be True or False (it is structural)")
    return value


# --------------------------------------------------------------------------------------------
# Shared numerics
# --------------------------------------------------------------------------------------------
def cast(value: Any, like: jax.Array) -> jax.Array:
    """A hyperparameter in the dtype of the array it multiplies (keeps float32 float32)."""
    return jnp.asarray(value, dtype=like.dtype)


def zeros_like(params: Params) -> Params:
    return jax.tree.map(jnp.zeros_like, params)


def moment(previous: jax.Array, value: jax.Array, decay: Any) -> jax.Array:
    """Exponential moving average ``decay * previous + (1 - decay) * value`` (m, v, theta...)."""
    d = cast(decay, previous)
    return d * previous + (1 - d) * value


def step_power(decay: Any, count: jax.Array, like: jax.Array) -> jax.Array:
    """``decay ** t`` in the dtype of ``like``: the bias-correction term ``1 - decay**t``."""
    return jnp.power(cast(decay, like), count.astype(like.dtype))


def full_like_tree(params: Params, value: jax.Array) -> Params:
    """One scalar spread over every weight (SGD's and Momentum's learning rate)."""
    return jax.tree.map(lambda p: jnp.full_like(p, value), params)


def map_leaves(fn: Callable[..., tuple], like: Params, *trees: Any) -> tuple[Params, ...]:
    """Apply ``fn(leaf, *state_leaves) -> (a, b, ...)`` per leaf; return the trees ``(A, B, ...)``.

    Each algorithm writes its rule once for one array; this lifts it to any pytree of params.
    """
    treedef = jax.tree.structure(like)
    columns = [treedef.flatten_up_to(t) for t in (like, *trees)]
    rows = [fn(*leaves) for leaves in zip(*columns, strict=True)]
    return tuple(treedef.unflatten(list(col)) for col in zip(*rows, strict=True)) if rows else ()


def tree_where(condition: jax.Array, on_true: Any, on_false: Any) -> Any:
    return jax.tree.map(lambda a, b: jnp.where(condition, a, b), on_true, on_false)


def _clip_by_norm(g: jax.Array, c: Any) -> jax.Array:
    """Keras ``clipnorm``, per tensor: ``g * c / max(|g|, c)``."""
    c = cast(c, g)
    return g * c / jnp.maximum(jnp.sqrt(jnp.sum(g * g)), c)


# --------------------------------------------------------------------------------------------
# The options every optimizer accepts (declared in optimizers/declare.py, applied here)
# --------------------------------------------------------------------------------------------
class OptionsState(NamedTuple):
    """State of an optimizer with its options.

    ``count`` is the number of ``update`` calls (Keras ``_iterations``); the core keeps its own
    count of real updates, which differs only under gradient accumulation.
    """

    count: jax.Array
    learning_rate: jax.Array  # the learning rate of the last update (for learning_rates())
    inner: Any
    accumulator: Any  # gradient sum since the last real update; () when unused
    ema: Any  # Keras EMA of the weights; () when unused


def float_dtype(params: Params):
    """The dtype of the first leaf (float32 for an empty tree): scalars of the state use it."""
    leaves = jax.tree.leaves(params)
    return leaves[0].dtype if leaves else jnp.float32


def with_options(
    core: Core,
    learning_rate: LearningRate,
    options: Any,
    *,
    name: str,
    hyperparams: Mapping[str, Any],
) -> Optimizer:
    """Wrap a core update rule in the Keras options; see the module docstring for the order.

    ``options`` is a ``declare.Options`` (validated by ``declare.check_options``).
    """
    schedule = schedules.as_schedule(learning_rate)
    o = options
    k = o.gradient_accumulation_steps
    step_params = inspect.signature(core.step).parameters.values()
    takes_extra = any(p.kind == inspect.Parameter.VAR_KEYWORD for p in step_params)

    def init(params):
        return OptionsState(
            count=jnp.zeros([], jnp.int32),
            learning_rate=jnp.zeros([], float_dtype(params)),
            inner=core.init(params),
            accumulator=zeros_like(params) if k is not None else (),
            ema=jax.tree.map(jnp.copy, params) if o.use_ema else (),
        )

    def update(grads, state, params=None, **extra):
        """``extra``: optax's extra arguments (``value``, ``grad``, ``value_fn``), passed on
        to a core that takes them (L-BFGS's line search); the others take none."""
        needs_params = o.weight_decay is not None or o.use_ema
        if params is None and needs_params:
            raise ValueError(f"{name}: update() needs params for weight decay or EMA")
        it = state.count
        lr = jnp.asarray(schedule(it), float_dtype(grads))
        g = grads
        if o.loss_scale_factor is not None:
            g = jax.tree.map(lambda x: x / cast(o.loss_scale_factor, x), g)
        if k is not None:
            is_update = (it + 1) % k == 0
            summed = jax.tree.map(jnp.add, g, state.accumulator)
            g = tree_where(is_update, jax.tree.map(lambda s: s / cast(k, s), summed), g)
            accumulator = tree_where(is_update, zeros_like(summed), summed)
        else:
            accumulator = ()
        g = _clip(g, o)
        if o.weight_decay is not None:
            decay = jax.tree.map(lambda p: -p * cast(o.weight_decay, p) * cast(lr, p), params)
            params_seen = jax.tree.map(jnp.add, params, decay)
        else:
            decay, params_seen = None, params
        updates, inner = core.step(
            g, state.inner, params_seen, lr, **(extra if takes_extra else {})
        )
        if decay is not None:
            updates = jax.tree.map(jnp.add, updates, decay)
        if k is not None:
            updates = tree_where(is_update, updates, zeros_like(updates))
            inner = tree_where(is_update, inner, state.inner)
        ema = state.ema
        if o.use_ema:
            iterations = it // k if k is not None else it
            new_params = jax.tree.map(jnp.add, params, updates)
            ema = jax.tree.map(
                lambda a, w: moment(a, w, jnp.where(iterations == 0, 0.0, o.ema_momentum)),
                state.ema,
                new_params,
            )
            if o.ema_overwrite_frequency is not None:
                overwrite = (iterations + 1) % o.ema_overwrite_frequency == 0
                updates = tree_where(overwrite, jax.tree.map(jnp.subtract, ema, params), updates)
        return updates, OptionsState(it + 1, lr, inner, accumulator, ema)

    def learning_rates(state):
        return core.learning_rates(state.inner, state.learning_rate)

    return Optimizer(init, update, learning_rates, name=name, hyperparams=hyperparams)


def _clip(g: Params, o: Any) -> Params:
    if o.clipnorm is not None:
        return jax.tree.map(lambda x: _clip_by_norm(x, o.clipnorm), g)
    if o.global_clipnorm is not None:
        return optax.clip_by_global_norm(o.global_clipnorm).update(g, optax.EmptyState())[0]
    if o.clipvalue is not None:
        return optax.clip(o.clipvalue).update(g, optax.EmptyState())[0]
    return g
