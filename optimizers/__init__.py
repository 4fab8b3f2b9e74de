"""Optimizers in pure JAX, optax-compatible, each exact to a named library (Keras 3, optax,
objax) or paper (docs/optimizer-equations.md lists the equations and library differences).

>>> import optimizers
>>> opt = optimizers.Adam(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7)
>>> # state = opt.init(params); updates, state = opt.update(grads, state, params)
>>> # opt.learning_rates(state): each weight's effective learning rate at the last step

Each constructor returns an :class:`Optimizer`, an ``optax.GradientTransformation``. Each
optimizer is declared once (``optimizers/declare.py``: ``OptimizerInfo``); its constructor,
validation, registry entry (``OPTIMIZERS``), the app's controls and the README's table derive
from that declaration.
"""

from optimizers import schedules
from optimizers.adabelief import AdaBelief
from optimizers.adadelta import Adadelta
from optimizers.adafactor import Adafactor
from optimizers.adagrad import Adagrad
from optimizers.adam import Adam, Adamax, AdamW, Nadam
from optimizers.adan import Adan
from optimizers.ademamix import AdEMAMix
from optimizers.adopt import ADOPT
from optimizers.core import Optimizer, OptionsState
from optimizers.declare import GROUPS, HParam, StateField, momentum_arrow
from optimizers.ema import ExponentialMovingAverage, averaged_weights
from optimizers.from_optax import from_optax
from optimizers.ftrl import Ftrl
from optimizers.lamb import Lamb
from optimizers.lars import LARS
from optimizers.lbfgs import LBFGS
from optimizers.lion import Lion
from optimizers.muon import Muon
from optimizers.novograd import NovoGrad
from optimizers.prodigy import Prodigy
from optimizers.radam import RAdam
from optimizers.registry import OPTIMIZERS, OPTIONS, OptimizerInfo, get, readme_table
from optimizers.rmsprop import RMSprop
from optimizers.rprop import Rprop
from optimizers.schedule_free import ScheduleFreeAdamW
from optimizers.sgd import SGD, Momentum
from optimizers.signum import Signum
from optimizers.wame import WAME
from optimizers.yogi import Yogi

__all__ = [
    "ADOPT",
    "GROUPS",
    "LARS",
    "LBFGS",
    "OPTIMIZERS",
    "OPTIONS",
    "SGD",
    "WAME",
    "AdEMAMix",
    "AdaBelief",
    "Adadelta",
    "Adafactor",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Adan",
    "ExponentialMovingAverage",
    "Ftrl",
    "HParam",
    "Lamb",
    "Lion",
    "Momentum",
    "Muon",
    "Nadam",
    "NovoGrad",
    "Optimizer",
    "OptimizerInfo",
    "OptionsState",
    "Prodigy",
    "RAdam",
    "RMSprop",
    "Rprop",
    "ScheduleFreeAdamW",
    "Signum",
    "StateField",
    "Yogi",
    "averaged_weights",
    "from_optax",
    "get",
    "momentum_arrow",
    "readme_table",
    "schedules",
]
