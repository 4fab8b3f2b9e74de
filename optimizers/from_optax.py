"""Any optax optimizer, from Python: ``from_optax(optax.lion, name="optax-lion",
learning_rate=1e-3, b1=0.9)``.

The result is a declaration (:class:`~optimizers.declare.OptimizerInfo`) like every built-in
optimizer's, known to :func:`optimizers.get` in this process only, so ``OptimizerSpec(name)``
runs it in ``trajectories.run`` and the sweeps. Its hyperparameters are the arguments given:
floats are passed through ``optax.inject_hyperparams`` and are traced in the engine (sweeping
one never recompiles); integers, flags, strings and ``None`` are structural (one compile per
value). No per-weight learning rate is known for an arbitrary transform: the one shown is the
realised ratio ``-update / gradient``, signed.

A run that uses one is Python-only: its code lives in this process, so a link cannot name it
(``app/share.py`` refuses), a snapshot records it as such and ``trajectories.snapshot.replay``
refuses it (no code is ever read from a link or a file).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

import optax

from optimizers import core, family, registry
from optimizers.declare import ANY_NUMBER, POSITIVE, HParam, OptimizerInfo


class FromOptaxState(NamedTuple):
    optax: Any  # optax.inject_hyperparams's state: the transform's own state and its floats
    realised: Any  # -update / gradient of the last call, signed (0 where g = 0)


def _hparam(name: str, value: Any) -> HParam:
    if isinstance(value, bool):
        return HParam(name=name, default=value, kind="bool", help="structural (a flag)")
    if isinstance(value, int):
        return HParam(name=name, default=value, kind="int", help="structural (an integer)")
    if isinstance(value, float):
        # the range a sweep or the fair comparison searches: [0, 0.999] for a decay rate
        # (0.5 <= value < 1), else a decade either side of a positive value
        rate = 0.5 <= value < 1
        low, high = (
            (0.0, 0.999) if rate else (value / 10, value * 10) if value > 0 else (None, None)
        )
        return HParam(
            name=name,
            default=value,
            low=low,
            high=high,
            scale="linear" if rate else "log",
            valid=POSITIVE if name == "learning_rate" else ANY_NUMBER,
            live=name == "learning_rate",
            help="traced through optax.inject_hyperparams",
        )
    return HParam(
        name=name, default=value, kind="choice", choices=(value,), help="structural (fixed)"
    )


def _core(factory: Callable, static: tuple[str, ...], values: dict[str, Any]) -> core.Core:
    """The optax transform as a core: ``values`` (the learning rate among them when the factory
    takes one) go through ``optax.inject_hyperparams``, so floats live in its state, traced."""

    def transform():
        return optax.inject_hyperparams(factory, static_args=static)(**values)

    def init(params):
        return FromOptaxState(transform().init(params), core.zeros_like(params))

    def step(grads, state, params, lr, **extra):
        # ``lr`` (the shared wrapper's) is not used: the learning rate is in the injected state
        updates, inner = transform().update(grads, state.optax, params, **extra)
        realised = family.realised_ratio(updates, grads)
        return updates, FromOptaxState(inner, realised)

    def learning_rates(state, lr):
        return state.realised

    return core.Core(init, step, learning_rates)


@dataclasses.dataclass(frozen=True, kw_only=True)
class FromOptaxInfo(OptimizerInfo):
    """The declaration of an optimizer made by :func:`from_optax` (Python-only)."""

    factory: Callable = None  # type: ignore[assignment]
    static: tuple[str, ...] = ()  # integer arguments: structural (inject_hyperparams's static)
    takes_learning_rate: bool = True

    def create(self, values, options):
        opts = self._validate(values, options)
        given = {h.name: values[h.name] for h in self.hyperparams}
        if not self.takes_learning_rate:
            given.pop("learning_rate")
        return core.with_options(
            _core(self.factory, self.static, given),
            values["learning_rate"],
            opts,
            name=self.name,
            hyperparams=dict(values),
        )


def _signature_of(names: tuple[str, ...]) -> Callable:
    """A stand-in rule with the declared signature (the declaration checks it)."""

    def rule(**values: Any) -> core.Core:
        raise NotImplementedError("built by FromOptaxInfo.create")

    kind = inspect.Parameter.KEYWORD_ONLY
    rule.__signature__ = inspect.Signature([inspect.Parameter(n, kind) for n in names])
    return rule


def from_optax(factory: Callable, name: str | None = None, **hyperparams: Any) -> OptimizerInfo:
    """An optimizer made from an optax factory (``optax.lion``, or any function returning a
    ``GradientTransformation``) and its arguments (give ``learning_rate`` if it takes one).

    Returns its declaration, known to :func:`optimizers.get` by ``name`` in this process:
    ``OptimizerSpec(info.name, {"learning_rate": 3e-4})`` runs it. A built-in optimizer's name
    is refused; calling again with the same name replaces the earlier one.
    """
    if not callable(factory):
        raise ValueError(f"from_optax: factory must be callable, got {type(factory).__name__}")
    title = getattr(factory, "__name__", "transform")
    name = f"optax.{title}" if name is None else name
    if not isinstance(name, str) or not name.strip() or len(name) > 64:
        raise ValueError("from_optax: name must be a non-empty string of at most 64 characters")
    if name.lower() in {k.lower() for k in registry.OPTIMIZERS}:
        raise ValueError(f"from_optax: {name!r} is a built-in optimizer's name; choose another")
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        raise ValueError(f"from_optax: cannot read the arguments of {title}") from None
    unknown = sorted(set(hyperparams) - set(parameters))
    if unknown:
        raise ValueError(
            f"from_optax: {title} has no argument {unknown[0]!r}; it takes {', '.join(parameters)}"
        )
    takes_lr = "learning_rate" in parameters
    if takes_lr and "learning_rate" not in hyperparams:
        raise ValueError(f"from_optax: give learning_rate= for {name} (its factory takes one)")
    lr = hyperparams.pop("learning_rate", 1.0)  # a factory without one: a fixed 1.0, unused
    if not isinstance(lr, float | int) or isinstance(lr, bool):
        raise ValueError(f"from_optax: learning_rate must be a number, got {lr!r}")
    static = tuple(k for k, v in hyperparams.items() if type(v) is int)
    info = FromOptaxInfo(
        name=name,
        rule=_signature_of(tuple(hyperparams)),
        summary=f"optax's {title}, made in Python with optimizers.from_optax.",
        group="adaptive",
        reference=f"optax {optax.__version__}, {getattr(factory, '__module__', '?')}.{title}",
        matches=f"optax {title} (optax's own code)",
        update_latex=r"\Delta w_t = \text{the optax transform's update}",
        learning_rate_latex=r"-\Delta w_t / g_t\ \text{(realised, signed)}",
        hyperparams=(
            _hparam("learning_rate", float(lr)),
            *(_hparam(k, v) for k, v in hyperparams.items()),
        ),
        shared_options=False,
        python_only=True,
        defaults_from="the arguments given to from_optax",
        factory=factory,
        static=static,
        takes_learning_rate=takes_lr,
    )
    registry.PYTHON_ONLY[name] = info
    return info
