r"""Orbital moments of classical charges in a box: the analytic side of Bohr-van Leeuwen.

Conventions. A charge q (C) of mass m (kg) moves in the plane z = 0 in the uniform field
**B** = B ẑ (B signed, T). Its orbital moment about the box centre is

.. math:: \mu_z = \tfrac{q}{2}\,(\mathbf r \times \mathbf v)_z = \tfrac{q}{2}(x v_y - y v_x)
          \quad [\mathrm{A\,m^2} = \mathrm{J/T}].

Cyclotron decomposition. With :math:`\omega_c = qB/m` (signed) the free motion is a circle
about the guiding centre :math:`\mathbf R = \mathbf r + (v_y, -v_x)/\omega_c` with radius
vector :math:`\boldsymbol\rho = \mathbf r - \mathbf R = \hat z \times \mathbf v/\omega_c`,
:math:`|\boldsymbol\rho| = |\mathbf v|/|\omega_c|`. Then

.. math:: \mu_z = \tfrac{q}{2}(\mathbf R \times \mathbf v)_z
                  + \tfrac{q}{2}(\boldsymbol\rho \times \mathbf v)_z,\qquad
          \tfrac{q}{2}(\boldsymbol\rho \times \mathbf v)_z = -\frac{q v^2}{2\omega_c}
          = -\frac{m v^2}{2B} = -\frac{E_\mathrm{kin}}{B}

for either sign of q: every closed cyclotron orbit is diamagnetic. Over a full orbit the first
term averages to zero (R is fixed, <v> = 0), so an orbit that fits inside the box carries
exactly :math:`-E_\mathrm{kin}/B`; with the 2D Maxwell average
:math:`\langle E_\mathrm{kin}\rangle = k_B T` this is :math:`-k_B T/B` per charge.

Classification. A charge is *interior* when its whole cyclotron circle lies inside the box
(guiding centre farther than its own radius |ρ| from the wall), *edge* otherwise (skipping
orbit: guiding centre within one cyclotron radius of the wall). For B = 0 the radius is
infinite and every charge is "edge".

Prediction. The Boltzmann weight :math:`1_\mathrm{box}(\mathbf r)\,e^{-m v^2/2k_BT}` does not
depend on B (Bohr-van Leeuwen: the vector potential shifts p -> p - qA and drops out of the
momentum integral), so the total moment vanishes, :math:`\langle\mu_z\rangle = 0`, and the
local current density is zero everywhere. The map (r, v) -> (R, v) has unit Jacobian and the
"fits" condition depends only on R and |v|, so averaging the direction of v at fixed (R, |v|)
kills the R x v term: the interior moment is exactly
:math:`-\langle (m v^2/2B)\,1_\mathrm{fits}\rangle`, and the edge moment is minus that. With
:math:`\ell` the disk radius or the square's half-side, :math:`P(\mathrm{fits}\,|\,v) =
(1 - \rho/\ell)^2` for :math:`\rho < \ell` (the disk of radius :math:`\ell-\rho`, or the square
of half-side :math:`\ell-\rho`, of allowed guiding centres) in both geometries. With
:math:`u = m v^2/2k_BT \sim \mathrm{Exp}(1)` and :math:`b = |qB|\ell/(\sqrt2\, m v_\mathrm{th})`,
:math:`v_\mathrm{th} = \sqrt{k_BT/m}`, :math:`\rho/\ell = \sqrt{u}/b`:

.. math::
    \mu_\mathrm{int} = -N\frac{k_BT}{B}\,E(b),\quad
    E(b) = P(2,b^2) - \frac{3\sqrt\pi}{2b}P(\tfrac52,b^2) + \frac{2}{b^2}P(3,b^2),

    f_\mathrm{int} = F(b) = P(1,b^2) - \frac{\sqrt\pi}{b}P(\tfrac32,b^2) + \frac{1}{b^2}P(2,b^2),

with P the regularised lower incomplete gamma function. For :math:`b\to\infty` (box much
larger than r_c) E -> 1 - 3√π/(2b): the Langevin-like -k_BT/B per charge minus a boundary
layer; for b -> 0 (B -> 0), :math:`E \simeq b^4/30`, no signal.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.scipy.special import gammainc

from .. import constants as const
from .._checks import check_option, finite, positive, require

GEOMETRIES = ("disk", "square")

# Series of E(b)/b^4 and F(b)/b^2 in powers of b^2 (small field), from
# E = b^4 int_0^1 s e^{-b^2 s} (1 - sqrt s)^2 ds and F = b^2 int_0^1 e^{-b^2 s} (1 - sqrt s)^2 ds.
_N_SERIES = 8


def _series(p):
    """c_k = (-1)^k/k! int_0^1 s^(k+p) (1 - sqrt s)^2 ds, k = 0.._N_SERIES-1 (closed form)."""
    return tuple(
        (-1.0) ** k
        / math.factorial(k)
        * (1.0 / (k + p + 1) - 2.0 / (k + p + 1.5) + 1.0 / (k + p + 2))
        for k in range(_N_SERIES)
    )


_E_SERIES = _series(1)
_F_SERIES = _series(0)
_SERIES_CUTOFF = 0.5


def _poly(y, coeffs):
    acc = jnp.zeros_like(y) + coeffs[-1]
    for c in coeffs[-2::-1]:
        acc = acc * y + c
    return acc


def _fit_weights(b):
    """(E(b), F(b)) of the module docstring, finite with finite derivatives at b = 0."""
    small = b < _SERIES_CUTOFF
    bs = jnp.where(small, jnp.ones_like(b), b)  # double-where: safe closed form
    b2 = bs * bs
    spi = math.sqrt(math.pi)
    e_closed = gammainc(2.0, b2) - 1.5 * spi / bs * gammainc(2.5, b2) + 2.0 / b2 * gammainc(3.0, b2)
    f_closed = gammainc(1.0, b2) - spi / bs * gammainc(1.5, b2) + gammainc(2.0, b2) / b2
    bt = jnp.where(small, b, jnp.zeros_like(b))
    y = bt * bt
    e_series = y * y * _poly(y, _E_SERIES)
    f_series = y * _poly(y, _F_SERIES)
    return jnp.where(small, e_series, e_closed), jnp.where(small, f_series, f_closed)


class MomentPrediction(NamedTuple):
    """Equilibrium orbital moments of N classical charges (exact ensemble averages).

    Attributes:
        interior: moment of charges whose cyclotron orbit fits in the box [A m^2], along z.
        edge: moment of the skipping (edge) charges [A m^2]; equals ``-interior``.
        total: interior + edge [A m^2]; zero (Bohr-van Leeuwen).
        interior_fraction: mean fraction of charges on interior orbits (dimensionless).
    """

    interior: jnp.ndarray
    edge: jnp.ndarray
    total: jnp.ndarray
    interior_fraction: jnp.ndarray


def predicted_moments(
    B, T, size, n_particles=1, geometry: str = "disk", charge=-const.E_CHARGE, mass=const.M_E
) -> MomentPrediction:
    r"""Exact equilibrium interior, edge and total orbital moments of classical charges.

    .. math:: \mu_\mathrm{int} = -N\,\frac{k_B T}{B}\,E(b),\quad \mu_\mathrm{edge}
              = -\mu_\mathrm{int},\quad \mu_\mathrm{tot} = 0,\quad
              b = \frac{|qB|\,\ell}{\sqrt2\, m v_\mathrm{th}},\; v_\mathrm{th}=\sqrt{k_BT/m}

    (derivation and E in the module docstring; :math:`\ell` = disk radius or half the square
    side). Differentiable in all float arguments, finite with finite gradient at B = 0
    (where every moment is 0). Broadcasts over B, T, size.

    Args:
        B: field along z [T], signed, any shape.
        T: temperature [K], > 0.
        size: disk radius, or square side length [m], > 0.
        n_particles: number of charges N (> 0; the moments are totals over N).
        geometry: ``"disk"`` or ``"square"``.
        charge: charge q [C] (default -e, nonzero); only |q| enters.
        mass: mass m [kg] (default m_e, > 0).
        All values are checked (``eqx.error_if``: finite, T, size, mass > 0).
    Returns:
        MomentPrediction(interior, edge, total, interior_fraction), moments in A m^2.
    """
    check_option("geometry", geometry, GEOMETRIES)
    B = finite(B, "B")
    T = positive(T, "T").astype(B.dtype)
    ell = positive(size, "size").astype(B.dtype) * (1.0 if geometry == "disk" else 0.5)
    B, T, ell = jnp.broadcast_arrays(B, T, ell)
    charge = finite(charge, "charge").astype(B.dtype)
    charge = require(charge, charge != 0, "charge must be nonzero")
    return _predict(
        B,
        T,
        ell,
        positive(n_particles, "n_particles").astype(B.dtype),
        charge,
        positive(mass, "mass").astype(B.dtype),
    )


@jax.jit
def _predict(B, T, ell, n, charge, mass):
    kT = const.K_B * T
    # b = |qB| l / (sqrt2 m v_th) = |qB| l / sqrt(2 m k_B T), as a product of square roots:
    # kT / m underflows (flushed to 0: b = inf) for m ~ 1e300, where b -> 0 is right
    b = jnp.abs(charge * B) * ell / (jnp.sqrt(2.0 * mass) * jnp.sqrt(kT))
    e_w, f_w = _fit_weights(b)
    # -kT/B * E(b): E ~ b^4 at small B, so the product is finite; double-where at B = 0.
    nz = B != 0
    B_safe = jnp.where(nz, B, jnp.ones_like(B))
    interior = jnp.where(nz, -n * kT / B_safe * e_w, jnp.zeros_like(B))
    return MomentPrediction(interior, -interior, jnp.zeros_like(interior), f_w)


def orbit_fits(r, v, omega, geometry: str):
    r"""True where the cyclotron circle through (r, v) lies inside the box (reduced units).

    Box |r| <= 1 (disk) or max(|x|,|y|) <= 1 (square); omega = q B l / (m v_th) signed. Uses
    :math:`\omega\mathbf R = (\omega x + v_y, \omega y - v_x)` and :math:`|\omega|\rho = |v|`, so
    no division by omega: at omega = 0 nothing fits (infinite radius).

    Args:
        r, v: positions and velocities, shape (..., 2), reduced units.
        omega: reduced cyclotron frequency, scalar.
        geometry: ``"disk"`` or ``"square"``.
    Returns:
        boolean array, shape (...).
    """
    return fits_xy(r[..., 0], r[..., 1], v[..., 0], v[..., 1], omega, geometry)


def fits_xy(x, y, vx, vy, omega, geometry: str):
    """``orbit_fits`` on component arrays x, y, vx, vy (each shape (...))."""
    gx = omega * x + vy
    gy = omega * y - vx
    speed = jnp.sqrt(vx * vx + vy * vy)
    if geometry == "disk":
        reach = jnp.sqrt(gx * gx + gy * gy)
    else:
        reach = jnp.maximum(jnp.abs(gx), jnp.abs(gy))
    return reach + speed <= jnp.abs(omega)
