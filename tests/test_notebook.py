"""app.notebook and examples/optimizers.ipynb: the display in Jupyter, and the notebook run.

The notebook is executed with nbclient on a real ``python3`` kernel (ipykernel), with this
checkout first on the kernel's path; its outputs are then checked, and the player it displayed
is opened in headless chromium from the HTML it produced and must play.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import app.notebook as nb
from tests.browser import open_page, screenshot
from trajectories import Experiment, OptimizerSpec, run
from trajectories.sweeps import Axis, basins, hyperparameter_grid

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "optimizers.ipynb"
NOTEBOOK_SECONDS = 240  # the whole notebook, on a loaded 2-core machine
STATE = "document.querySelector('.optviz').__optviz.state()"


@pytest.fixture(scope="module")
def experiment() -> Experiment:
    return Experiment(
        surface="rosenbrock",
        optimizers=(
            OptimizerSpec("Adam", {"learning_rate": 0.05}, name="Adam fast"),
            OptimizerSpec("WAME"),
        ),
        steps=60,
    )


@pytest.fixture(scope="module")
def result(experiment):
    return run(experiment)


def _external_references(page: str) -> list[str]:
    return re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page, re.I)


# ---- html(): pages with everything inlined ---------------------------------------------------
def test_html_of_a_run_is_the_offline_player_with_the_experiments_names(result, experiment):
    page = nb.html(result, experiment=experiment, options={"autoplay": False})
    assert page.startswith("<!DOCTYPE html>") and "Content-Security-Policy" in page
    assert "default-src 'none'" in page and "connect-src 'none'" in page
    assert _external_references(page) == []
    assert "Adam fast" in page  # the description's name, not only the kind
    assert '"autoplay":false' in page
    assert "Adam fast" not in nb.html(result)  # an engine result alone: its kinds


def test_html_of_sweeps_is_a_heatmap_page(experiment):
    grid = hyperparameter_grid(experiment, 0, [Axis("learning_rate", 1e-3, 0.3, 5, log=True)])
    page = nb.html(grid)
    assert _external_references(page) == [] and "default-src 'none'" in page
    assert page.count("<rect") >= 5 and "<script" not in page
    best = grid.best()["learning_rate"]
    assert f"learning_rate = {best:.4g}" in page  # the outlined cell is named
    cells = re.findall(r'<rect [^>]*fill="(#[0-9a-f]{6})"[^>]*><title>', page)
    order = np.argsort(np.asarray(grid.final_loss))
    assert cells[order[0]] != cells[order[-1]]  # the best and worst cells differ in colour
    two = hyperparameter_grid(
        experiment, 0, [Axis("learning_rate", 1e-3, 0.3, 4, log=True), Axis("beta_1", 0.5, 0.9, 3)]
    )
    assert len(re.findall(r"<title>beta_1 = [^<]*, learning_rate = ", nb.html(two))) == 12
    b = basins(experiment, 0, n=6)
    page = nb.html(b)
    assert page.count("<title>x = ") == 36 and _external_references(page) == []


def test_html_refuses_what_it_cannot_show():
    with pytest.raises(TypeError, match=r"cannot show a dict; give a run's Result"):
        nb.html({"a": 1})
    with pytest.raises(ValueError, match="unknown metric 'speed'"):
        nb.html(
            hyperparameter_grid(
                Experiment(optimizers=(OptimizerSpec("SGD"),), steps=5),
                0,
                [Axis("learning_rate", 1e-3, 1e-2, 2)],
            ),
            metric="speed",
        )


def test_the_heatmap_page_of_a_final_loss_grid_shows_what_was_computed():
    e = Experiment(optimizers=(OptimizerSpec("SGD"),), steps=20)
    axes = [Axis("learning_rate", 1e-3, 1e-1, 3, log=True)]
    lean = hyperparameter_grid(e, 0, axes, metrics=["final_loss"])
    page = nb.html(lean)
    table = page[page.index("<table") :]
    assert "<th>final_loss</th>" in table and "loss_auc" not in table
    assert table.count("<tr>") == 4  # a head and one row a cell
    full = hyperparameter_grid(e, 0, axes)
    assert full.diverged.any() and not full.diverged.all()
    for v in full.final_loss:  # the lean grid's cells are the full grid's (a dash: diverged)
        assert (f"<td>{v:.4g}</td>" if np.isfinite(v) else "<td>—</td>") in table
    with pytest.raises(ValueError, match="loss_auc was not computed for this grid"):
        nb.html(lean, metric="loss_auc")


# ---- show() and the formatters ----------------------------------------------------------------
def test_importing_registers_the_html_formatter_of_an_ipython_shell(result):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    assert nb.register_formatters(shell)
    data, _ = shell.display_formatter.format(result)
    frame = data["text/html"]
    assert frame.startswith("<iframe srcdoc=") and 'sandbox="allow-scripts' in frame
    inner = html.unescape(re.search(r'srcdoc="([^"]*)"', frame).group(1))
    assert inner.startswith("<!DOCTYPE html>") and "optviz-data" in inner


def test_without_ipython_html_works_and_show_says_what_is_missing(tmp_path):
    code = (
        "import sys; sys.modules['IPython'] = None\n"  # as if IPython were not installed
        "import app.notebook as nb\n"
        "from trajectories import Experiment, OptimizerSpec, run\n"
        "r = run(Experiment(optimizers=(OptimizerSpec('SGD'),), steps=5))\n"
        "assert nb.html(r).startswith('<!DOCTYPE html>')\n"
        "assert not nb.register_formatters()\n"
        "nb.show(r)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert out.returncode == 1, out.stderr
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: app.notebook.show needs IPython"), last
    assert "app.notebook.html(result) returns the page without it" in last


# ---- the example notebook -----------------------------------------------------------------
@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """examples/optimizers.ipynb run top to bottom on a python3 kernel: (notebook, seconds)."""
    import nbclient
    import nbformat

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    saved = os.environ.get("PYTHONPATH")
    # The kernel inherits the environment: this checkout before any installed copy.
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), saved) if p)
    try:
        began = time.monotonic()
        nbclient.NotebookClient(
            notebook,
            kernel_name="python3",
            timeout=NOTEBOOK_SECONDS,
            resources={"metadata": {"path": str(NOTEBOOK.parent)}},
        ).execute()
        seconds = time.monotonic() - began
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH")
        else:
            os.environ["PYTHONPATH"] = saved
    return notebook, seconds


def _outputs(notebook, marker: str) -> list[dict]:
    cells = [c for c in notebook.cells if c.cell_type == "code" and marker in c.source]
    assert len(cells) == 1, marker
    return cells[0].outputs


def _printed(outputs) -> str:
    return "".join(o.get("text", "") for o in outputs if o.output_type == "stream")


def _html_output(outputs) -> str:
    shown = [o for o in outputs if "text/html" in o.get("data", {})]
    assert len(shown) == 1, [o.output_type for o in outputs]
    return shown[0]["data"]["text/html"]


def test_the_notebook_runs_without_errors(executed):
    notebook, seconds = executed
    assert seconds < NOTEBOOK_SECONDS
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert all(o.output_type != "error" for o in cell.outputs), cell.source[:60]
    player = _html_output(_outputs(notebook, "result  # the last line"))
    assert player.startswith("<iframe srcdoc=") and _external_references(player) == []
    heatmap = _html_output(_outputs(notebook, "hyperparameter_grid("))
    assert "<svg" in html.unescape(heatmap) and "best cell (outlined)" in html.unescape(heatmap)
    summary = _printed(_outputs(notebook, "result.summary()"))
    assert {"Adam", "WAME", "Momentum"} <= {line.split(":")[0].strip() for line in
                                            summary.splitlines()}  # fmt: skip
    curves = {}
    for line in _printed(_outputs(notebook, "WAME()")).splitlines():
        name, values = line.split(" loss per epoch:")
        curves[name.strip()] = [float(v) for v in values.split()]
    assert set(curves) == {"WAME", "Adam"} and all(len(c) == 5 for c in curves.values())
    assert curves["WAME"][-1] < curves["WAME"][0] and curves["Adam"][-1] < curves["Adam"][0]


def test_the_player_the_notebook_produced_plays_in_a_browser(browser, executed, tmp_path):
    frame = _html_output(_outputs(executed[0], "result  # the last line"))
    path = tmp_path / "notebook_output.html"  # the output as a notebook page would hold it
    path.write_text(f"<!DOCTYPE html><html><body>{frame}</body></html>", encoding="utf-8")
    page, log = open_page(browser, path.as_uri(), width=1100, height=960)
    player = page.frame_locator("iframe")
    inner = next(f for f in page.frames if f != page.main_frame)
    inner.wait_for_function(
        "() => { const r = document.querySelector('.optviz'); return r && r.__optviz && "
        "r.__optviz.state().imageReady && r.__optviz.state().drawn > 2; }",
        timeout=20_000,
    )
    first = inner.evaluate(STATE)
    assert first["playing"] and first["failed"] == [] and not any(first["errors"].values())
    assert set(first["panels"]) >= {"surface", "lr", "loss"}
    inner.wait_for_function(
        f"(f) => {STATE}.frame !== f && {STATE}.drawn > {first['drawn'] + 5}",
        arg=first["frame"],
        timeout=10_000,
    )
    assert player.locator("[data-testid='ov-surface']").count() == 1
    screenshot(page, "notebook_player", full_page=False)
    assert log.external_requests == []
    log.assert_clean()
    page.context.close()


def test_the_heatmap_the_notebook_produced_draws_in_a_browser(browser, executed, tmp_path):
    frame = _html_output(_outputs(executed[0], "hyperparameter_grid("))
    path = tmp_path / "notebook_heatmap.html"
    path.write_text(f"<!DOCTYPE html><html><body>{frame}</body></html>", encoding="utf-8")
    page, log = open_page(browser, path.as_uri(), width=1000, height=640)
    from playwright.sync_api import expect

    cells = page.frame_locator("iframe").locator("svg rect title")
    expect(cells).to_have_count(9)  # the notebook's nine learning rates
    box = page.frame_locator("iframe").locator("svg").bounding_box()
    assert box["width"] > 400 and box["height"] > 100
    screenshot(page, "notebook_heatmap", full_page=False)
    assert log.external_requests == []
    log.assert_clean()
    page.context.close()


def test_the_readme_jupyter_example_ends_on_a_result_that_displays(result):
    import ast

    from IPython.core.interactiveshell import InteractiveShell

    block = (ROOT / "README.md").read_text().split("\n## Jupyter\n", 1)[1]
    code = re.search(r"```python\n(.*?)```", block, re.S).group(1)
    tree = ast.parse(code)
    last = ast.Expression(tree.body.pop().value)  # a cell shows its last expression
    namespace: dict = {}
    exec(compile(tree, "README.md", "exec"), namespace)  # our own README, not user input
    shown = eval(compile(last, "README.md", "eval"), namespace)
    assert isinstance(shown, type(result)) and shown.kinds == ["Adam", "WAME"]
    shell = InteractiveShell.instance()  # made after the import: register on it (a kernel's
    nb.register_formatters(shell)  # shell exists first, as the executed notebook shows)
    data, _ = shell.display_formatter.format(shown)
    assert data["text/html"].startswith("<iframe srcdoc=")
