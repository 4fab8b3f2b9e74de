"""Classic 2-D test functions, each written once as a JAX formula plus the data that describes it.

Domains, minima and optimal values follow the SFU Virtual Library of Simulation Experiments
(Surjanovic & Bingham, https://www.sfu.ca/~ssurjano/optimization.html) and Jamil & Yang (2013),
"A literature survey of benchmark functions for global optimization problems", Int. J. Math.
Model. Numer. Optim. 4(2):150–194. Irrational minima were refined with Newton's method in
float64 so that the gradient there vanishes to rounding; the tests check every stated value.

Formulas use ``w[..., 0]`` and ``w[..., 1]``, so ``fn`` also accepts a grid of points ``(..., 2)``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from surfaces import classic_switch, geometry
from surfaces.base import Family, LossFn, Param, Surface
from surfaces.losses import loss_function, safe_sqrt
from surfaces.params import static_key

SFU = "Surjanovic & Bingham, Virtual Library of Simulation Experiments (SFU), {page}"
JAMIL_YANG = (
    "Jamil & Yang (2013), A literature survey of benchmark functions for global optimization"
)


def sfu(page: str, original: str) -> str:
    """A reference string: the original paper, the SFU library page and Jamil & Yang."""
    return f"{original}; {SFU.format(page='https://www.sfu.ca/~ssurjano/' + page)}; {JAMIL_YANG}"


@dataclasses.dataclass(frozen=True)
class Classic:
    """One 2-D test function as data; :meth:`build` turns it into a :class:`Surface`.

    ``minima`` may be a function of the parameter values when the minimum moves with them.
    """

    name: str
    title: str
    latex: str
    reference: str
    fn: LossFn
    bounds: tuple[tuple[float, float], tuple[float, float]]
    window: tuple[tuple[float, float], tuple[float, float]]
    starts: tuple[tuple[float, float], ...]
    minima: tuple | Callable[[dict[str, Any]], tuple] = ()
    optimal_value: float | None = None
    params: tuple[Param, ...] = ()
    log_scale: bool = False
    local_minima: tuple[tuple[float, float], ...] = ()
    smooth_at_minima: bool = True
    notes: str = ""
    summary: str = ""
    # compiled as its own function rather than as a branch of the classics' switch
    # (surfaces/classic_switch.py): for the surface most scenes use, whose kernels are compiled
    # before the first visitor anyway and run a little faster without the switch
    own_kernel: bool = False

    def build(self, **values: Any) -> Surface:
        minima = self.minima(values) if callable(self.minima) else self.minima
        minima = geometry.as_points(minima, 2)
        starts = geometry.as_points(self.starts, 2)
        local = geometry.as_points(self.local_minima, 2)
        return Surface(
            name=self.name,
            title=self.title,
            latex=self.latex,
            reference=self.reference,
            dim=2,
            **self._code(values),
            bounds=np.array(self.bounds, dtype=float),
            window=geometry.fit_window(self.window, np.concatenate([starts, minima, local])),
            minima=minima,
            optimal_value=self.optimal_value,
            starts=starts,
            log_scale=self.log_scale,
            params=dict(values),
            local_minima=local if len(local) else None,
            smooth_at_minima=self.smooth_at_minima,
            notes=self.notes,
        )

    def _code(self, values: dict[str, Any]) -> dict[str, Any]:
        """``fn``, ``theta`` and ``static_key``: the classic's own, or the shared switch's."""
        if not self.own_kernel:
            return {"fn": SWITCH.fn, "theta": SWITCH.theta(self.name, values),
                    "static_key": classic_switch.KEY}  # fmt: skip
        return {
            "fn": self.fn,
            # device_put, not jnp.asarray: the same weakly typed scalar, without compiling a
            # program on the first build
            "theta": {k: jax.device_put(float(v)) for k, v in values.items()},
            "static_key": static_key(self.name, self.params, values),
        }

    def family(self) -> Family:
        return Family(
            name=self.name,
            title=self.title,
            category="classic",
            params=self.params,
            build=self.build,
            summary=self.summary,
        )


def _xy(w: Any) -> tuple[Any, Any]:
    return w[..., 0], w[..., 1]


# -- the formulas ---------------------------------------------------------------------------
@loss_function
def rosenbrock(w, theta):
    x, y = _xy(w)
    return (theta["a"] - x) ** 2 + theta["b"] * (y - x**2) ** 2


@loss_function
def beale(w, theta):
    x, y = _xy(w)
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


@loss_function
def himmelblau(w, theta):
    x, y = _xy(w)
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


@loss_function
def booth(w, theta):
    x, y = _xy(w)
    return (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2


@loss_function
def matyas(w, theta):
    x, y = _xy(w)
    return 0.26 * (x**2 + y**2) - 0.48 * x * y


@loss_function
def three_hump_camel(w, theta):
    x, y = _xy(w)
    return 2 * x**2 - 1.05 * x**4 + x**6 / 6 + x * y + y**2


@loss_function
def six_hump_camel(w, theta):
    x, y = _xy(w)
    return (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2


@loss_function
def goldstein_price(w, theta):
    x, y = _xy(w)
    a = 1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2)
    b = 30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2)
    return a * b


@loss_function
def rastrigin(w, theta):
    return jnp.sum(w**2 - theta["A"] * jnp.cos(2 * jnp.pi * w) + theta["A"], axis=-1)


@loss_function
def ackley(w, theta):
    radius = safe_sqrt(jnp.mean(w**2, axis=-1))  # gradient 0 (a subgradient) at the minimum
    waves = jnp.mean(jnp.cos(2 * jnp.pi * w), axis=-1)
    return -20 * jnp.exp(-0.2 * radius) - jnp.exp(waves) + 20 + jnp.e


@loss_function
def styblinski_tang(w, theta):
    return 0.5 * jnp.sum(w**4 - 16 * w**2 + 5 * w, axis=-1)


@loss_function
def saddle(w, theta):
    x, y = _xy(w)
    return x**2 - y**2


@loss_function
def monkey_saddle(w, theta):
    x, y = _xy(w)
    return x**3 - 3 * x * y**2


@loss_function
def elliptic_bowl(w, theta):
    x, y = _xy(w)
    angle = jnp.deg2rad(theta["angle"])
    u = x * jnp.cos(angle) + y * jnp.sin(angle)  # coordinates in the bowl's principal axes
    v = -x * jnp.sin(angle) + y * jnp.cos(angle)
    return 0.5 * (u**2 + theta["condition"] * v**2)


def smootherstep(t: Any) -> Any:
    """Perlin's ``6t^5 - 15t^4 + 10t^3`` on ``t`` clamped to [0, 1]: a C² step from 0 to 1."""
    t = jnp.clip(t, 0.0, 1.0)
    return t**3 * (10 - 15 * t + 6 * t**2)


@loss_function
def plateau_cliff(w, theta):
    x, y = _xy(w)
    width = theta["width"]
    cliff = theta["height"] * (1 - smootherstep((x + width) / (2 * width)))
    return cliff + (x - 2) ** 2 / 40 + y**2 / 2


TWO_WELLS = {  # (centre, depth, width) of each Gaussian well
    "global": ((1.5, 1.0), 2.0, 0.5),
    "local": ((-1.5, -1.0), 1.0, 1.0),
}


@loss_function
def two_wells(w, theta):
    wells = 0.0
    for centre, depth, width in TWO_WELLS.values():
        distance2 = jnp.sum((w - jnp.asarray(centre, w.dtype)) ** 2, axis=-1)
        wells = wells + depth * jnp.exp(-distance2 / (2 * width**2))
    return 0.05 * jnp.sum(w**2, axis=-1) - wells


# -- numerically refined minima ---------------------------------------------------------------
@functools.cache
def styblinski_tang_roots() -> tuple[float, float]:
    """The two minimising roots of ``4t^3 - 32t + 5`` (global ≈ -2.9035, local ≈ 2.7468)."""

    def polish(t: float) -> float:
        for _ in range(4):  # Newton steps from numpy's eigenvalue-based roots
            t -= (4 * t**3 - 32 * t + 5) / (12 * t**2 - 32)
        return float(t)

    roots = np.sort(np.roots([4.0, 0.0, -32.0, 5.0]).real)
    return polish(roots[0]), polish(roots[2])


_ST_LOW, _ST_HIGH = styblinski_tang_roots()
_ST_VALUE_1D = 0.5 * (_ST_LOW**4 - 16 * _ST_LOW**2 + 5 * _ST_LOW)  # -39.16616570377142

SIX_HUMP_MINIMUM = (0.08984201310031806, -0.7126564030207396)
HIMMELBLAU_MINIMA = (
    (3.0, 2.0),
    (-2.805118086952745, 3.131312518250573),
    (-3.7793102533777469, -3.2831859912861696),
    (3.5844283403304917, -1.8481265269644034),
)

# -- the catalogue ------------------------------------------------------------------------------
CLASSICS = (
    Classic(
        name="rosenbrock",
        title="Rosenbrock",
        latex=r"f(x, y) = (a - x)^2 + b\,(y - x^2)^2",
        reference=sfu("rosen.html", "Rosenbrock (1960), Comput. J. 3(3):175–184"),
        fn=rosenbrock,
        params=(
            Param("a", 1.0, -2.0, 2.0, help="x of the minimum (a, a²)"),
            Param("b", 100.0, 0.0, 1e4, help="steepness of the curved valley's walls"),
        ),
        bounds=((-5.0, 10.0), (-5.0, 10.0)),
        window=((-2.0, 2.0), (-1.0, 3.0)),
        starts=((-1.5, 2.0), (1.5, -0.5)),
        minima=lambda p: ((p["a"], p["a"] ** 2),),
        optimal_value=0.0,
        log_scale=True,
        summary="A curved, flat-bottomed valley: easy to find, slow to follow.",
        own_kernel=True,
    ),
    Classic(
        name="beale",
        title="Beale",
        latex=r"f(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
        reference=sfu("beale.html", "Beale (1958), Princeton Tech. Rep. 25"),
        fn=beale,
        bounds=((-4.5, 4.5), (-4.5, 4.5)),
        window=((-4.5, 4.5), (-4.5, 4.5)),
        starts=((1.0, 1.5), (-2.0, -2.0)),
        minima=((3.0, 0.5),),
        optimal_value=0.0,
        log_scale=True,
        summary="Sharp ridges and flat arms around a narrow minimum.",
    ),
    Classic(
        name="himmelblau",
        title="Himmelblau",
        latex=r"f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2",
        reference=f"Himmelblau (1972), Applied Nonlinear Programming; {JAMIL_YANG}",
        fn=himmelblau,
        bounds=((-5.0, 5.0), (-5.0, 5.0)),
        window=((-5.0, 5.0), (-5.0, 5.0)),
        starts=((-0.27, -0.9), (0.0, 0.0)),
        minima=HIMMELBLAU_MINIMA,
        optimal_value=0.0,
        log_scale=True,
        notes="Four global minima; the first start sits next to the local maximum "
        "(-0.2708, -0.9230), so optimizers fall into different minima.",
        summary="Four equal minima: which one an optimizer reaches depends on its path.",
    ),
    Classic(
        name="booth",
        title="Booth",
        latex=r"f(x, y) = (x + 2y - 7)^2 + (2x + y - 5)^2",
        reference=sfu("booth.html", "Booth function"),
        fn=booth,
        bounds=((-10.0, 10.0), (-10.0, 10.0)),
        window=((-10.0, 10.0), (-10.0, 10.0)),
        starts=((-5.0, -5.0), (8.0, -8.0)),
        minima=((1.0, 3.0),),
        optimal_value=0.0,
        summary="A rotated quadratic bowl (condition number 9).",
    ),
    Classic(
        name="matyas",
        title="Matyas",
        latex=r"f(x, y) = 0.26\,(x^2 + y^2) - 0.48\,xy",
        reference=sfu("matya.html", "Matyas (1965), Automat. Remote Control 26:246–253"),
        fn=matyas,
        bounds=((-10.0, 10.0), (-10.0, 10.0)),
        window=((-10.0, 10.0), (-10.0, 10.0)),
        starts=((-8.0, 2.0), (6.0, -7.0)),
        minima=((0.0, 0.0),),
        optimal_value=0.0,
        log_scale=True,
        summary="A long flat diagonal valley (condition number 25).",
    ),
    Classic(
        name="three_hump_camel",
        title="Three-hump camel",
        latex=r"f(x, y) = 2x^2 - 1.05x^4 + \tfrac{1}{6}x^6 + xy + y^2",
        reference=sfu("camel3.html", "Dixon & Szegő (1978), Towards Global Optimisation 2"),
        fn=three_hump_camel,
        bounds=((-5.0, 5.0), (-5.0, 5.0)),
        window=((-2.5, 2.5), (-2.5, 2.5)),
        starts=((-2.2, 2.0), (2.0, 0.5)),
        minima=((0.0, 0.0),),
        optimal_value=0.0,
        log_scale=True,
        local_minima=(
            (1.7475523458302893, -0.8737761729151446),
            (-1.7475523458302893, 0.8737761729151446),
        ),
        summary="A global minimum between two shallower local ones.",
    ),
    Classic(
        name="six_hump_camel",
        title="Six-hump camel",
        latex=r"f(x, y) = \left(4 - 2.1x^2 + \tfrac{1}{3}x^4\right)x^2 + xy + (4y^2 - 4)\,y^2",
        reference=sfu("camel6.html", "Dixon & Szegő (1978), Towards Global Optimisation 2"),
        fn=six_hump_camel,
        bounds=((-3.0, 3.0), (-2.0, 2.0)),
        window=((-2.0, 2.0), (-1.2, 1.2)),
        starts=((-1.8, -1.0), (1.2, 1.0)),
        minima=(SIX_HUMP_MINIMUM, (-SIX_HUMP_MINIMUM[0], -SIX_HUMP_MINIMUM[1])),
        optimal_value=-1.0316284534898774,
        local_minima=(
            (1.7036067149699807, -0.7960835686726252),
            (-1.7036067149699807, 0.7960835686726252),
            (1.6071047529201974, 0.5686514548841314),
            (-1.6071047529201974, -0.5686514548841314),
        ),
        summary="Two global and four local minima.",
    ),
    Classic(
        name="goldstein_price",
        title="Goldstein–Price",
        latex=(
            r"f(x, y) = \left[1 + (x + y + 1)^2 (19 - 14x + 3x^2 - 14y + 6xy + 3y^2)\right]"
            r"\left[30 + (2x - 3y)^2 (18 - 32x + 12x^2 + 48y - 36xy + 27y^2)\right]"
        ),
        reference=sfu("goldpr.html", "Goldstein & Price (1971), Math. Comp. 25:569–574"),
        fn=goldstein_price,
        bounds=((-2.0, 2.0), (-2.0, 2.0)),
        window=((-2.0, 2.0), (-2.0, 2.0)),
        starts=((-1.5, 1.5), (1.5, 1.5)),
        minima=((0.0, -1.0),),
        optimal_value=3.0,
        log_scale=True,
        local_minima=((-0.6, -0.4), (1.8, 0.2), (1.2, 0.8)),
        summary="Values over six orders of magnitude, with three local minima.",
    ),
    Classic(
        name="rastrigin",
        title="Rastrigin",
        latex=r"f(x, y) = 2A + x^2 - A\cos(2\pi x) + y^2 - A\cos(2\pi y)",
        reference=sfu("rastr.html", "Rastrigin (1974), Systems of Extremal Control"),
        fn=rastrigin,
        params=(Param("A", 10.0, 0.0, 20.0, help="amplitude of the cosine bumps"),),
        bounds=((-5.12, 5.12), (-5.12, 5.12)),
        window=((-5.12, 5.12), (-5.12, 5.12)),
        starts=((-4.5, 4.0), (2.6, -3.4)),
        minima=((0.0, 0.0),),
        optimal_value=0.0,
        summary="A bowl covered in a regular grid of local minima.",
    ),
    Classic(
        name="ackley",
        title="Ackley",
        latex=(
            r"f(x, y) = -20\exp\left(-0.2\sqrt{\tfrac{1}{2}(x^2 + y^2)}\right)"
            r" - \exp\left(\tfrac{1}{2}(\cos 2\pi x + \cos 2\pi y)\right) + 20 + e"
        ),
        reference=sfu(
            "ackley.html", "Ackley (1987), A Connectionist Machine for Genetic Hillclimbing"
        ),
        fn=ackley,
        bounds=((-32.768, 32.768), (-32.768, 32.768)),
        window=((-5.0, 5.0), (-5.0, 5.0)),
        starts=((-4.0, 3.5), (2.2, -2.9)),
        minima=((0.0, 0.0),),
        optimal_value=0.0,
        smooth_at_minima=False,
        notes="Not differentiable at the minimum: the square root of x² + y² makes a cone point. "
        "The gradient returned there is 0 (a subgradient).",
        summary="A nearly flat outer region with many local minima and a deep central funnel.",
    ),
    Classic(
        name="styblinski_tang",
        title="Styblinski–Tang",
        latex=r"f(x, y) = \tfrac{1}{2}\left(x^4 - 16x^2 + 5x + y^4 - 16y^2 + 5y\right)",
        reference=sfu("stybtang.html", "Styblinski & Tang (1990), Neural Networks 3(4):467–483"),
        fn=styblinski_tang,
        bounds=((-5.0, 5.0), (-5.0, 5.0)),
        window=((-5.0, 5.0), (-5.0, 5.0)),
        starts=((0.3, 0.1), (4.5, -4.5)),
        minima=((_ST_LOW, _ST_LOW),),
        optimal_value=2 * _ST_VALUE_1D,
        local_minima=((_ST_HIGH, _ST_HIGH), (_ST_LOW, _ST_HIGH), (_ST_HIGH, _ST_LOW)),
        summary="Four basins of different depths; the deepest is at (-2.9035, -2.9035).",
    ),
    Classic(
        name="saddle",
        title="Saddle",
        latex=r"f(x, y) = x^2 - y^2",
        reference="A standard saddle; see Dauphin et al. (2014), Identifying and attacking the "
        "saddle point problem in high-dimensional non-convex optimization, NeurIPS",
        fn=saddle,
        bounds=((-3.0, 3.0), (-3.0, 3.0)),
        window=((-2.0, 2.0), (-2.0, 2.0)),
        starts=((-1.0, 0.001), (1.5, 0.05)),
        notes="No minimum: unbounded below along y. The critical point (0, 0) is a saddle; "
        "starts just off the x axis show how fast each optimizer escapes it.",
        summary="A saddle point at the origin; no minimum.",
    ),
    Classic(
        name="monkey_saddle",
        title="Monkey saddle",
        latex=r"f(x, y) = x^3 - 3xy^2",
        reference="A degenerate saddle (zero Hessian at the origin); Hilbert & Cohn-Vossen "
        "(1932), Anschauliche Geometrie",
        fn=monkey_saddle,
        bounds=((-3.0, 3.0), (-3.0, 3.0)),
        window=((-1.5, 1.5), (-1.5, 1.5)),
        starts=((1.0, 0.001), (0.8, 0.8)),
        notes="No minimum: three valleys descend from the degenerate saddle at (0, 0), where "
        "gradient and Hessian vanish, so gradient descent slows down near it.",
        summary="A degenerate saddle with three descending valleys; no minimum.",
    ),
    Classic(
        name="elliptic_bowl",
        title="Elliptic bowl",
        latex=(
            r"f(x, y) = \tfrac{1}{2}\left(u^2 + \kappa v^2\right),\quad "
            r"u = x\cos\theta + y\sin\theta,\; v = -x\sin\theta + y\cos\theta"
        ),
        reference="An ill-conditioned quadratic; see Goh (2017), Why Momentum Really Works, "
        "Distill",
        fn=elliptic_bowl,
        params=(
            Param("condition", 10.0, 1.0, 1e4, "log", help="condition number κ (curvatures 1, κ)"),
            Param("angle", 0.0, -90.0, 90.0, help="rotation θ of the axes, in degrees"),
        ),
        bounds=((-5.0, 5.0), (-5.0, 5.0)),
        window=((-3.0, 3.0), (-3.0, 3.0)),
        starts=((-2.5, 1.5), (2.0, 2.5)),
        minima=((0.0, 0.0),),
        optimal_value=0.0,
        log_scale=True,
        notes="Curvature 1 along (cos θ, sin θ) and κ along (-sin θ, cos θ). At θ = 0 the axes "
        "are the coordinate axes, where per-weight step sizes (Adam) help most.",
        summary="A quadratic bowl with a chosen condition number and rotation.",
    ),
    Classic(
        name="plateau_cliff",
        title="Plateau and cliff",
        latex=(
            r"f(x, y) = H\left(1 - S\left(\tfrac{x + \delta}{2\delta}\right)\right)"
            r" + \tfrac{1}{40}(x - 2)^2 + \tfrac{1}{2}y^2,\quad"
            r" S(t) = 6t^5 - 15t^4 + 10t^3,\ t \in [0, 1]\ \text{(clamped)}"
        ),
        reference="Designed for this project after the cliffs of Pascanu et al. (2013), On the "
        "difficulty of training recurrent neural networks, ICML, and Goodfellow et al. (2016), "
        "Deep Learning §8.2.4",
        fn=plateau_cliff,
        params=(
            Param("height", 2.0, 0.1, 10.0, help="height H of the cliff"),
            Param("width", 0.1, 0.02, 1.5, "log", help="half-width δ of the cliff face"),
        ),
        bounds=((-10.0, 10.0), (-10.0, 10.0)),
        window=((-4.0, 4.0), (-2.0, 2.0)),
        starts=((-3.0, 1.5), (-2.0, -1.0)),
        minima=((2.0, 0.0),),
        optimal_value=0.0,
        notes="For x < -δ a plateau of slope |x - 2|/20 where plain gradient descent crawls; at "
        "|x| < δ a C² cliff of slope up to 15H/(16δ) where large steps overshoot; the "
        "unique minimum (2, 0) lies on the floor beyond it (δ < 2, so the step is flat there).",
        summary="A nearly flat plateau that ends in a steep cliff.",
    ),
    Classic(
        name="two_wells",
        title="Bowl with two wells",
        latex=(
            r"f(w) = 0.05\lVert w\rVert^2 - 2\,e^{-\lVert w - (1.5, 1)\rVert^2 / 0.5}"
            r" - e^{-\lVert w - (-1.5, -1)\rVert^2 / 2}"
        ),
        reference="Designed for this project: a wide shallow well (local minimum) and a narrow "
        "deep one (global minimum) in a weak bowl",
        fn=two_wells,
        bounds=((-6.0, 6.0), (-6.0, 6.0)),
        window=((-4.0, 4.0), (-4.0, 4.0)),
        starts=((-3.5, -3.0), (3.0, 3.0)),
        minima=((1.4808605256637746, 0.9872403504425163),),
        optimal_value=-1.8411380523865633,
        local_minima=((-1.3619196929792128, -0.9079464619861418),),
        notes="Minima found with Newton's method from the well centres; the local one "
        "(f ≈ -0.852) has the wider basin.",
        summary="A local minimum with a wide basin and a narrower, deeper global one.",
    ),
)

SWITCH = classic_switch.Switch(tuple(c for c in CLASSICS if not c.own_kernel))
FAMILIES = tuple(c.family() for c in CLASSICS)
