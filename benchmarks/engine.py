"""The engine against the usual ways of doing the same work, scenes S1-S4 side by side.

    PYTHONPATH=. .venv/bin/python benchmarks/engine.py [--quick] [--out FILE]

Scenes (Rosenbrock from (-1.5, 2.0) unless said otherwise):

* S1: one path, Adam, 10,000 steps;
* S2: eight optimizers (SGD, Momentum, Nesterov, Adagrad, RMSprop, Adam, Adamax, Nadam) x 1,000
  steps;
* S3: a 64 x 64 Adam learning-rate x beta_1 grid x 500 steps, final loss per cell;
* S4: the ``mlp`` surface (337 weights), the same eight optimizers x 500 steps.

Implementations:

* ``ours``: ``trajectories.run`` / ``trajectories.sweeps.hyperparameter_grid``, end to end;
* ``optax``: optax in a jitted ``lax.scan`` recording position and loss per step, one jit per
  optimizer called in sequence; S3: one ``vmap``-ped scan of
  ``optax.inject_hyperparams(optax.adam)``, final loss only;
* ``optax-fused`` (S2, S4): the same scans, all in one ``jax.jit``;
* ``numpy``: a Python loop over steps, one update rule per optimizer in the kerasy style
  (Keras 3 formulas, float64); S3: the same loop vectorized over the cells;
* ``torch``: ``torch.optim`` in a ``zero_grad/backward/step`` loop (S3: timed on a few cells,
  scaled to the grid).

Every (scene, implementation) runs in a fresh child process: *cold* is its first call
(compilation included, imports excluded), repeated in fresh processes; *warm* the median of
repeated calls after a warm-up, each ending with every result in NumPy; *peak RSS* the child's
``ru_maxrss``. Then, per scene, the JAX implementations interleaved call by call in one process
(robust to the load drifting), and a recompile check: value-only changes must compile nothing
(XLA compiles counted with ``jax.monitoring``). Writes tables only (``--out``).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.machine import describe, git_revision, loadavg, now, table  # noqa: E402

MARK = "@@BENCH@@"
START = (-1.5, 2.0)
# Learning rates that keep every path finite on Rosenbrock from START (and on the MLP).
LR = {"SGD": 1e-3, "Momentum": 1e-3, "Nesterov": 1e-3, "Adagrad": 0.5, "RMSprop": 1e-3,
      "Adam": 0.01, "Adamax": 0.1, "Nadam": 0.01}  # fmt: skip
KINDS = tuple(LR)
EPS, MOMENTUM = 1e-7, 0.9  # Keras's epsilon and a common momentum, used by every implementation
SCENES = ("S1", "S2", "S3", "S4")
IMPLS = ("ours", "optax", "optax-fused", "numpy", "torch")
JAX_IMPLS = ("ours", "optax", "optax-fused")


def applies(impl: str, scene: str) -> bool:
    return impl != "optax-fused" or scene in ("S2", "S4")


@dataclasses.dataclass(frozen=True)
class Config:
    quick: bool
    steps: dict  # scene -> steps
    kinds: tuple  # S2 and S4
    side: int  # S3 grid side
    reps: int  # warm repeats
    cold_runs: int  # fresh processes per cold figure
    torch_cells: int  # torch S3 is timed on this many cells and scaled


def config(quick: bool) -> Config:
    if quick:
        return Config(True, {"S1": 1000, "S2": 200, "S3": 100, "S4": 100}, ("SGD", "Adam", "Nadam"),
                      8, 3, 1, 2)  # fmt: skip
    return Config(False, {"S1": 10_000, "S2": 1000, "S3": 500, "S4": 500}, KINDS, 64, 9, 3, 16)


def kinds_of(scene: str, cfg: Config) -> tuple[str, ...]:
    return ("Adam",) if scene in ("S1", "S3") else cfg.kinds


def grid(cfg: Config) -> tuple[np.ndarray, np.ndarray]:
    """S3's cells: learning rates (log-spaced 1e-4 .. 1) x beta_1 (0 .. 0.99), flattened."""
    lr, b1 = np.meshgrid(
        np.geomspace(1e-4, 1.0, cfg.side), np.linspace(0.0, 0.99, cfg.side), indexing="ij"
    )
    return lr.ravel(), b1.ravel()


# ---- losses in NumPy (the NumPy baseline, and every implementation's final losses) -----------
def rosenbrock(w):
    return (1.0 - w[..., 0]) ** 2 + 100.0 * (w[..., 1] - w[..., 0] ** 2) ** 2


def rosenbrock_grad(w):
    x, y = w[..., 0], w[..., 1]
    return np.stack([-2.0 * (1.0 - x) - 400.0 * x * (y - x**2), 200.0 * (y - x**2)], axis=-1)


def mlp_loss_grad(w, s):
    """The ``mlp`` surface's loss (tanh layers, binary cross-entropy) and its gradient by
    hand-written backpropagation."""
    x, y = np.asarray(s.theta["x"], np.float64), np.asarray(s.theta["y"], np.float64)
    p, i = [], 0
    for _, shape in s.layers:
        p.append(w[i : i + math.prod(shape)].reshape(shape))
        i += math.prod(shape)
    weights, biases, hs = p[0::2], p[1::2], [x]
    for W, b in zip(weights[:-1], biases[:-1], strict=True):
        hs.append(np.tanh(hs[-1] @ W + b))
    z = (hs[-1] @ weights[-1] + biases[-1])[:, 0]
    d = ((1.0 / (1.0 + np.exp(-z)) - y) / len(y))[:, None]
    grads: list = []
    for k in range(len(weights) - 1, -1, -1):
        grads[:0] = [hs[k].T @ d, d.sum(axis=0)]
        d = (d @ weights[k].T) * (1.0 - hs[k] ** 2)
    return float(np.mean(np.logaddexp(0.0, z) - y * z)), np.concatenate([g.ravel() for g in grads])


def problem(scene: str):
    """(NumPy loss and gradient, start point, surface or None) of S1, S2, S4."""
    if scene != "S4":
        return lambda w: (rosenbrock(w), rosenbrock_grad(w)), np.asarray(START), None
    import surfaces

    s = surfaces.get("mlp")
    return lambda w: mlp_loss_grad(w, s), np.asarray(s.starts[0], np.float64), s


def final_losses(scene: str, finals: dict[str, np.ndarray]) -> dict[str, float]:
    loss_grad = problem(scene)[0]
    return {k: float(loss_grad(np.asarray(w, np.float64))[0]) for k, w in finals.items()}


def grid_summary(f: np.ndarray) -> dict:
    finite = np.isfinite(f)
    return {
        "finite": float(finite.mean()),
        "best": float(f[finite].min()) if finite.any() else None,
    }


# ---- (numpy) kerasy-style rules: state in a dict, t counts from 1 -------------------------------
def sgd(w, g, s, t, lr):
    return w - lr * g


def momentum(w, g, s, t, lr):
    s["m"] = g + MOMENTUM * s.get("m", 0.0)
    return w - lr * s["m"]


def nesterov(w, g, s, t, lr):
    s["m"] = g + MOMENTUM * s.get("m", 0.0)
    return w - lr * (g + MOMENTUM * s["m"])


def adagrad(w, g, s, t, lr):
    s["v"] = s.get("v", 0.0) + g * g
    return w - lr * g / np.sqrt(s["v"] + EPS)


def rmsprop(w, g, s, t, lr):
    s["v"] = 0.9 * s.get("v", 0.0) + 0.1 * g * g
    return w - lr * g / np.sqrt(s["v"] + EPS)


def adam(w, g, s, t, lr, b1=0.9, b2=0.999):
    s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
    return w - lr * np.sqrt(1 - b2**t) / (1 - b1**t) * s["m"] / (np.sqrt(s["v"]) + EPS)


def adamax(w, g, s, t, lr, b1=0.9, b2=0.999):
    s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
    s["u"] = np.maximum(b2 * s.get("u", 0.0), np.abs(g))
    return w - lr / (1 - b1**t) * s["m"] / (s["u"] + EPS)


def nadam(w, g, s, t, lr, b1=0.9, b2=0.999):
    u_t, u_next = b1 * (1 - 0.5 * 0.96**t), b1 * (1 - 0.5 * 0.96 ** (t + 1))
    s["prod"] = s.get("prod", 1.0) * u_t
    s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
    m_hat = u_next * s["m"] / (1 - s["prod"] * u_next) + (1 - u_t) * g / (1 - s["prod"])
    return w - lr * m_hat / (np.sqrt(s["v"] / (1 - b2**t)) + EPS)


RULES = {"SGD": sgd, "Momentum": momentum, "Nesterov": nesterov, "Adagrad": adagrad,
         "RMSprop": rmsprop, "Adam": adam, "Adamax": adamax, "Nadam": nadam}  # fmt: skip


def numpy_loop(loss_grad, rule, w0, steps, record=True, **hp):
    """The loop, written once: positions and losses of every step (or the last point only)."""
    w, s = w0, {}
    positions, losses = [w0], []
    with np.errstate(all="ignore"):
        for t in range(1, steps + 1):
            value, g = loss_grad(w)
            w = rule(w, g, s, t, **hp)
            if record:
                positions.append(w)
                losses.append(value)
    return np.asarray(positions if record else [w]), np.asarray(losses)


# ---- the implementations: build(scene, cfg) -> (call, summary of call's result) -------------
def experiment(scene: str, cfg: Config):
    from trajectories import Experiment, OptimizerSpec

    specs = tuple(OptimizerSpec(k, {"learning_rate": LR[k]}) for k in kinds_of(scene, cfg))
    if scene == "S4":
        return Experiment("mlp", optimizers=specs, steps=cfg.steps[scene])
    return Experiment("rosenbrock", optimizers=specs, starts=(START,), steps=cfg.steps[scene])


def sweep(e, cfg: Config, lo=1e-4, hi=1.0, b_lo=0.0, b_hi=0.99):
    """S3 as the engine runs it: ``hyperparameter_grid`` over learning rate x beta_1, asked for
    the final loss alone, as the app's grid asks for the metric it draws (``app/compute.py``)."""
    from trajectories.sweeps import Axis, hyperparameter_grid

    axes = [Axis("learning_rate", lo, hi, cfg.side, log=True), Axis("beta_1", b_lo, b_hi, cfg.side)]
    return lambda: hyperparameter_grid(e, 0, axes, metrics=("final_loss",))


def build_ours(scene: str, cfg: Config):
    from trajectories import run

    e, kinds = experiment(scene, cfg), kinds_of(scene, cfg)
    if scene == "S3":
        call = sweep(e, cfg)
        return call, lambda g: {**grid_summary(g.final_loss), "bytes": nbytes(g)}
    return lambda: run(e), lambda r: {
        "final": final_losses(scene, {k: r.position[i, 0, -1] for i, k in enumerate(kinds)}),
        "bytes": nbytes(r),
    }


def nbytes(x) -> int:
    """Bytes of every NumPy array reachable from a result's fields."""
    if isinstance(x, np.ndarray):
        return x.nbytes
    if isinstance(x, dict):
        return sum(nbytes(v) for v in x.values())
    if isinstance(x, (list, tuple)):
        return sum(nbytes(v) for v in x)
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return sum(nbytes(getattr(x, f.name)) for f in dataclasses.fields(x))
    return 0


def build_optax(scene: str, cfg: Config, fused: bool = False):
    import jax
    import jax.numpy as jnp
    import optax

    if scene == "S4":
        import surfaces

        s = surfaces.get("mlp")
        w0 = jnp.asarray(s.starts[0], jnp.float32)

        def loss(w):
            return s.fn(w, s.theta)

    else:
        w0 = jnp.asarray(START, jnp.float32)

        def loss(w):
            return (1.0 - w[0]) ** 2 + 100.0 * (w[1] - w[0] ** 2) ** 2

    def scan(tx, steps, w0, record=True):
        def step(carry, _):
            w, state = carry
            value, g = jax.value_and_grad(loss)(w)
            updates, state = tx.update(g, state, w)
            w = optax.apply_updates(w, updates)
            return (w, state), ((w, value) if record else None)

        (w, _), out = jax.lax.scan(step, (w0, tx.init(w0)), None, length=steps)
        return out if record else loss(w)

    steps = cfg.steps[scene]
    if scene == "S3":
        lrs, b1s = (jnp.asarray(a, jnp.float32) for a in grid(cfg))
        adam_ = optax.inject_hyperparams(optax.adam)
        cells = jax.jit(jax.vmap(lambda lr, b1: scan(adam_(lr, b1=b1, eps=EPS), steps, w0, False)))
        return lambda: np.asarray(cells(lrs, b1s)), grid_summary
    txs = {"SGD": optax.sgd(LR["SGD"]), "Momentum": optax.sgd(LR["Momentum"], MOMENTUM),
           "Nesterov": optax.sgd(LR["Nesterov"], MOMENTUM, nesterov=True),
           "Adagrad": optax.adagrad(LR["Adagrad"], initial_accumulator_value=0.0, eps=EPS),
           "RMSprop": optax.rmsprop(LR["RMSprop"], decay=0.9, eps=EPS),
           "Adam": optax.adam(LR["Adam"], eps=EPS), "Adamax": optax.adamax(LR["Adamax"], eps=EPS),
           "Nadam": optax.nadam(LR["Nadam"], eps=EPS)}  # fmt: skip
    paths = {k: (lambda w, tx=txs[k]: scan(tx, steps, w)) for k in kinds_of(scene, cfg)}
    if fused:
        every = jax.jit(lambda w: {k: f(w) for k, f in paths.items()})

        def call():
            return jax.device_get(every(w0))

    else:
        jitted = {k: jax.jit(f) for k, f in paths.items()}

        def call():
            return {k: jax.device_get(f(w0)) for k, f in jitted.items()}

    return call, lambda out: paths_summary(scene, out)


def paths_summary(scene: str, out: dict) -> dict:
    return {
        "final": final_losses(scene, {k: pos[-1] for k, (pos, _) in out.items()}),
        "bytes": sum(a.nbytes for pair in out.values() for a in pair),
    }


def build_numpy(scene: str, cfg: Config):
    if scene == "S3":
        lr, b1 = (a[:, None] for a in grid(cfg))
        w0 = np.tile(np.asarray(START, np.float64), (len(lr), 1))

        def call():
            positions, _ = numpy_loop(
                problem("S1")[0], adam, w0, cfg.steps["S3"], False, lr=lr, b1=b1
            )
            return rosenbrock(positions[-1])

        return call, grid_summary
    loss_grad, w0, s = problem(scene)
    if s is not None:
        check_mlp(s, loss_grad, w0)

    def call():
        return {
            k: numpy_loop(loss_grad, RULES[k], w0, cfg.steps[scene], lr=LR[k])
            for k in kinds_of(scene, cfg)
        }

    return call, lambda out: paths_summary(scene, out)


def check_mlp(s, loss_grad, w0) -> None:
    """The hand-written NumPy MLP must be the surface's loss (checked once, not timed)."""
    import jax

    value, g = jax.value_and_grad(lambda v: s.fn(v, s.theta))(np.asarray(w0, np.float32))
    mine, my_g = loss_grad(w0)
    if not (np.isclose(mine, float(value), rtol=1e-4) and np.allclose(my_g, g, atol=1e-5)):
        raise AssertionError("the NumPy MLP does not match surfaces.get('mlp').fn")


def build_torch(scene: str, cfg: Config):
    import torch

    # One intra-op thread: these tensors are tiny, and on a busy 2-core machine the default two
    # OpenMP threads spin-wait for each other (10-20x slower per step, measured).
    torch.set_num_threads(1)
    o = torch.optim
    make = {"SGD": lambda p, lr, b1: o.SGD(p, lr=lr),
            "Momentum": lambda p, lr, b1: o.SGD(p, lr=lr, momentum=MOMENTUM),
            "Nesterov": lambda p, lr, b1: o.SGD(p, lr=lr, momentum=MOMENTUM, nesterov=True),
            "Adagrad": lambda p, lr, b1: o.Adagrad(p, lr=lr, initial_accumulator_value=0.0,
                                                   eps=EPS),
            "RMSprop": lambda p, lr, b1: o.RMSprop(p, lr=lr, alpha=0.9, eps=EPS),
            "Adam": lambda p, lr, b1: o.Adam(p, lr=lr, betas=(b1, 0.999), eps=EPS),
            "Adamax": lambda p, lr, b1: o.Adamax(p, lr=lr, betas=(b1, 0.999), eps=EPS),
            "Nadam": lambda p, lr, b1: o.NAdam(p, lr=lr, betas=(b1, 0.999), eps=EPS)}  # fmt: skip
    _, w0, s = problem(scene)
    if s is None:

        def loss(w):
            return (1.0 - w[0]) ** 2 + 100.0 * (w[1] - w[0] ** 2) ** 2

    else:
        x, y = (torch.tensor(np.asarray(s.theta[k]), dtype=torch.float32) for k in ("x", "y"))

        def loss(w):
            parts, i = [], 0
            for _, shape in s.layers:
                parts.append(w[i : i + math.prod(shape)].view(shape))
                i += math.prod(shape)
            h = x
            for W, b in zip(parts[0:-2:2], parts[1:-2:2], strict=True):
                h = torch.tanh(h @ W + b)
            z = (h @ parts[-2] + parts[-1])[:, 0]
            return (torch.nn.functional.softplus(z) - y * z).mean()

    def path(kind, lr, steps, b1=0.9):
        w = torch.tensor(w0, dtype=torch.float32, requires_grad=True)
        opt = make[kind]([w], lr, b1)
        positions, losses = [w.detach().numpy().copy()], []
        for _ in range(steps):
            opt.zero_grad()
            value = loss(w)
            value.backward()
            opt.step()
            losses.append(value.item())
            positions.append(w.detach().numpy().copy())
        return np.asarray(positions), np.asarray(losses, np.float32)

    if scene == "S3":
        lr, b1 = grid(cfg)
        cells = np.linspace(0, len(lr) - 1, cfg.torch_cells).astype(int)

        def call():
            ends = [path("Adam", float(lr[c]), cfg.steps["S3"], float(b1[c]))[0][-1] for c in cells]
            return rosenbrock(np.asarray(ends, np.float64))

        return call, lambda f: {**grid_summary(f), "scale": len(lr) / len(cells)}
    return lambda: {k: path(k, LR[k], cfg.steps[scene]) for k in kinds_of(scene, cfg)}, (
        lambda out: paths_summary(scene, out)
    )


BUILDERS = {
    "ours": build_ours,
    "optax": build_optax,
    "optax-fused": lambda scene, cfg: build_optax(scene, cfg, fused=True),
    "numpy": build_numpy,
    "torch": build_torch,
}


# ---- child processes ----------------------------------------------------------------------------
def timed(call) -> float:
    t = time.perf_counter()
    call()
    return time.perf_counter() - t


def child(scenes: list[str], impl: str, cfg: Config, cold_only: bool) -> dict:
    """``impl`` on each scene in this process: cold, then warm repeats, peak RSS, summary."""
    out = {}
    for scene in scenes:
        call, summary = BUILDERS[impl](scene, cfg)
        rec = out[scene] = {"cold": timed(call)}
        if cold_only:
            continue
        result = call()  # warm-up
        rec["warm"] = [timed(call) for _ in range(cfg.reps)]
        rec["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
        rec.update(summary(result))
    return out


def interleaved(scene: str, cfg: Config) -> dict:
    """The JAX implementations in one process, call by call (the same load for each)."""
    calls = {i: BUILDERS[i](scene, cfg)[0] for i in JAX_IMPLS if applies(i, scene)}
    for call in calls.values():
        call(), call()
    times: dict[str, list[float]] = {i: [] for i in calls}
    for _ in range(max(cfg.reps, 7)):
        for i, call in calls.items():
            times[i].append(timed(call))
    return times


def recompiles(cfg: Config) -> list[list]:
    """After warm-up, value-only changes of S2 and S3: the XLA compiles each one caused."""
    import jax.monitoring

    from trajectories import OptimizerSpec, run

    events: list[str] = []
    jax.monitoring.register_event_duration_secs_listener(lambda ev, secs, **kw: events.append(ev))
    e2, e3 = experiment("S2", cfg), experiment("S3", cfg)
    kinds = kinds_of("S2", cfg)

    def specs(scale=1.0, **adam):
        return tuple(OptimizerSpec(k, {"learning_rate": scale * LR[k], **(adam if k == "Adam"
                     else {})}) for k in kinds)  # fmt: skip

    cases = {
        "S2, every learning rate changed": lambda: run(e2.replace(optimizers=specs(2.0))),
        "S2, Adam's beta_1, beta_2, epsilon changed": lambda: run(
            e2.replace(optimizers=specs(beta_1=0.8, beta_2=0.99, epsilon=1e-6))),
        "S2, another start point (1.5, -0.5)": lambda: run(e2.replace(starts=((1.5, -0.5),))),
        "S2, Rosenbrock a=0.5, b=50": lambda: run(e2.replace(surface_params={"a": 0.5, "b": 50.0})),
        "S2, seed 7": lambda: run(e2.replace(seed=7)),
        "S3, other axis ranges (same sizes)": sweep(e3, cfg, 1e-3, 0.5, 0.5, 0.95),
        "S3, Adam epsilon 1e-5": sweep(e3.replace(optimizers=(OptimizerSpec(
            "Adam", {"learning_rate": LR["Adam"], "epsilon": 1e-5}),)), cfg),
    }  # fmt: skip
    run(e2), sweep(e3, cfg)()  # warm-up
    out = []
    for name, case in cases.items():
        before = len(events)
        case()
        out.append([name, sum(ev.endswith("backend_compile_duration") for ev in events[before:])])
    return out


def run_child(args: list[str], timeout: float = 1800) -> dict:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
    )
    for line in proc.stdout.splitlines():
        if line.startswith(MARK):
            return json.loads(line[len(MARK) :])
    raise RuntimeError(f"child {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")


# ---- the parent: measure, write tables ----------------------------------------------------------
def measure(cfg: Config, log) -> dict:
    """Full run: a fresh process per (scene, implementation) and per extra cold figure.
    Quick run: one process per implementation for all scenes."""
    quick = ["--quick"] if cfg.quick else []
    res: dict = {s: {} for s in SCENES}
    for impl in IMPLS:
        if impl == "torch" and importlib.util.find_spec("torch") is None:
            log("torch is not installed (requirements-bench.txt): no torch.optim baseline")
            continue
        scenes = [s for s in SCENES if applies(impl, s)]
        for group in [scenes] if cfg.quick else [[s] for s in scenes]:
            recs = run_child([",".join(group), impl, *quick])
            for _ in range(cfg.cold_runs - 1):
                for s, extra in run_child([",".join(group), impl, "--cold-only", *quick]).items():
                    recs[s]["cold"] = [*np.atleast_1d(recs[s]["cold"]), extra["cold"]]
            for s in group:
                res[s][impl] = {
                    **recs[s],
                    "colds": list(np.atleast_1d(recs[s]["cold"])),
                    "load": loadavg(),
                }
                log(
                    f"{s} {impl:12s} cold {np.median(res[s][impl]['colds']):8.3f} s  warm "
                    f"{np.median(res[s][impl]['warm']) * 1e3:10.3f} ms  load {loadavg()}"
                )
    for s in SCENES:
        res[s]["interleaved"] = run_child([s, "interleaved", *quick])
        res[s]["interleaved_load"] = loadavg()
        log(f"{s} interleaved done, load {loadavg()}")
    res["recompiles"] = run_child(["S2", "recompiles", *quick])
    return res


def ms(t: float) -> str:
    return f"{t * 1e3:.3g}" if t < 0.1 else f"{t * 1e3:,.0f}"


def med(xs) -> float:
    return float(statistics.median(xs))


TITLES = {"S1": "S1: Adam x {S1:,} steps, Rosenbrock",
          "S2": "S2: {n} optimizers x {S2:,} steps, Rosenbrock",
          "S3": "S3: {side} x {side} Adam learning-rate x beta_1 grid x {S3} steps, Rosenbrock",
          "S4": "S4: MLP (337 weights), {n} optimizers x {S4} steps"}  # fmt: skip
COLUMNS = ("implementation", "cold s: median (range)", "warm ms: median (min – max)", "/ ours",
           "interleaved warm ms", "/ ours", "peak RSS MB", "result MB", "load at end")  # fmt: skip


def tables(res: dict, cfg: Config) -> list[str]:
    lines = []
    for s in SCENES:
        impls, inter = [i for i in IMPLS if i in res[s]], res[s]["interleaved"]
        ours = med(res[s]["ours"]["warm"])
        rows = []
        for impl in impls:
            r = res[s][impl]
            k = r.get("scale", 1.0)  # torch S3: timed on a few cells, scaled to the grid
            warm, colds = [t * k for t in r["warm"]], r["colds"]
            t = inter.get(impl)
            rows.append((
                impl + (f" (x{k:g} from {cfg.torch_cells} cells)" if k != 1.0 else ""),
                "–" if k != 1.0 else f"{med(colds):.3g} ({min(colds):.3g} – {max(colds):.3g})",
                f"{ms(med(warm))} ({ms(min(warm))} – {ms(max(warm))})", f"{med(warm) / ours:.3g}",
                ms(med(t)) if t else "–", f"{med(t) / med(inter['ours']):.3g}" if t else "–",
                f"{r['rss_mb']:.0f}", f"{r['bytes'] / 2**20:.3g}" if "bytes" in r else "–",
                r["load"]))  # fmt: skip
        title = TITLES[s].format(n=len(kinds_of(s, cfg)), side=cfg.side, **cfg.steps)
        lines += [f"## {title}", "", *table(COLUMNS, rows), "",
                  f"Interleaved: {len(inter['ours'])} rounds in one process, load "
                  f"{res[s]['interleaved_load']} at end.", ""]  # fmt: skip
        if s == "S3":
            rows = [(i, f"{res[s][i]['finite']:.3f}", f"{res[s][i]['best']:.4g}") for i in impls]
            lines += table(("implementation", "cells finite", "best final loss"), rows)
        else:
            rows = [(k, *(f"{res[s][i]['final'][k]:.4g}" for i in impls)) for k in kinds_of(s, cfg)]
            lines += table(("final loss", *impls), rows)
        lines.append("")
    return lines


RATIOS = (  # (figure, scene, numerator, denominator or "" for seconds, cold?, target)
    ("S2 warm, ours / optax (separate jits)", "S2", "ours", "optax", False, "<= 1.5"),
    ("S2 warm, ours / optax-fused", "S2", "ours", "optax-fused", False, "<= 1.3"),
    ("S2 warm, numpy / ours", "S2", "numpy", "ours", False, ">= 100"),
    ("S3 warm, ours s", "S3", "ours", "", False, "< 1 s"),
    ("S3 warm, ours / optax (vmapped)", "S3", "ours", "optax", False, "<= 1.3"),
    ("S4 warm, ours / optax", "S4", "ours", "optax", False, "<= 1.5"),
    ("S4 warm, ours / optax-fused", "S4", "ours", "optax-fused", False, ""),
    ("S2 cold, ours s", "S2", "ours", "", True, "< 3 s"),
    ("S2 cold, ours / optax (separate jits)", "S2", "ours", "optax", True, "<= 1.5"),
    ("S2 cold, ours / optax-fused", "S2", "ours", "optax-fused", True, ""),
)


def ratios(res: dict) -> list[str]:
    def figure(s, a, b, cold, inter):
        if inter and (cold or a not in res[s]["interleaved"]):
            return "–"
        pick = lambda i: med(res[s]["interleaved"][i] if inter else res[s][i][  # noqa: E731
            "colds" if cold else "warm"])  # fmt: skip
        return f"{pick(a) / (pick(b) if b else 1.0):.3g}"

    rows = [(n, figure(s, a, b, c, False), figure(s, a, b, c, True), t)
            for n, s, a, b, c, t in RATIOS]  # fmt: skip
    head = ("figure", "separate processes", "interleaved", "target")
    return ["## Ratios", "", *table(head, rows), "", "## Recompiles after warm-up (value-only "
            "changes)", "", *table(("change", "XLA compiles"), res["recompiles"]), ""]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small scenes, few repeats (~2 min)")
    ap.add_argument(
        "--out",
        type=Path,
        help="Markdown tables (default: ENGINE_RESULTS.md; "
        "--quick: artifacts/ENGINE_RESULTS_quick.md)",
    )
    ap.add_argument("--child", nargs=2, metavar=("SCENES", "WHAT"), help=argparse.SUPPRESS)
    ap.add_argument("--cold-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    cfg = config(args.quick)
    if args.child:
        scenes, what = args.child
        if what == "interleaved":
            rec = interleaved(scenes, cfg)
        elif what == "recompiles":
            rec = recompiles(cfg)
        else:
            rec = child(scenes.split(","), what, cfg, args.cold_only)
        print(MARK + json.dumps(rec))
        return 0
    t0, load0 = time.perf_counter(), loadavg()
    info = {
        **describe(("jax", "jaxlib", "optax", "numpy", "torch")),
        "code": git_revision("trajectories", "optimizers", "surfaces"),
        "date": now(),
    }
    res = measure(cfg, lambda m: print(m, file=sys.stderr, flush=True))
    info["load average (1/5/15 min)"] = f"{load0} at start, {loadavg()} at end"
    info["run"] = f"{'quick' if cfg.quick else 'full'}, {(time.perf_counter() - t0) / 60:.1f} min"
    head = ["# Engine benchmark: tables", "", *table(("machine", ""), info.items()), ""]
    text = "\n".join(head + ratios(res) + tables(res, cfg))
    out = args.out or (
        ROOT
        / ("artifacts/ENGINE_RESULTS_quick.md" if cfg.quick else "benchmarks/ENGINE_RESULTS.md")
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text.rstrip() + "\n")
    print(text)
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
