"""Keras 3 optimizer classes, one per optimizer of the registry: ``compile(optimizer=WAME())``.

>>> from optimizers.keras import WAME
>>> model.compile(optimizer=WAME(learning_rate=1e-3), loss="mse")  # doctest: +SKIP

Each class (``optimizers.keras.WAME``, ``optimizers.keras.Adam``, ...) is generated from the
optimizer's declaration (``optimizers/declare.py``, indexed by ``optimizers/registry.py``): the
same name, the same arguments and defaults, validated by the declaration, plus Keras's own
options (``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``weight_decay``, ``use_ema``,
``ema_momentum``, ``ema_overwrite_frequency``, ``loss_scale_factor``,
``gradient_accumulation_steps``), which Keras's ``BaseOptimizer`` applies itself. So the update
is the declaration's bare rule (``core.Core.step``, called for one variable with Keras's current
learning rate and iteration count), never our ``core.with_options`` wrapper: one rule per
optimizer, and the options in Keras's own order.

The classes run on Keras's JAX backend only (our rules are JAX functions); on another backend
their constructor raises a ``RuntimeError`` saying so. Importing ``optimizers`` never imports
Keras; importing this module does (``pip install .[keras]``).

State: the rule's state for one variable (its ``init`` applied to that variable) becomes Keras
variables created in ``build``, one per array of each field: shaped like the variable for
parameter-shaped fields (Adam's ``mu`` and ``nu``, WAME's ``zeta``, ``z``, ``theta`` and previous
gradient), a scalar for per-tensor or per-optimizer ones (LARS's local learning rate, Nadam's
momentum-schedule product). The ``count`` field is Keras's ``iterations``. So a model saved to a
``.keras`` file loads again with its optimizer state (the classes are registered with
``keras.saving.register_keras_serializable``, package ``optimizers``).

Not offered: ``LBFGS``, whose update needs the loss (a line search) inside the step, which
Keras's ``apply(grads, variables)`` does not provide.
"""

from __future__ import annotations

import inspect
from typing import Any

import jax
import jax.numpy as jnp

try:
    import keras
except ImportError as error:  # keras is an optional dependency
    raise ImportError(
        "optimizers.keras needs Keras 3: pip install 'keras>=3' (or the package's [keras] extra)"
    ) from error

from optimizers import registry
from optimizers.declare import OPTIONS, OptimizerInfo

# Optimizers whose update needs more than (gradient, variable, learning rate): LBFGS's line
# search evaluates the loss. Skipped should the registry hold them.
NOT_OFFERED = ("LBFGS",)
__all__ = [name for name in registry.OPTIMIZERS if name not in NOT_OFFERED]
COUNT = "count"  # the state field that Keras's iteration count stands in for


def _base(info: OptimizerInfo) -> OptimizerInfo:
    """The declaration whose rule and hyperparameters a preset (AMSGrad, Nesterov) uses."""
    return info.parent or info


class _DeclaredOptimizer(keras.optimizers.Optimizer):
    """A Keras optimizer running one declaration's rule; subclasses set ``info``."""

    info: OptimizerInfo

    def __init__(self, *args: Any, **kwargs: Any):
        name = self.info.name
        if keras.backend.backend() != "jax":
            raise RuntimeError(
                f"optimizers.keras.{name} runs on Keras's JAX backend only (set "
                f"KERAS_BACKEND=jax); the current backend is {keras.backend.backend()!r}"
            )
        bound = self.__signature__.bind(*args, **kwargs)
        bound.apply_defaults()
        values = dict(bound.arguments)
        keras_name = values.pop("name")
        options = {**values.pop("options"), **{k: values.pop(k) for k in self._option_names}}
        own = values
        self.info.check({**own, **options})  # our messages, before Keras's
        base = _base(self.info)
        full = {**base.defaults(), **own, **self.info.fixed}
        # The shared options go to Keras's base class; an option-hyperparameter (AdamW's
        # weight_decay) is that option; a hyperparameter that only shares an option's name
        # (LARS's weight_decay, inside its trust ratio) is the rule's own, and that option is
        # not offered.
        routed = {h.name: full[h.name] for h in base.hyperparams if h.option}
        keras_options = {**options, **routed}
        learning_rate = own["learning_rate"]
        if isinstance(learning_rate, int) and not isinstance(learning_rate, bool):
            learning_rate = float(learning_rate)  # Keras accepts only a float
        super().__init__(learning_rate=learning_rate, name=keras_name, **keras_options)
        self._hyperparameters = {
            h.name: own[h.name]
            for h in self.info.hyperparams
            if h.name != "learning_rate" and not h.option
        }
        rule_args = {
            h.name: full[h.name]
            for h in base.hyperparams
            if h.name != "learning_rate" and not h.option
        }
        self._core = base.rule(**rule_args)

    # ---- state -------------------------------------------------------------------------------
    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        # Per model variable: the state's type, its count's dtype (None without a count) and
        # (field, treedef, number of arrays) per field; and its Keras variables, flat.
        self._state_layout = []
        self._state_variables = []
        for variable in variables:
            template = self._core.init(jnp.zeros(variable.shape, variable.dtype))
            fields, slots = [], []
            for field, value in zip(template._fields, template, strict=True):
                if field == COUNT:
                    continue
                leaves, treedef = jax.tree.flatten(value)
                fields.append((field, treedef, len(leaves)))
                for i, leaf in enumerate(leaves):
                    slots.append(self._state_variable(variable, field, i, leaf))
            count = getattr(template, COUNT, None)
            dtype = None if count is None else count.dtype
            self._state_layout.append((type(template), dtype, tuple(fields)))
            self._state_variables.append(slots)

    def _state_variable(self, variable, field: str, index: int, initial: jax.Array):
        name = field if index == 0 else f"{field}_{index}"
        initializer = _Initial(initial)
        if tuple(initial.shape) == tuple(variable.shape):
            return self.add_variable_from_reference(variable, name=name, initializer=initializer)
        path = getattr(variable, "path", variable.name).replace("/", "_")
        return self.add_variable(
            shape=initial.shape, initializer=initializer, dtype=initial.dtype, name=f"{path}_{name}"
        )

    def _state_of(self, index: int):
        """The rule's state NamedTuple for one model variable, read from the Keras variables."""
        state_type, count_dtype, layout = self._state_layout[index]
        slots = iter(self._state_variables[index])
        fields = {}
        for field, treedef, n in layout:
            fields[field] = treedef.unflatten([next(slots).value for _ in range(n)])
        if count_dtype is not None:  # steps taken so far (Keras counts accumulated ones as one)
            fields[COUNT] = keras.ops.cast(self.iterations, count_dtype)
        return state_type(**fields)

    def update_step(self, gradient, variable, learning_rate):
        """One step of the declaration's rule for one variable (Keras applied the options)."""
        index = self._get_variable_index(variable)
        gradient = keras.ops.cast(gradient, variable.dtype)
        lr = keras.ops.cast(learning_rate, variable.dtype)
        state = self._state_of(index)
        update, new_state = self._core.step(gradient, state, variable.value, lr)
        slots = iter(self._state_variables[index])
        for field, _, _ in self._state_layout[index][2]:
            for leaf in jax.tree.leaves(getattr(new_state, field)):
                self.assign(next(slots), leaf)
        self.assign_add(variable, update)

    # ---- serialization -------------------------------------------------------------------------
    def get_config(self):
        config = super().get_config()
        config.update(self._hyperparameters)
        return config


class _Initial:
    """A Keras initializer returning the rule's initial value (WAME's zeta_0 = 1, Adagrad's
    initial accumulator). Each call returns a fresh buffer: ``init`` may reuse one zeros array for
    several fields, and Keras's JAX trainer donates every variable's buffer."""

    def __init__(self, value: jax.Array):
        self.value = value

    def __call__(self, shape, dtype=None):
        value = jnp.broadcast_to(jnp.asarray(self.value, dtype or self.value.dtype), shape)
        return jnp.array(value, copy=True)


def _make_class(info: OptimizerInfo) -> type:
    kind = inspect.Parameter
    options = [
        kind(o.name, kind.KEYWORD_ONLY, default=o.default)
        for o in OPTIONS
        if o.name not in {h.name for h in _base(info).hyperparams}
    ]
    signature = inspect.Signature(
        [kind(h.name, kind.POSITIONAL_OR_KEYWORD, default=h.default) for h in info.hyperparams]
        + [*options, kind("name", kind.KEYWORD_ONLY, default=None)]
        + [kind("options", kind.VAR_KEYWORD)]
    )
    cls = type(
        info.name,
        (_DeclaredOptimizer,),
        {
            "info": info,
            "__signature__": signature,  # what inspect.signature(cls) shows
            "_option_names": tuple(o.name for o in options),
            "__module__": __name__,
            "__qualname__": info.name,
            "__doc__": f"Keras 3 optimizer (JAX backend). {info.docstring()}\n\nAlso accepts "
            "Keras's shared optimizer options and ``name``.",
        },
    )
    return keras.saving.register_keras_serializable(package="optimizers", name=info.name)(cls)


globals().update({name: _make_class(registry.OPTIMIZERS[name]) for name in __all__})
