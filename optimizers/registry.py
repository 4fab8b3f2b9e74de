"""One entry per optimizer: what the app, the command line and the conformance tests read.

Each entry names its constructor, its paper, the library it matches exactly, its update rule
and per-weight learning rate in LaTeX, the state it keeps (for the "inside an optimizer" view)
and every hyperparameter with its default, a practical range, its scale and one line of help
taken from the reference documents. Presets (Nesterov, AMSGrad) are entries with fixed flags.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from optimizers import adadelta, adagrad, adam, core, lars, rmsprop, sgd, wame


@dataclasses.dataclass(frozen=True)
class HParam:
    """One hyperparameter: default, practical range (``low``..``high``) and scale for sliders.

    The range is what the app offers; validity is checked by the constructor itself.
    ``static`` hyperparameters change the code (flags, variants): the engine compiles once per
    value; every other one is traced.
    """

    name: str
    default: Any
    low: float | None = None
    high: float | None = None
    scale: str = "linear"  # "linear" or "log"
    help: str = ""
    kind: str = "float"  # "float", "int", "bool", "choice"
    choices: tuple[str, ...] = ()
    static: bool = False


@dataclasses.dataclass(frozen=True)
class OptimizerInfo:
    name: str
    build: Callable[..., core.Optimizer]
    title: str
    summary: str
    reference: str
    matches: str
    update_latex: str
    learning_rate_latex: str
    hyperparams: tuple[HParam, ...]
    state_symbols: tuple[tuple[str, str], ...] = ()  # (state field, LaTeX symbol)
    fixed: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # preset flags

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

    def make(self, **values: Any) -> core.Optimizer:
        """Build with the registry defaults, overridden by ``values`` (options included)."""
        return self.build(**{**self.defaults(), **values, **self.fixed})


def _lr(default: float, low: float = 1e-5, high: float = 10.0) -> HParam:
    return HParam("learning_rate", default, low, high, "log", "Step size (a float or a schedule).")


def _beta(name: str, default: float, help: str, low: float = 0.0, high: float = 0.9999) -> HParam:
    return HParam(name, default, low, high, "linear", help)


def _eps(default: float, help: str = "Small constant for numerical stability.") -> HParam:
    return HParam("epsilon", default, 1e-12, 1e-1, "log", help)


def _flag(name: str, default: bool, help: str) -> HParam:
    return HParam(name, default, None, None, "linear", help, kind="bool", static=True)


_MOMENTUM_HELP = "Accelerates descent in the relevant direction and dampens oscillations."
_NESTEROV_HELP = "Whether to apply Nesterov momentum."
_B1 = _beta("beta_1", 0.9, "The exponential decay rate for the 1st moment estimates.")
_B2 = _beta("beta_2", 0.999, "The exponential decay rate for the 2nd moment estimates.")
_AMSGRAD = _flag("amsgrad", False, "Whether to apply the AMSGrad variant (Reddi et al., 2018).")
_ADAM_LATEX = (
    r"m_t=\beta_1 m_{t-1}+(1-\beta_1)g_t,\quad v_t=\beta_2 v_{t-1}+(1-\beta_2)g_t^2,\quad "
    r"w_{t+1}=w_t-\eta\frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t}\frac{m_t}{\sqrt{v_t}+\hat\varepsilon}"
)
_ADAM_LR = r"\eta\,/\,\big(\sqrt{\hat v_t}+\hat\varepsilon/\sqrt{1-\beta_2^t}\big)"
_ADAM_REF = "Kingma & Ba, Adam: A Method for Stochastic Optimization, ICLR 2015"

_SGD_LATEX = r"v_t=\mu v_{t-1}-\eta g_t,\quad w_{t+1}=w_t+v_t"
_MOMENTUM_LATEX = r"m_t=g_t+\mu m_{t-1},\quad w_{t+1}=w_t-\eta m_t"
_NESTEROV_LATEX = r"m_t=g_t+\mu m_{t-1},\quad w_{t+1}=w_t-\eta\,(g_t+\mu m_t)"

OPTIMIZERS: dict[str, OptimizerInfo] = {
    info.name: info
    for info in [
        OptimizerInfo(
            "SGD",
            sgd.SGD,
            "Stochastic gradient descent",
            "One learning rate for every weight; optional (Nesterov) momentum.",
            "Robbins & Monro (1951)",
            "Keras 3 SGD",
            _SGD_LATEX,
            r"\eta",
            (
                _lr(0.01),
                HParam("momentum", 0.0, 0.0, 0.99, "linear", _MOMENTUM_HELP),
                _flag("nesterov", False, _NESTEROV_HELP),
            ),
            (("velocity", "v_t"),),
        ),
        OptimizerInfo(
            "Momentum",
            sgd.Momentum,
            "Momentum (heavy ball)",
            "Accumulates a velocity: steps approach lr/(1-momentum) on a constant slope.",
            "Polyak (1964); Sutskever et al., ICML 2013",
            "optax sgd(momentum) / objax Momentum",
            _MOMENTUM_LATEX,
            r"\eta",
            (
                _lr(0.01),
                HParam("momentum", 0.9, 0.0, 0.99, "linear", "Velocity decay: mu in m = g + mu m."),
                _flag("nesterov", False, _NESTEROV_HELP),
            ),
            (("velocity", "m_t"),),
        ),
        OptimizerInfo(
            "Nesterov",
            sgd.Momentum,
            "Nesterov accelerated gradient",
            "Momentum that looks ahead: corrects the velocity before it overshoots.",
            "Nesterov (1983); Sutskever et al., ICML 2013",
            "optax sgd(momentum, nesterov=True) / objax Momentum(nesterov=True)",
            _NESTEROV_LATEX,
            r"\eta",
            (
                _lr(0.01),
                HParam("momentum", 0.9, 0.0, 0.99, "linear", "Velocity decay: mu in m = g + mu m."),
            ),
            (("velocity", "m_t"),),
            fixed={"nesterov": True},
        ),
        OptimizerInfo(
            "Adagrad",
            adagrad.Adagrad,
            "Adagrad",
            "Per-weight rates from the sum of all past squared gradients: they only shrink.",
            "Duchi, Hazan & Singer, JMLR 2011",
            "Keras 3 Adagrad",
            r"G_t=G_{t-1}+g_t^2,\quad w_{t+1}=w_t-\frac{\eta}{\sqrt{G_t+\varepsilon}}g_t",
            r"\eta\,/\sqrt{G_t+\varepsilon}",
            (
                _lr(0.01),
                HParam(
                    "initial_accumulator_value",
                    0.0,
                    0.0,
                    1.0,
                    "linear",
                    "Starting value of the accumulated squared gradient G_0.",
                ),
                _eps(1e-7),
            ),
            (("accumulator", "G_t"),),
        ),
        OptimizerInfo(
            "RMSprop",
            rmsprop.RMSprop,
            "RMSprop",
            "Adagrad that forgets: a moving average of squared gradients.",
            "Tieleman & Hinton, COURSERA lecture 6.5 (2012)",
            "Keras 3 RMSprop",
            r"v_t=\rho v_{t-1}+(1-\rho)g_t^2,\quad b_t=\mu b_{t-1}+\frac{\eta g_t}"
            r"{\sqrt{v_t+\varepsilon}},\quad w_{t+1}=w_t-b_t",
            r"\eta\,/\sqrt{v_t+\varepsilon}",
            (
                _lr(0.001),
                _beta("rho", 0.9, "Discounting factor for the history of squared gradients."),
                HParam("momentum", 0.0, 0.0, 0.99, "linear", "Momentum on the scaled step."),
                _eps(1e-7),
                _flag("centered", False, "Normalise by the estimated variance of the gradient."),
            ),
            (("velocity", "v_t"), ("average_gradient", r"\bar g_t"), ("momentum", "b_t")),
        ),
        OptimizerInfo(
            "Adadelta",
            adadelta.Adadelta,
            "Adadelta",
            "Rates with units: the ratio of past update size to past gradient size.",
            "Zeiler, ADADELTA, arXiv:1212.5701 (2012)",
            "Keras 3 Adadelta",
            r"E^g_t=\rho E^g_{t-1}+(1-\rho)g_t^2,\quad \delta_t=\frac{\sqrt{E^\delta_{t-1}+"
            r"\varepsilon}}{\sqrt{E^g_t+\varepsilon}}g_t,\quad E^\delta_t=\rho E^\delta_{t-1}+"
            r"(1-\rho)\delta_t^2,\quad w_{t+1}=w_t-\eta\delta_t",
            r"\eta\sqrt{E^\delta_{t-1}+\varepsilon}\,/\sqrt{E^g_t+\varepsilon}",
            (
                _lr(1.0, 1e-3, 10.0),
                _beta("rho", 0.95, "The decay rate of both running averages."),
                _eps(1e-7),
            ),
            (("accumulated_grad", "E^g_t"), ("accumulated_delta", r"E^\delta_t")),
        ),
        OptimizerInfo(
            "Adam",
            adam.Adam,
            "Adam",
            "Momentum on the gradient, per-weight scale from the squared-gradient average.",
            _ADAM_REF,
            "Keras 3 Adam",
            _ADAM_LATEX,
            _ADAM_LR,
            (
                _lr(0.001),
                _B1,
                _B2,
                _eps(1e-7, "Epsilon hat of the paper (before its 2.1)."),
                _AMSGRAD,
            ),
            (("mu", "m_t"), ("nu", "v_t")),
        ),
        OptimizerInfo(
            "AMSGrad",
            adam.Adam,
            "AMSGrad",
            "Adam whose denominator never shrinks: the running max of v.",
            "Reddi, Kale & Kumar, On the Convergence of Adam and Beyond, ICLR 2018",
            "Keras 3 Adam(amsgrad=True)",
            _ADAM_LATEX.replace(r"\sqrt{v_t}", r"\sqrt{v^{\max}_t}")
            + r",\quad v^{\max}_t=\max(v^{\max}_{t-1},v_t)",
            _ADAM_LR.replace(r"\hat v_t", r"\hat v^{\max}_t"),
            (_lr(0.001), _B1, _B2, _eps(1e-7)),
            (("mu", "m_t"), ("nu", "v_t"), ("nu_max", r"v^{\max}_t")),
            fixed={"amsgrad": True},
        ),
        OptimizerInfo(
            "AdamW",
            adam.AdamW,
            "AdamW",
            "Adam with decoupled weight decay: shrinks weights by lr*wd each step.",
            "Loshchilov & Hutter, Decoupled Weight Decay Regularization, ICLR 2019",
            "Keras 3 AdamW",
            r"w\leftarrow w-\eta\lambda w,\quad " + _ADAM_LATEX,
            _ADAM_LR,
            (
                _lr(0.001),
                HParam(
                    "weight_decay",
                    0.004,
                    0.0,
                    0.5,
                    "linear",
                    "Decoupled weight decay lambda: w <- w - lr * lambda * w.",
                ),
                _B1,
                _B2,
                _eps(1e-7),
                _AMSGRAD,
            ),
            (("mu", "m_t"), ("nu", "v_t")),
        ),
        OptimizerInfo(
            "Adamax",
            adam.Adamax,
            "Adamax",
            "Adam with an infinity norm: the scale is the decayed max of |g|.",
            _ADAM_REF + ", section 7.1",
            "Keras 3 Adamax",
            r"m_t=\beta_1 m_{t-1}+(1-\beta_1)g_t,\quad u_t=\max(\beta_2u_{t-1},|g_t|),\quad "
            r"w_{t+1}=w_t-\frac{\eta}{1-\beta_1^t}\frac{m_t}{u_t+\varepsilon}",
            r"\eta\,/\,(u_t+\varepsilon)",
            (_lr(0.002), _B1, _B2, _eps(1e-7)),
            (("mu", "m_t"), ("nu", "u_t")),
        ),
        OptimizerInfo(
            "Nadam",
            adam.Nadam,
            "Nadam",
            "Adam with Nesterov momentum (Keras's warming momentum schedule).",
            "Dozat, Incorporating Nesterov Momentum into Adam, ICLR 2016 workshop",
            "Keras 3 Nadam",
            r"\mu_t=\beta_1(1-\tfrac12 0.96^t),\ \hat m_t=\frac{\mu_{t+1}m_t}{1-\Pi_t\mu_{t+1}}+"
            r"\frac{(1-\mu_t)g_t}{1-\Pi_t},\ w_{t+1}=w_t-\eta\frac{\hat m_t}{\sqrt{\hat v_t}+"
            r"\varepsilon}",
            r"\eta\,/\,(\sqrt{\hat v_t}+\varepsilon)",
            (_lr(0.001), _B1, _B2, _eps(1e-7)),
            (("mu", "m_t"), ("nu", "v_t")),
        ),
        OptimizerInfo(
            "LARS",
            lars.LARS,
            "LARS",
            "Layer-wise rates: each tensor's step scaled by |w| / |g| (trust ratio).",
            "You, Gitman & Ginsburg, Large Batch Training of Convolutional Networks, "
            "arXiv:1708.03888",
            "objax LARS (optax lars when weight_decay = epsilon = 0)",
            r"r_t=\frac{tc\lVert w\rVert}{\lVert g\rVert+\lambda\lVert w\rVert+\varepsilon},\ "
            r"m_t=\mu m_{t-1}+\eta r_t(g_t+\lambda w_t),\ w_{t+1}=w_t-m_t",
            r"\eta\, r_t\ \text{(per tensor)}",
            (
                _lr(1.0, 1e-3, 100.0),
                HParam("momentum", 0.9, 0.0, 0.99, "linear", _MOMENTUM_HELP),
                HParam(
                    "weight_decay",
                    1e-4,
                    0.0,
                    0.1,
                    "linear",
                    "LARS's weight decay (inside the trust ratio).",
                ),
                HParam(
                    "trust_coefficient",
                    1e-3,
                    1e-5,
                    1.0,
                    "log",
                    "Trust coefficient eta (< 1) for the trust ratio.",
                ),
                _eps(1e-5, "Epsilon of the trust-ratio denominator."),
                _flag("nesterov", False, _NESTEROV_HELP),
            ),
            (("momentum", "m_t"), ("local_learning_rate", r"\eta r_t")),
        ),
        OptimizerInfo(
            "WAME",
            wame.WAME,
            "WAME",
            "Per-weight acceleration: Rprop-like factors zeta averaged into Z, over theta.",
            "Mosca & Magoulas, Training Convolutional Networks with Weight-wise Adaptive "
            "Learning Rates, ESANN 2017",
            "Algorithm 1 of the paper (independent transcription; TF2 package for "
            "variant='tensorflow')",
            r"\zeta_t=\begin{cases}\min(\eta_+\zeta_{t-1},\zeta_{\max})&g_tg_{t-1}>0\\"
            r"\max(\eta_-\zeta_{t-1},\zeta_{\min})&g_tg_{t-1}<0\\\zeta_{t-1}&\text{else}\end{cases}"
            r",\ Z_t=\alpha Z_{t-1}+(1-\alpha)\zeta_t,\ \theta_t=\alpha\theta_{t-1}+(1-\alpha)"
            r"g_t^2,\ w_{t+1}=w_t-\lambda Z_t\frac{g_t}{\theta_t+\varepsilon}",
            r"\lambda Z_t\,/\,(\theta_t+\varepsilon)",
            (
                _lr(0.001),
                _beta("alpha", 0.9, "Decay rate of the moving averages Z and theta."),
                HParam(
                    "eta_plus",
                    1.2,
                    1.01,
                    3.0,
                    "linear",
                    "Factor applied to zeta when the gradient keeps its sign.",
                ),
                HParam(
                    "eta_minus",
                    0.1,
                    0.01,
                    0.99,
                    "linear",
                    "Factor applied to zeta when the gradient changes sign.",
                ),
                HParam(
                    "zeta_min",
                    0.01,
                    1e-4,
                    1.0,
                    "log",
                    "Minimum clipping value for the per-weight acceleration factor.",
                ),
                HParam(
                    "zeta_max",
                    100.0,
                    1.0,
                    1e4,
                    "log",
                    "Maximum clipping value for the per-weight acceleration factor.",
                ),
                _eps(1e-7),
                HParam(
                    "variant",
                    "paper",
                    None,
                    None,
                    "linear",
                    "paper: Algorithm 1 (1/theta); paper_sqrt: 1/(sqrt(theta)+eps); "
                    "tensorflow: the published TF2 package, deviations and all.",
                    kind="choice",
                    choices=wame.VARIANTS,
                    static=True,
                ),
            ),
            (("zeta", r"\zeta_t"), ("z", "Z_t"), ("theta", r"\theta_t")),
        ),
    ]
}

# The options every optimizer accepts (the AdamW document's list).
OPTIONS: tuple[HParam, ...] = (
    HParam(
        "clipnorm",
        None,
        1e-3,
        100.0,
        "log",
        "Clip each weight tensor's gradient to this norm.",
        static=True,
    ),
    HParam(
        "clipvalue",
        None,
        1e-3,
        100.0,
        "log",
        "Clip each gradient element to [-value, value].",
        static=True,
    ),
    HParam(
        "global_clipnorm",
        None,
        1e-3,
        100.0,
        "log",
        "Clip all gradients together to this global norm.",
        static=True,
    ),
    HParam(
        "weight_decay",
        None,
        0.0,
        0.5,
        "linear",
        "Decoupled weight decay: w <- w - lr * weight_decay * w.",
        static=True,
    ),
    _flag("use_ema", False, "Keep an exponential moving average of the weights."),
    HParam(
        "ema_momentum",
        0.99,
        0.0,
        1.0,
        "linear",
        "Momentum of the weight average: new = m * old + (1 - m) * w.",
    ),
    HParam(
        "ema_overwrite_frequency",
        None,
        1,
        1000,
        "log",
        "Every this many steps, overwrite the weights with their average.",
        kind="int",
        static=True,
    ),
    HParam(
        "loss_scale_factor",
        None,
        1e-3,
        1e6,
        "log",
        "Gradients are divided by this factor (mixed-precision loss scaling).",
        static=True,
    ),
    HParam(
        "gradient_accumulation_steps",
        None,
        1,
        64,
        "linear",
        "Update every k steps with the mean of the k gradients.",
        kind="int",
        static=True,
    ),
)


def get(name: str) -> OptimizerInfo:
    """The registry entry of an optimizer, by name (case-insensitive)."""
    if isinstance(name, str) and name in OPTIMIZERS:  # the usual case, on every run's hot path
        return OPTIMIZERS[name]
    for key, info in OPTIMIZERS.items():
        if key.lower() == str(name).lower():
            return info
    raise ValueError(f"unknown optimizer {name!r}; known: {', '.join(OPTIMIZERS)}")
