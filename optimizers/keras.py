"""Keras 3 optimizer classes, one per optimizer of the registry: ``compile(optimizer=WAME())``.

>>> from optimizers.keras import WAME
>>> model.compile(optimizer=WAME(learning_rate=1e-3), loss="mse")  # doctest: +SKIP

Each class (``optimizers.keras.WAME``, ``optimizers.keras.Adam``, ...) is generated from the
optimizer's declaration (``optimizers/declare.py``, indexed by ``optimizers/registry.py``): the
same name, the same arguments and defaults, validated by the declaration, plus Keras's own
options (``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``weight_decay``, ``use_ema``,
``ema_momentum``, ``ema_overwrite_frequency``, ``loss_scale_factor``,
``gradient_accumulation_steps``), which Keras's ``BaseOptimizer`` applies itself. So the update
is the declaration's bare rule (``core.Core.step``, called once per step on the list of
variables with Keras's current learning rate and iteration count), never our
``core.with_options`` wrapper: one rule per optimizer, and the options in Keras's own order.

The classes run on Keras's JAX backend only (our rules are JAX functions); on another backend
their constructor raises a ``RuntimeError`` saying so. Importing ``optimizers`` never imports
Keras; importing this module does (``pip install .[keras]``).

State: the rule's state (its ``init`` applied to the variables' values) becomes Keras
variables created in ``build``, one per array of each field: shaped like the variable for
parameter-shaped fields (Adam's ``mu`` and ``nu``, WAME's ``zeta``, ``z``, ``theta`` and previous
gradient), a scalar for per-tensor or per-optimizer ones (LARS's local learning rate, Nadam's
momentum-schedule product, Prodigy's distance estimate d, one for all variables). The ``count``
field is Keras's ``iterations``. So a model saved to a ``.keras`` file loads again with its
optimizer state (the classes are registered with
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
        # The rule runs once over the list of all variables (Prodigy's distance estimate sums
        # over every weight; the other rules act leaf by leaf, so one call equals one per
        # variable). Its state is a NamedTuple whose fields are either a list with one entry per
        # variable or shared by all (Prodigy's d). The rule's init sees the variables' values:
        # some state starts at the weights (ScheduleFreeAdamW's z_0 = w_0, Keras's "momentum"
        # slot; Prodigy's w_0).
        template = self._core.init([jnp.asarray(v.value) for v in variables])
        count = getattr(template, COUNT, None)
        self._state_type = type(template)
        self._count_dtype = None if count is None else count.dtype
        per_variable = {}  # field -> [(leaves, treedef)], one per variable
        shared = {}  # field -> (leaves, treedef)
        for field, value in zip(template._fields, template, strict=True):
            if field == COUNT:
                continue
            if isinstance(value, list) and len(value) == len(variables):
                per_variable[field] = [jax.tree.flatten(v) for v in value]
            else:
                shared[field] = jax.tree.flatten(value)
        slots = {}  # (field, variable index or None for a shared field) -> its Keras variables
        for i, variable in enumerate(variables):  # each variable's slots together
            for field, entries in per_variable.items():
                leaves = entries[i][0]
                slots[field, i] = [
                    self._state_variable(variable, field, k, leaf) for k, leaf in enumerate(leaves)
                ]
        for field, (leaves, _) in shared.items():
            slots[field, None] = [
                self.add_variable(
                    shape=leaf.shape,
                    initializer=_Initial(leaf),
                    dtype=leaf.dtype,
                    name=field if k == 0 else f"{field}_{k}",
                )
                for k, leaf in enumerate(leaves)
            ]
        # Per field, in the state's order: (field, True, [(treedef, slots)] per variable) or
        # (field, False, (treedef, slots)) for a shared one.
        self._state_layout = [
            (field, True, [(t, slots[field, i]) for i, (_, t) in enumerate(per_variable[field])])
            if field in per_variable
            else (field, False, (shared[field][1], slots[field, None]))
            for field in template._fields
            if field != COUNT
        ]

    def _state_variable(self, variable, field: str, index: int, initial: jax.Array):
        name = field if index == 0 else f"{field}_{index}"
        initializer = _Initial(initial)
        if tuple(initial.shape) == tuple(variable.shape):
            return self.add_variable_from_reference(variable, name=name, initializer=initializer)
        path = getattr(variable, "path", variable.name).replace("/", "_")
        return self.add_variable(
            shape=initial.shape, initializer=initializer, dtype=initial.dtype, name=f"{path}_{name}"
        )

    def _state_of(self, indices: list[int]):
        """The rule's state NamedTuple for these model variables, read from the Keras slots."""

        def read(treedef, slots):
            return treedef.unflatten([slot.value for slot in slots])

        fields = {
            field: [read(*layout[i]) for i in indices] if own else read(*layout)
            for field, own, layout in self._state_layout
        }
        if self._count_dtype is not None:  # steps taken so far (accumulated ones count as one)
            fields[COUNT] = keras.ops.cast(self.iterations, self._count_dtype)
        return self._state_type(**fields)

    def _write_state(self, indices: list[int], state) -> None:
        for field, own, layout in self._state_layout:
            value = getattr(state, field)
            pairs = (
                zip(value, [layout[i] for i in indices], strict=True) if own else [(value, layout)]
            )
            for subtree, (_, slots) in pairs:
                for slot, leaf in zip(slots, jax.tree.leaves(subtree), strict=True):
                    self.assign(slot, leaf)

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        """One step of the declaration's rule over all variables (Keras applied the options).

        Keras's base class would call ``update_step`` once per variable; the rule runs once so
        that a rule summing over all weights (Prodigy) sees them all, as in optax."""
        indices = [self._get_variable_index(v) for v in trainable_variables]
        dtype = jnp.result_type(*[v.dtype for v in trainable_variables])
        lr = keras.ops.cast(learning_rate, dtype)
        pairs = list(zip(grads, trainable_variables, strict=True))
        grads = [keras.ops.cast(g, v.dtype) for g, v in pairs]
        values = [v.value for v in trainable_variables]
        updates, new_state = self._core.step(grads, self._state_of(indices), values, lr)
        self._write_state(indices, new_state)
        for variable, update in zip(trainable_variables, updates, strict=True):
            self.assign_add(variable, update)

    def update_step(self, gradient, variable, learning_rate):
        self._backend_update_step([gradient], [variable], learning_rate)

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
