"""The README stays true: its test command is what CI runs, and its examples run."""

from __future__ import annotations

import re
from pathlib import Path

import jax
import jax.numpy as jnp

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_quick_start_has_exactly_two_commands():
    assert len(_quick_start_commands()) == 2


def test_ci_runs_the_readme_test_command():
    test_command = _quick_start_commands()[1]
    assert "pytest" in test_command
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in ci


def test_wame_optax_example_runs():
    block = README.split("### WAME in an optax training loop", 1)[1]
    code = re.search(r"```python\n(.*?)```", block, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # our own README, not user input
    start = {
        "W1": 0.3 * jax.random.normal(jax.random.PRNGKey(0), (3, 8)),
        "W2": jnp.full((8, 1), 0.1),
    }
    x, y = namespace["x"], namespace["y"]
    assert float(namespace["loss"](namespace["params"], x, y)) < 0.5 * float(
        namespace["loss"](start, x, y)
    )


def test_readme_lists_every_surface_as_the_registry_describes_it():
    from surfaces.registry import catalogue_markdown

    assert catalogue_markdown() in README


def _sharing_section() -> str:
    return README.split("## Sharing and the classroom", 1)[1].split("\n## ", 1)[0]


def test_readme_sharing_examples_open_what_it_says():
    """The sharing section's example links decode with no warning; its lesson example opens
    the stage it names (stages counting from 1), and it promises bit-for-bit reruns on the same
    platform only."""
    from urllib.parse import parse_qs

    from app import lessons, share

    text = " ".join(_sharing_section().split())
    examples = re.findall(r"`\?([^`]+)`", text)
    assert len(examples) == 2, examples
    for example in examples:
        query = parse_qs(example)
        scene, warnings = share.decode(query)
        assert warnings == [], (example, warnings)
    lesson_query = parse_qs(examples[1])
    scene = lessons.opened(share.decode(lesson_query)[0], lesson_query, [])
    assert "counting from 1" in text and scene.stage == int(lesson_query["stage"][0]) - 1
    assert lessons.is_as_written(scene)
    assert "bit for bit" in text and "same platform" in text and "rounding" in text
    assert "anywhere runs the same trajectories bit for bit" not in text


def test_readme_optimizer_table_is_written_from_the_declarations():
    import optimizers

    assert optimizers.readme_table() in README, (
        "README.md's optimizer table is stale: paste optimizers.readme_table() in its place"
    )
