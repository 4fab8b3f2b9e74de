"""A first look without the web app: every optimizer on Rosenbrock, as a table.

    python -m app.demo [--steps N]

Replaced by the Streamlit app as the Quick start's first command once the app lands.
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import optax

import optimizers

# Learning rates that make each optimizer's walk to (1, 1) worth watching.
DEMO_RATES = {
    "SGD": 1e-3,
    "Momentum": 1e-3,
    "Nesterov": 1e-3,
    "Adagrad": 0.5,
    "RMSprop": 1e-3,
    "Adadelta": 0.05,
    "Adam": 0.01,
    "AMSGrad": 0.03,
    "AdamW": 0.01,
    "Adamax": 0.1,
    "Nadam": 0.01,
    "LARS": 1.0,
    "WAME": 1e-3,
}


def rosenbrock(w):
    return (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2


def walk(opt, steps: int):
    def body(carry, _):
        w, s = carry
        u, s = opt.update(jax.grad(rosenbrock)(w), s, w)
        return (optax.apply_updates(w, u), s), None

    w0 = jnp.array([-1.5, 2.0])
    (w, s), _ = jax.jit(lambda w: jax.lax.scan(body, (w, opt.init(w)), None, length=steps))(w0)
    return w, opt.learning_rates(s)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    args = parser.parse_args(argv)
    print(f"Rosenbrock from (-1.5, 2.0), {args.steps} steps; minimum f(1, 1) = 0\n")
    print(f"{'optimizer':<10} {'lr':>7} {'final x, y':>22} {'loss':>10}  per-weight lr (x, y)")
    for name, info in optimizers.OPTIMIZERS.items():
        lr = DEMO_RATES[name]
        w, rates = walk(info.make(learning_rate=lr), args.steps)
        xy = f"({float(w[0]):+.4f}, {float(w[1]):+.4f})"
        print(
            f"{name:<10} {lr:>7g} {xy:>22} {float(rosenbrock(w)):>10.2e}  "
            f"{float(rates[0]):.3g}, {float(rates[1]):.3g}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
