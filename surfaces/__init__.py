"""Loss surfaces described as data: pick one by name and parameters.

>>> import surfaces
>>> s = surfaces.get("rosenbrock", a=1.0, b=100.0)
>>> float(s.loss(s.minima[0]))
0.0
"""

from surfaces.base import Family, Param, Projection, Surface
from surfaces.registry import FAMILIES, families, get, with_gradient_noise

__all__ = [
    "FAMILIES",
    "Family",
    "Param",
    "Projection",
    "Surface",
    "families",
    "get",
    "with_gradient_noise",
]
