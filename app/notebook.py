"""Runs and sweeps shown in Jupyter: the offline player inline, a heatmap page for a sweep.

>>> import app.notebook  # doctest: +SKIP
>>> from trajectories import Experiment, OptimizerSpec, run
>>> e = Experiment(surface="rosenbrock", optimizers=(OptimizerSpec("Adam"),), steps=200)
>>> run(e)  # doctest: +SKIP  (a cell's last line: the animation plays below it)

:func:`html` returns a complete page with everything inlined (no outside request, the page's
Content-Security-Policy forbids them): for a :class:`~trajectories.run.Result` the ``.html``
export's player (``app/animator.py``'s ``standalone_html``), for a sweep's
:class:`~trajectories.sweeps.GridResult` or :class:`~trajectories.sweeps.BasinsResult` a
heatmap page (``app/sweep_page.py``). It needs no IPython. :func:`show` displays it in the
notebook inside an ``<iframe srcdoc>``: the player's script and styles run in their own
document, apart from the notebook's. Importing this module registers the same display as
IPython's ``text/html`` formatter for those result types, so a result on a cell's last line
shows itself.

The engine stays free of display: it is only imported here.
"""

from __future__ import annotations

import html as _html
from typing import Any

from trajectories import Experiment, Result
from trajectories.sweeps import BasinsResult, GridResult

SHOWN = (Result, GridResult, BasinsResult)  # what html() and the formatters take
PLAYER_HEIGHT = 900  # iframe pixels: the player's panels (480 px), controls and inside panel
SWEEP_HEIGHT = 760
_NO_IPYTHON = (
    "app.notebook.show needs IPython (run it in Jupyter, or pip install ipykernel); "
    "app.notebook.html(result) returns the page without it"
)


def html(
    x: Any,
    *,
    experiment: Experiment | None = None,
    title: str | None = None,
    options: dict[str, Any] | None = None,
    metric: str = "final_loss",
) -> str:
    """The page for ``x``: a run's player, or a sweep's heatmap.

    ``experiment``: the description ``x`` was run from, for its optimizers' names and colours
    (without it, a run shows each optimizer's kind in the palette's order). ``options``: the
    player's (``autoplay``, ``frame``, ``speed``, ``theme``, ... see ``app/animator.py``).
    ``metric``: what a grid sweep's cells show (``final_loss``, ``loss_auc`` or
    ``steps_to_target``).
    """
    from app import sweep_page

    if isinstance(x, Result):
        return _player(x, experiment, title, options)
    if isinstance(x, GridResult):
        return sweep_page.grid_page(x, metric=metric, title=title)
    if isinstance(x, BasinsResult):
        return sweep_page.basins_page(x, title=title)
    raise TypeError(
        f"app.notebook.html: cannot show a {type(x).__name__}; give a run's Result "
        "(trajectories.run) or a sweep's GridResult or BasinsResult (trajectories.sweeps)"
    )


def _player(
    result: Result, experiment: Experiment | None, title: str | None, options: dict | None
) -> str:
    from app import animator, labels, payload, surface_image

    if experiment is not None:
        result = labels.attach(result, experiment)
    doc = payload.build(result, surface_image.render(result.surface))
    return animator.standalone_html(doc, title=title or result.surface.title, options=options)


def iframe(page: str, height: int, title: str = "optviz") -> str:
    """``page`` inside an ``<iframe srcdoc>`` (sandboxed: scripts run, with no access to the
    notebook's document, cookies or storage)."""
    return (
        f'<iframe srcdoc="{_html.escape(page, quote=True)}" title="{_html.escape(title)}" '
        'sandbox="allow-scripts allow-downloads" '
        f'style="width:100%;height:{int(height)}px;border:0" loading="eager"></iframe>'
    )


def frame_html(x: Any, *, height: int | None = None, **kwargs: Any) -> str:
    """The notebook's HTML for ``x``: :func:`html`'s page in an iframe."""
    if height is None:
        height = PLAYER_HEIGHT if isinstance(x, Result) else SWEEP_HEIGHT
    return iframe(html(x, **kwargs), height)


def show(x: Any, *, height: int | None = None, **kwargs: Any) -> None:
    """Display ``x`` in the notebook: the arguments of :func:`html`, and the iframe's
    ``height`` in pixels (default: 900 for a run, 760 for a sweep)."""
    try:
        from IPython.display import HTML, display
    except ImportError as error:
        raise ImportError(_NO_IPYTHON) from error
    display(HTML(frame_html(x, height=height, **kwargs)))


def register_formatters(shell: Any = None) -> bool:
    """Make IPython show a run or sweep result as :func:`show` does (done on import); False
    when there is no IPython shell (a plain Python process)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = shell if shell is not None else get_ipython()
    if shell is None:
        return False
    formatter = shell.display_formatter.formatters["text/html"]
    for kind in SHOWN:
        formatter.for_type(kind, frame_html)
    return True


register_formatters()
