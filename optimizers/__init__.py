"""Optimizers of the reference documents, in pure JAX, optax-compatible.

>>> import optimizers
>>> opt = optimizers.Adam(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7)
>>> # state = opt.init(params); updates, state = opt.update(grads, state, params)
>>> # opt.learning_rates(state): each weight's effective learning rate at the last step

Each constructor returns an :class:`Optimizer`, an ``optax.GradientTransformation``. See
``registry.OPTIMIZERS`` for the metadata the app and the command line read.
"""

from optimizers import schedules
from optimizers.adadelta import Adadelta
from optimizers.adagrad import Adagrad
from optimizers.adam import Adam, Adamax, AdamW, Nadam
from optimizers.core import Optimizer, OptionsState
from optimizers.ema import ExponentialMovingAverage, averaged_weights
from optimizers.lars import LARS
from optimizers.registry import OPTIMIZERS, OPTIONS, HParam, OptimizerInfo, get
from optimizers.rmsprop import RMSprop
from optimizers.sgd import SGD, Momentum
from optimizers.wame import WAME

__all__ = [
    "LARS",
    "OPTIMIZERS",
    "OPTIONS",
    "SGD",
    "WAME",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "ExponentialMovingAverage",
    "HParam",
    "Momentum",
    "Nadam",
    "Optimizer",
    "OptimizerInfo",
    "OptionsState",
    "RMSprop",
    "averaged_weights",
    "get",
    "schedules",
]
