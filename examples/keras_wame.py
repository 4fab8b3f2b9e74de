"""WAME as a Keras 3 optimizer, next to Adam: ``model.compile(optimizer=WAME(), ...)``.

A small classifier on a dataset generated here (two interleaved spirals, no download), trained
from the same initial weights with ``optimizers.keras.WAME()`` and ``keras.optimizers.Adam()``;
prints both loss curves, one value per epoch.

    KERAS_BACKEND=jax python examples/keras_wame.py --epochs 20
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("KERAS_BACKEND", "jax")  # our Keras classes run on the JAX backend

import keras
import numpy as np

from optimizers.keras import WAME


def spirals(n: int = 512, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved noisy spirals in the plane, labels 0 and 1."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0.25, 3.0, n) * np.pi
    label = rng.integers(0, 2, n)
    angle = t + np.pi * label
    x = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1) / np.pi
    x += rng.normal(0, 0.05, x.shape)
    return x.astype(keras.config.floatx()), label


def model(seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)  # the same initial weights for every optimizer
    return keras.Sequential(
        [
            keras.Input((2,)),
            keras.layers.Dense(32, activation="tanh"),
            keras.layers.Dense(32, activation="tanh"),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )


def loss_curves(epochs: int = 20, batch_size: int = 32) -> dict[str, list[float]]:
    """Training loss per epoch for WAME and Adam, each with its default arguments."""
    x, y = spirals()
    curves = {}
    for name, optimizer in (("WAME", WAME()), ("Adam", keras.optimizers.Adam())):
        m = model()
        m.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        history = m.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=False, verbose=0)
        curves[name] = history.history["loss"]
    return curves


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args(argv)
    for name, losses in loss_curves(args.epochs).items():
        print(f"{name:5s} loss: " + " ".join(f"{v:.4f}" for v in losses))


if __name__ == "__main__":
    main()
