"""The colours instances get when they have none of their own (in order), as ``#rrggbb``.

The app's alone: the engine computes without colours (``app/labels.py`` attaches them).
"""

PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
