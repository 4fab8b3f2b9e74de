"""Each optimizer declared once: its hyperparameters, state, rules, LaTeX and constructor.

An optimizer is its update rule (a function ``rule(**hyperparameters) -> core.Core``,
written in its module) and one :class:`OptimizerInfo`, the declaration. Everything
else is derived from the declaration:

* the constructor (``ADAM.build`` is ``optimizers.Adam``): its signature and defaults, the
  validation of every argument, the cross-parameter rules, the list of valid names in the
  error for an unknown one, the ``hyperparams`` shown by ``repr``, and its docstring;
* the registry entry (``optimizers/registry.py`` only indexes the declarations);
* the app's controls and the command line's ``list`` (the fields of :class:`HParam`);
* what the engine traces (``HParam.traced``) and records (``StateField.shape``);
* the "momentum" arrow (``StateField.role == "momentum"``: its sign and units);
* the README's optimizer table (``registry.readme_table``).

Adding an optimizer means writing its rule and one declaration (see ``optimizers/sgd.py``):
its texts, its LaTeX, then its pieces (``learning_rate``, ``hyperparams``, ``rules``, ``state``),
built from the standard makers here and in ``optimizers/family.py`` so that it states only what
is particular to it.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any

import jax.numpy as jnp
import numpy as np

from optimizers import core, schedules

# The optimizer picker's groups, in order, with a one-line summary each.
GROUPS: dict[str, str] = {
    "classic": "Gradient descent and momentum: one learning rate for every weight.",
    "adaptive": "Per-weight (or per-layer) learning rates from gradient statistics.",
    "sign-based": "Steps driven by the signs of gradients or of momentum.",
    "second-order": "Curvature models: quasi-Newton and line searches.",
    "schedule-free": "Schedule-free and parameter-free methods.",
}


# --------------------------------------------------------------------------------------------
# Hyperparameters
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, kw_only=True)
class Range:
    """The values a numeric hyperparameter may take (validity, not the slider's range)."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False


ANY_NUMBER = Range()
POSITIVE = Range(low=0.0, low_open=True)
NON_NEGATIVE = Range(low=0.0)
DECAY_RATE = Range(low=0.0, high=1.0, high_open=True)  # beta_1, beta_2, rho, alpha, momentum
UNIT_INTERVAL = Range(low=0.0, high=1.0)
OPEN_UNIT_INTERVAL = Range(low=0.0, high=1.0, low_open=True, high_open=True)  # Rprop's eta_minus
ABOVE_ONE = Range(low=1.0, low_open=True)  # Rprop's and WAME's eta_plus
AT_LEAST_ONE = Range(low=1)


@dataclasses.dataclass(frozen=True, kw_only=True)
class HParam:
    """One hyperparameter (the same field names as a surface's ``Param``).

    ``low``..``high`` and ``scale`` are the practical range the app offers; ``valid`` is what
    the constructor accepts. ``traced``: its value is a traced JAX value in the engine (changing
    it never recompiles); otherwise it is structural (one compile per value). It defaults to
    True for floats. For an option that may be off (default ``None``), "off" is always
    structural and only a set value is traced. ``live``: worth a slider that reruns as it moves.
    ``option``: passed on to the shared option of that name (AdamW's ``weight_decay``).
    """

    name: str
    default: Any
    low: float | None = None
    high: float | None = None
    scale: str = "linear"  # "linear" or "log"
    help: str = ""
    kind: str = "float"  # "float", "int", "bool", "choice"
    choices: tuple[str, ...] = ()
    valid: Range = ANY_NUMBER
    traced: bool = None  # type: ignore[assignment]  # None: True exactly for floats
    live: bool = False
    schedule: bool = False  # also accepts a schedule (a callable of the step)
    option: bool = False
    can_be_off: bool = False  # None turns it off though the default is a value (Muon's rms_rate)

    def __post_init__(self):
        if self.traced is None:
            object.__setattr__(self, "traced", self.kind == "float")

    @property
    def static(self) -> bool:
        """Structural: the engine compiles once per value."""
        return not self.traced

    def validate(self, owner: str, value: Any) -> Any:
        """Return ``value`` unchanged, or raise ``ValueError`` naming ``owner`` and the argument."""
        if value is None and (self.default is None or self.can_be_off):  # an option left off
            return value
        if self.kind == "bool":
            return core.check_flag(owner, self.name, value)
        if self.kind == "choice":
            return core.check_choice(owner, self.name, value, self.choices)
        if self.schedule and callable(value):
            return value
        v = self.valid
        return core.check_range(
            owner,
            self.name,
            value,
            v.low,
            v.high,
            low_open=v.low_open,
            high_open=v.high_open,
            integer=self.kind == "int",
        )


def learning_rate(
    default: float,
    low: float = 1e-5,
    high: float = 10.0,
    *,
    help: str = "Step size (a float or a schedule).",
    schedule: bool = True,
) -> HParam:
    """Every optimizer's first hyperparameter (``OptimizerInfo(learning_rate=...)`` makes it)."""
    return HParam(
        name="learning_rate", default=default, low=low, high=high, scale="log", help=help,
        valid=POSITIVE, live=True, schedule=schedule,
    )  # fmt: skip


def decay_rate(name: str, default: float, help: str, *, live: bool = True, high=0.9999) -> HParam:
    """A decay rate in [0, 1): beta_1, beta_2, rho, alpha, momentum."""
    return HParam(
        name=name, default=default, low=0.0, high=high, help=help, valid=DECAY_RATE, live=live
    )


def epsilon(default: float, help: str = "Small constant for numerical stability.") -> HParam:
    return HParam(
        name="epsilon", default=default, low=1e-12, high=1e-1, scale="log", help=help,
        valid=NON_NEGATIVE,
    )  # fmt: skip


def flag(name: str, default: bool, help: str) -> HParam:
    return HParam(name=name, default=default, help=help, kind="bool")


# --------------------------------------------------------------------------------------------
# Cross-parameter rules
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, kw_only=True)
class Rule:
    """A condition on several values: ``holds(*values of names)``; traced values are skipped.

    ``message(*values)`` is the reason, after the owner's name, when it fails.
    """

    names: tuple[str, ...]
    holds: Callable[..., bool]
    message: Callable[..., str]

    def check(self, owner: str, values: Mapping[str, Any]) -> None:
        args = [values.get(n) for n in self.names]
        if any(core.is_traced(a) for a in args):
            return
        if not self.holds(*args):
            raise ValueError(f"{owner}: {self.message(*args)}")


def ordered(lower: str, upper: str) -> Rule:
    """``lower <= upper`` (WAME's zeta_min and zeta_max)."""
    return Rule(
        names=(lower, upper),
        holds=lambda a, b: a <= b,
        message=lambda a, b: f"{lower}={a!r} must not exceed {upper}={b!r}",
    )


# --------------------------------------------------------------------------------------------
# The options every optimizer accepts (Keras 3 BaseOptimizer; order of use in core.with_options)
# --------------------------------------------------------------------------------------------
def _clip(name: str, help: str) -> HParam:
    return HParam(
        name=name, default=None, low=1e-3, high=100.0, scale="log", help=help, valid=POSITIVE
    )


def _every_k_steps(name: str, high: int, scale: str, help: str) -> HParam:
    """An integer option counting steps, off (None) by default."""
    return HParam(
        name=name,
        default=None,
        low=1,
        high=high,
        scale=scale,
        kind="int",
        valid=AT_LEAST_ONE,
        help=help,
    )


OPTIONS: tuple[HParam, ...] = (
    _clip("clipnorm", "Clip each weight tensor's gradient to this norm."),
    _clip("clipvalue", "Clip each gradient element to [-value, value]."),
    _clip("global_clipnorm", "Clip all gradients together to this global norm."),
    HParam(
        name="weight_decay",
        default=None,
        low=0.0,
        high=0.5,
        scale="linear",
        valid=NON_NEGATIVE,
        help="Decoupled weight decay: w <- w - lr * weight_decay * w.",
    ),
    flag("use_ema", False, "Keep an exponential moving average of the weights."),
    HParam(
        name="ema_momentum",
        default=0.99,
        low=0.0,
        high=1.0,
        scale="linear",
        valid=UNIT_INTERVAL,
        help="Momentum of the weight average: new = m * old + (1 - m) * w.",
    ),
    _every_k_steps(
        "ema_overwrite_frequency",
        1000,
        "log",
        "Every this many steps, overwrite the weights with their average.",
    ),
    HParam(
        name="loss_scale_factor",
        default=None,
        low=1e-3,
        high=1e6,
        scale="log",
        valid=POSITIVE,
        help="Gradients are divided by this factor (mixed-precision loss scaling).",
    ),
    _every_k_steps(
        "gradient_accumulation_steps",
        64,
        "linear",
        "Update every k steps with the mean of the k gradients.",
    ),
)
OPTION_NAMES = tuple(o.name for o in OPTIONS)
Options = collections.namedtuple("Options", OPTION_NAMES, defaults=[o.default for o in OPTIONS])
_CLIPS = ("clipnorm", "clipvalue", "global_clipnorm")
OPTION_RULES = (
    Rule(
        names=_CLIPS,
        holds=lambda *v: sum(x is not None for x in v) <= 1,
        message=lambda *v: (
            "only one of clipnorm, clipvalue and global_clipnorm can be set, got "
            + " and ".join(f"{n}={x!r}" for n, x in zip(_CLIPS, v, strict=True) if x is not None)
        ),
    ),
)


def _refuse_options(owner: str, options: Mapping[str, Any], names: tuple[str, ...]) -> None:
    """An optimizer without the shared options: any set one (or an unknown name) is refused."""
    defaults = Options()._asdict()
    for name, value in sorted(options.items()):
        if name not in defaults:
            raise ValueError(
                f"{owner}: unknown argument {name!r}; valid arguments are {', '.join(names)}"
            )
        if value != defaults[name]:
            raise ValueError(f"{owner} takes none of the shared options (got {name}={value!r})")


def check_options(owner: str, options: Mapping[str, Any], allowed: tuple[str, ...]) -> Options:
    """Validate the shared options; an unknown name is a ``ValueError`` listing the valid ones."""
    unknown = sorted(set(options) - set(OPTION_NAMES))
    if unknown:
        raise ValueError(
            f"{owner}: unknown argument {unknown[0]!r}; valid arguments are "
            f"{', '.join(allowed + OPTION_NAMES)}"
        )
    o = Options(**options)
    for rule in OPTION_RULES:
        rule.check(owner, o._asdict())
    for h in OPTIONS:
        h.validate(owner, getattr(o, h.name))
    return o


# --------------------------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, kw_only=True)
class StateField:
    """One field of an algorithm's state NamedTuple, as the app shows it.

    ``shape``: ``"param"`` (shaped like its parameter), ``"per_tensor"`` (one scalar per
    parameter array, drawn spread over its weights, LARS's rate) or ``"other"`` (factored
    moments, a memory of past steps: never recorded per weight).

    ``role`` names what the field is ("momentum", "second_moment", ...). For the momentum
    buffer, ``moves`` is the sign with which it moves the weights and ``units`` how it becomes
    a displacement: ``"weights"`` (already one: ``w += moves * buffer``) or ``"gradient"``
    (``w += moves * eta_t * buffer``, eta_t the step's scalar learning rate). So the momentum
    arrow is ``moves * buffer`` or ``moves * eta_t * buffer``, in weight units like the update.
    ``off_when_zero``: the hyperparameter at zero of which the buffer is no momentum at all
    (SGD and RMSprop with ``momentum=0``: the buffer is then the step itself).
    """

    name: str
    symbol: str
    role: str = ""
    shape: str = "param"
    moves: int = 0
    units: str = "weights"
    off_when_zero: str | None = None

    def __post_init__(self):
        if self.shape not in ("param", "per_tensor", "other"):
            raise ValueError(f"state field {self.name}: unknown shape {self.shape!r}")
        if self.role == "momentum" and (
            self.moves not in (-1, 1) or self.units not in ("weights", "gradient")
        ):
            raise ValueError(f"state field {self.name}: a momentum buffer needs moves=+-1, units")

    @property
    def recorded(self) -> bool:
        return self.shape != "other"


def momentum_buffer(name: str, symbol: str, *, units: str = "gradient", **more: Any) -> StateField:
    """The momentum buffer of most methods: it moves the weights by ``-eta_t * buffer`` (or by
    ``-buffer`` with ``units="weights"``)."""
    return StateField(name=name, symbol=symbol, role="momentum", moves=-1, units=units, **more)


def unrecorded(name: str, symbol: str, role: str) -> StateField:
    """State that is not shaped like the parameters (a scalar, factored moments): not recorded
    per weight."""
    return StateField(name=name, symbol=symbol, role=role, shape="other")


# --------------------------------------------------------------------------------------------
# What is drawn beside the path
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, kw_only=True)
class AveragePath:
    """A second sequence of weights drawn beside the path (schedule-free's average x).

    ``of(values, weights, state)`` gives that sequence from the recorded ``state`` fields
    named in ``fields`` and the weights ``weights`` the optimizer holds *after* each record's
    step (the recorded state is the state after that step, as the EMA is): arrays shaped
    ``(..., R, dim)``, ``values`` the hyperparameter values (defaults filled in).
    """

    label: str  # the legend's words, e.g. "average x"
    fields: tuple[str, ...]
    of: Callable[[Mapping[str, Any], np.ndarray, Mapping[str, np.ndarray]], np.ndarray]


# Where an optimizer has no diagonal per-weight learning rate, its recorded rate is the realised
# ratio -update/gradient, with its sign, for: no weights (""), rank-2 weights only ("matrices":
# Muon orthogonalises matrices and is Adam elsewhere) or every weight ("all": L-BFGS).
REALISED_RATE = ("", "matrices", "all")


# --------------------------------------------------------------------------------------------
# The declaration
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, kw_only=True)
class OptimizerInfo:
    """One optimizer (or a preset of one): the single source of what is said about it.

    ``rule(**values)`` builds the update rule from the hyperparameter values, by name (every
    declared one but the learning rate and ``option`` ones, which the shared options apply):
    its parameters are checked against the declaration when it is made.
    A preset (``Nesterov``, ``AMSGrad``) is made with :meth:`preset`: the parent's constructor
    with ``fixed`` flags, its own texts.

    ``learning_rate``: the default of the standard learning rate (or its :class:`HParam` when
    it is not the standard one), put first in ``hyperparams``, which then lists the others.
    """

    name: str
    rule: Callable[..., core.Core]
    summary: str
    group: str
    reference: str
    matches: str
    update_latex: str
    learning_rate_latex: str
    hyperparams: tuple[HParam, ...] = ()
    learning_rate: dataclasses.InitVar[float | HParam | None] = None
    state: tuple[StateField, ...] = ()
    rules: tuple[Rule, ...] = ()
    defaults_from: str = ""  # where the defaults come from (a document, a library)
    notes: str = ""  # docstring prose; the update rule is update_latex, never repeated there
    example: str = ""
    fixed: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # preset flags
    parent: OptimizerInfo | None = None
    title: str = ""  # the long name, when it is not just ``name``
    # Which weights' recorded rate is the signed realised -update/gradient (``REALISED_RATE``):
    # the app draws those rates on a diverging colour map centred at 0, not a log scale.
    realised_rate: str = ""
    average: AveragePath | None = None  # a second line beside the path
    # False: the shared Keras options (OPTIONS) are refused, the app offers none (L-BFGS: its
    # line search measures the slope along the gradient it was given)
    shared_options: bool = True
    # ``update`` takes optax's extra arguments ``value=, grad=, value_fn=`` (a line search):
    # the engine then passes the loss at the weights, its gradient and the loss as a function
    takes_loss: bool = False
    # ``evaluations(inner_state)``: loss-and-gradient evaluations so far, for optimizers that
    # evaluate the loss more than once a step (a line search); None: one per step
    evaluations: Callable[[Any], Any] | None = None
    # made in Python (``optimizers.from_optax``): known in this process only, so links cannot
    # name it and a snapshot of a run with it cannot be replayed
    python_only: bool = False

    def __post_init__(self, lr: float | HParam | None):  # lr: the learning_rate InitVar
        if lr is not None:
            lr = lr if isinstance(lr, HParam) else learning_rate(lr)
            object.__setattr__(self, "hyperparams", (lr, *self.hyperparams))
        if not self.title:
            object.__setattr__(self, "title", self.name)
        if self.realised_rate not in REALISED_RATE:
            raise ValueError(f"{self.name}: realised_rate must be one of {REALISED_RATE}")
        if self.group not in GROUPS:
            raise ValueError(f"{self.name}: unknown group {self.group!r}; known: {list(GROUPS)}")
        names = [h.name for h in self.hyperparams]
        if len(set(names)) != len(names) or names[:1] != ["learning_rate"]:
            raise ValueError(f"{self.name}: hyperparameters must be unique, learning_rate first")
        if sum(f.role == "momentum" for f in self.state) > 1:
            raise ValueError(f"{self.name}: at most one momentum buffer")
        wanted = [h.name for h in self.hyperparams if h.name != "learning_rate" and not h.option]
        if self.parent is None and list(inspect.signature(self.rule).parameters) != wanted:
            raise ValueError(f"{self.name}: its rule must take exactly {wanted}, in that order")

    # ---- what the app and the engine read ----
    def defaults(self) -> dict[str, Any]:
        return {h.name: h.default for h in self.hyperparams}

    def hparam(self, name: str) -> HParam:
        for h in self.hyperparams:
            if h.name == name:
                return h
        raise ValueError(
            f"{self.name} has no hyperparameter {name!r}; it has "
            f"{', '.join(h.name for h in self.hyperparams)}"
        )

    @property
    def live(self) -> tuple[str, ...]:
        """The hyperparameters worth a live slider."""
        return tuple(h.name for h in self.hyperparams if h.live)

    @property
    def state_symbols(self) -> tuple[tuple[str, str], ...]:
        """``(field, LaTeX symbol)`` of the recorded state fields, in order."""
        return tuple((f.name, f.symbol) for f in self.state if f.recorded)

    def state_field(self, name: str) -> StateField:
        return next(f for f in self.state if f.name == name)

    @property
    def momentum(self) -> StateField | None:
        """The declared momentum buffer, or None."""
        return next((f for f in self.state if f.role == "momentum"), None)

    def rate_is_realised(self, weight_shapes: tuple[tuple[int, ...], ...]) -> bool:
        """Whether, for weights of these shapes (one per weight array), some recorded rate is
        the signed realised -update/gradient rather than a (positive) diagonal rate."""
        if self.realised_rate == "matrices":
            return any(len(shape) == 2 for shape in weight_shapes)
        return self.realised_rate == "all"

    def traced(self, name: str) -> bool:
        """Whether a (set) value of ``name``, a hyperparameter or option, is traced."""
        for h in (*self.hyperparams, *OPTIONS):
            if h.name == name:
                return h.traced
        return False

    # ---- building ----
    @functools.cached_property
    def build(self) -> Callable[..., core.Optimizer]:
        """The constructor (``optimizers.Adam`` is ``ADAM.build``); presets use their parent's."""
        return self.parent.build if self.parent is not None else _constructor(self)

    def make(self, **values: Any) -> core.Optimizer:
        """Build with the declared defaults, overridden by ``values`` (options included)."""
        return self.build(**{**self.defaults(), **values, **self.fixed})

    def check(self, values: Mapping[str, Any]) -> None:
        """Validate values (defaults filled in) as the constructor does, without building."""
        base = self.parent or self
        full = {**base.defaults(), **values, **self.fixed}
        if isinstance(full.get("learning_rate"), Mapping):  # a schedule's config (JSON)
            full["learning_rate"] = schedules.from_config(full["learning_rate"])
        own = {h.name for h in base.hyperparams}
        options = {k: v for k, v in full.items() if k not in own}
        base._validate(full, options)

    def _validate(self, values: Mapping[str, Any], options: Mapping[str, Any]) -> Options:
        for h in self.hyperparams:
            if not h.option:
                h.validate(self.name, values[h.name])
        for rule in self.rules:
            rule.check(self.name, values)
        routed = {h.name: values[h.name] for h in self.hyperparams if h.option}
        names = tuple(h.name for h in self.hyperparams)
        if not self.shared_options:
            _refuse_options(self.name, options, names)
        return check_options(self.name, {**options, **routed}, names)

    def create(self, values: Mapping[str, Any], options: Mapping[str, Any]) -> core.Optimizer:
        """The optimizer for every hyperparameter value (``values``) and some options."""
        opts = self._validate(values, options)
        inner = {
            h.name: values[h.name]
            for h in self.hyperparams
            if h.name != "learning_rate" and not h.option
        }
        return core.with_options(
            self.rule(**inner),
            values["learning_rate"],
            opts,
            name=self.name,
            hyperparams=dict(values),
        )

    def derive(self, **changes: Any) -> OptimizerInfo:
        """Another optimizer made of this one's pieces (AdamW, Adamax, Nadam from Adam): the
        fields not in ``changes`` are kept, but for the title (the new name's unless given)."""
        return dataclasses.replace(self, **{"title": "", **changes})

    def preset(self, **changes: Any) -> OptimizerInfo:
        """A named preset: this optimizer with ``fixed`` flags (their widgets hidden)."""
        fixed = changes.get("fixed", {})
        hyperparams = tuple(h for h in self.hyperparams if h.name not in fixed)
        return self.derive(hyperparams=hyperparams, parent=self, **changes)

    def docstring(self) -> str:
        return _docstring(self)


def retune(pieces: tuple, **changes: Mapping[str, Any]) -> tuple:
    """Hyperparameters or state fields with some of them changed, by name (Momentum from SGD):
    ``retune(params, momentum={"default": 0.9})``."""
    return tuple(
        dataclasses.replace(p, **changes[p.name]) if p.name in changes else p for p in pieces
    )


def insert_after(params: tuple[HParam, ...], after: str, *new: HParam) -> tuple[HParam, ...]:
    """``params`` with ``new`` inserted after the one named ``after`` (AdamW from Adam)."""
    i = [h.name for h in params].index(after) + 1
    return (*params[:i], *new, *params[i:])


def _constructor(info: OptimizerInfo) -> Callable[..., core.Optimizer]:
    """A function with the declared signature: ``Adam(learning_rate=0.001, ..., **options)``."""
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    signature = inspect.Signature(
        [inspect.Parameter(h.name, kind, default=h.default) for h in info.hyperparams]
        + [inspect.Parameter("options", inspect.Parameter.VAR_KEYWORD)]
    )

    def constructor(*args: Any, **kwargs: Any) -> core.Optimizer:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        values = dict(bound.arguments)
        options = values.pop("options")
        return info.create(values, options)

    constructor.__signature__ = signature  # type: ignore[attr-defined]
    constructor.__name__ = constructor.__qualname__ = info.name
    constructor.__module__ = info.rule.__module__
    constructor.__doc__ = info.docstring()
    return constructor


def _docstring(info: OptimizerInfo) -> str:
    args = "\n".join(
        f"    {h.name}={h.default!r}: {h.help}" for h in info.hyperparams if not h.option
    )
    parts = [
        f"{info.title}: {info.summary}",
        f"Update rule (``update_latex`` of its declaration):\n\n    $${info.update_latex}$$",
        f"Per-weight learning rate: ${info.learning_rate_latex}$.",
        info.notes.strip(),
        f"Arguments (defaults from {info.defaults_from}):\n{args}\n    **options: the shared "
        "options (``optimizers.OPTIONS``).",
        f"Matches {info.matches}. Reference: {info.reference}.",
        f"Example:\n{info.example}" if info.example else "",
    ]
    return "\n\n".join(p for p in parts if p)


# --------------------------------------------------------------------------------------------
# The momentum arrow
# --------------------------------------------------------------------------------------------
def learning_rate_at(value: Any, steps: np.ndarray) -> np.ndarray:
    """The scalar learning rate of each step: ``value`` a float, a schedule or its config."""
    schedule = schedules.from_config(value) if isinstance(value, Mapping) else value
    steps = np.asarray(steps)
    return np.broadcast_to(
        np.asarray(schedules.as_schedule(schedule)(jnp.asarray(steps)), np.float64), steps.shape
    )


def momentum_arrow(
    info: OptimizerInfo,
    values: Mapping[str, Any],
    state: Mapping[str, np.ndarray],
    steps: np.ndarray,
) -> np.ndarray | None:
    """How the momentum buffer moves the weights, in weight units; None without one.

    ``state`` maps fields to ``(..., R, dim)`` records taken at the steps ``steps`` (R), the
    buffer after each step: ``moves * buffer`` for a buffer in weight units (Keras SGD's v_t,
    RMSprop's b_t, LARS's m_t), ``moves * eta_t * buffer`` for one in gradient units (heavy-ball
    m_t, Adam's m_t: the step plain momentum would take from it), eta_t that step's learning
    rate (the schedule's value at that step).
    """
    m = info.momentum
    if m is None or m.name not in state:
        return None
    values = {**info.defaults(), **values}
    if m.off_when_zero is not None and values.get(m.off_when_zero) == 0:
        return None
    buffer = np.asarray(state[m.name], np.float64)
    if m.units == "gradient":
        buffer = buffer * learning_rate_at(values["learning_rate"], steps)[:, None]
    return m.moves * buffer
