r"""Finite-difference micromagnetics on a regular mesh of cuboid cells.

Energy of the magnetization M = Ms m(r) (|m| = 1) in a box of nx x ny x nz cells of size
dx x dy x dz (V = dx dy dz), each term summed over cells (SI, joules)::

    E_ex    = A V sum_pairs |m_j - m_i|^2 / d_ij^2          (nearest neighbours, each pair once;
                                                             free (Neumann) boundaries)
    E_anis  = -Ku V sum (m . u)^2                           (uniaxial, Ku > 0: easy axis u)
    E_cubic = Kc V sum (a1^2 a2^2 + a2^2 a3^2 + a3^2 a1^2), a_k = m . c_k
    E_Z     = -mu0 Ms V sum m . H_ext
    E_dmi   = D V [sum_x-pairs (m_i x m_j)_y / dx - sum_y-pairs (m_i x m_j)_x / dy]
              (interfacial DMI, continuum density D [m_z div m - (m . grad) m_z])
    E_d     = -(mu0/2) Ms V sum m . H_d,   H_d = -Ms N * m  (Newell tensor, FFT convolution,
                                                            open boundaries)

Effective field H_eff = -1/(mu0 Ms V) dE/dm [A/m]: the local terms by autodiff of their
energy, the demag field directly (it is linear in m, so autodiff would only double the
FFT work); both agree with the autodiff of the total energy (tested).

Precision: everything follows the dtype of m. In float32 the field agrees with float64 to a
few 1e-7 relative (tested at 3e-5); the demag kernel itself is always computed in float64.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .. import constants as C
from .._checks import (
    check_count,
    check_real,
    check_shape,
    check_static_positive,
    finite,
    is_concrete,
    nonnegative,
    positive,
    require,
    unit_norm,
)
from .._numerics import safe_norm
from ._demag import mesh_kernel
from ._llg import GAMMA_E, LLGSolution, cross, llg


def unit_vector(name, v):
    """``v`` as a float array of shape (3,) (ValueError otherwise), checked to be a finite unit
    vector (``eqx.error_if``)."""
    check_shape(name, v, (3,))
    return unit_norm(v, name)


class Micromagnet(eqx.Module):
    """A box of ferromagnet on a regular finite-difference mesh (see module docstring).

    Attributes (array leaves, differentiable): Ms [A/m], A [J/m], Ku [J/m^3], u (3,),
    Kc [J/m^3], c1, c2 (3,) cubic axes (c3 = c1 x c2), D [J/m^2], H_ext (3,) [A/m], and
    the FFT of the demag kernel. Static: ``shape`` (nx, ny, nz), ``cell`` (dx, dy, dz) [m].
    """

    Ms: jax.Array
    A: jax.Array
    Ku: jax.Array
    u: jax.Array
    Kc: jax.Array
    c1: jax.Array
    c2: jax.Array
    D: jax.Array
    H_ext: jax.Array
    kernel: jax.Array | None
    shape: tuple = eqx.field(static=True)
    cell: tuple = eqx.field(static=True)

    def __init__(
        self,
        shape,
        cell,
        Ms,
        A=0.0,
        Ku=0.0,
        u=(0.0, 0.0, 1.0),
        Kc=0.0,
        cubic_axes=((1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
        D=0.0,
        H_ext=(0.0, 0.0, 0.0),
        demag: bool = True,
    ):
        """Build the model.

        Args:
            shape: (nx, ny, nz) number of cells (positive ints).
            cell: (dx, dy, dz) cell size [m] (> 0).
            Ms: saturation magnetization [A/m] (> 0).
            A: exchange stiffness [J/m] (>= 0).
            Ku: uniaxial anisotropy constant [J/m^3] (easy axis for Ku > 0).
            u: uniaxial axis, unit vector (3,).
            Kc: first cubic anisotropy constant [J/m^3].
            cubic_axes: two orthogonal unit vectors c1, c2 of the cubic axes.
            D: interfacial DMI constant [J/m^2].
            H_ext: applied field [A/m], shape (3,).
            demag: include the demagnetizing field (Newell tensor, FFT).
        Raises:
            ValueError: bad shape/cell; and (warning) cells larger than the exchange length.
        """
        shape = tuple(int(n) for n in shape)
        if len(shape) != 3 or min(shape) < 1:
            raise ValueError(f"shape must be three positive ints (nx, ny, nz), got {shape}")
        cell = tuple(float(d) for d in cell)
        if len(cell) != 3:
            raise ValueError(f"cell must be (dx, dy, dz), got {cell}")
        for name, d in zip(("dx", "dy", "dz"), cell, strict=False):
            check_static_positive(name, d)
        self.shape, self.cell = shape, cell
        self.Ms = positive(Ms, "Ms")
        self.A = nonnegative(A, "A")
        self.Ku = finite(Ku, "Ku")
        self.u = unit_vector("u", u)
        self.Kc = finite(Kc, "Kc")
        c1, c2 = (unit_vector("cubic axis", c) for c in cubic_axes)
        self.c1 = require(c1, jnp.abs(jnp.dot(c1, c2)) < 1e-6, "cubic axes must be orthogonal")
        self.c2 = c2
        self.D = finite(D, "D")
        check_shape("H_ext", H_ext, (3,))
        self.H_ext = finite(H_ext, "H_ext")
        if demag:
            K = mesh_kernel(shape, cell)
            self.kernel = jnp.asarray(np.fft.rfftn(K, axes=(1, 2, 3)).real)
        else:
            self.kernel = None
        # every effective-field scale finite (e.g. Ms = 1e-300 or Ku = 1e300 would overflow)
        self.Ms = require(
            self.Ms,
            jnp.isfinite(self.max_frequency()),
            "Micromagnet: the effective field overflows: check the range of Ms, A, Ku, Kc, D,"
            " H_ext",
        )
        if all(is_concrete(x) for x in (self.Ms, self.A, self.Ku, self.Kc)):
            # concrete values: a ValueError (or a warning) right away
            _warn_coarse(cell, *(float(x) for x in (self.Ms, self.A, self.Ku, self.Kc)))
        # the same refusal for traced values (jit, vmap): d <= 10 l_min with
        # l_min^2 = A / max(mu0 Ms^2 / 2, |Ku|, |Kc|), i.e. d^2 max(...) <= 100 A
        stiff = jnp.maximum(
            0.5 * C.MU_0 * self.Ms**2, jnp.maximum(jnp.abs(self.Ku), jnp.abs(self.Kc))
        )
        self.Ms = require(
            self.Ms,
            (self.A <= 0) | (max(cell[:2]) ** 2 * stiff <= 100.0 * self.A),
            "Micromagnet: cell size exceeds 10x the exchange/wall length sqrt(2A/(mu0 Ms^2)),"
            " sqrt(A/max(|Ku|, |Kc|)): check the range of Ms, A, Ku, Kc",
        )

    # --- geometry ---------------------------------------------------------------------------
    @property
    def volume(self) -> float:
        """Cell volume V = dx dy dz [m^3]."""
        return self.cell[0] * self.cell[1] * self.cell[2]

    def with_field(self, H_ext):
        """Copy of the model with applied field ``H_ext`` [A/m], shape (3,) (no kernel rebuild)."""
        check_shape("H_ext", H_ext, (3,))
        H_ext = finite(H_ext, "H_ext").astype(self.H_ext.dtype)
        return eqx.tree_at(lambda q: q.H_ext, self, H_ext)

    def exchange_length(self):
        """Exchange length l_ex = sqrt(2 A / (mu0 Ms^2)) [m]."""
        return jnp.sqrt(2.0 * self.A / (C.MU_0 * self.Ms**2))

    def _check_m(self, m):
        m = jnp.asarray(m)
        if m.shape != self.shape + (3,):
            raise ValueError(f"m must have shape {self.shape + (3,)}, got {m.shape}")
        return m

    # --- energy terms -----------------------------------------------------------------------
    @eqx.filter_jit
    def local_energy(self, m):
        """Exchange + anisotropy + Zeeman + DMI energy [J] of m (nx, ny, nz, 3)."""
        m = self._check_m(m)
        V = self.volume
        A, Ku, Kc, D, Ms = (x.astype(m.dtype) for x in (self.A, self.Ku, self.Kc, self.D, self.Ms))
        E = jnp.zeros((), m.dtype)
        for ax, d in enumerate(self.cell):
            if self.shape[ax] > 1:
                dm = jnp.diff(m, axis=ax)
                E = E + A * V / d**2 * jnp.sum(dm * dm)
        mu = m @ self.u.astype(m.dtype)
        E = E - Ku * V * jnp.sum(mu * mu)
        c3 = jnp.cross(self.c1, self.c2)
        a = jnp.stack([m @ c.astype(m.dtype) for c in (self.c1, self.c2, c3)], axis=-1) ** 2
        E = E + Kc * V * jnp.sum(
            a[..., 0] * a[..., 1] + a[..., 1] * a[..., 2] + a[..., 2] * a[..., 0]
        )
        E = E - C.MU_0 * Ms * V * jnp.sum(m @ self.H_ext.astype(m.dtype))
        if self.shape[0] > 1:
            cx = cross(m[:-1], m[1:])
            E = E + D * V / self.cell[0] * jnp.sum(cx[..., 1])
        if self.shape[1] > 1:
            cy = cross(m[:, :-1], m[:, 1:])
            E = E - D * V / self.cell[1] * jnp.sum(cy[..., 0])
        return E

    @eqx.filter_jit
    def demag_field(self, m):
        """Demagnetizing field H_d = -Ms N * m [A/m], shape (nx, ny, nz, 3)."""
        m = self._check_m(m)
        if self.kernel is None:
            return jnp.zeros_like(m)
        pad = tuple(2 * n if n > 1 else 1 for n in self.shape)
        Mk = jnp.fft.rfftn(self.Ms.astype(m.dtype) * m, s=pad, axes=(0, 1, 2))
        K = self.kernel.astype(Mk.dtype)
        xx, yy, zz, xy, xz, yz = (K[i] for i in range(6))
        Hk = jnp.stack(
            [
                xx * Mk[..., 0] + xy * Mk[..., 1] + xz * Mk[..., 2],
                xy * Mk[..., 0] + yy * Mk[..., 1] + yz * Mk[..., 2],
                xz * Mk[..., 0] + yz * Mk[..., 1] + zz * Mk[..., 2],
            ],
            axis=-1,
        )
        H = jnp.fft.irfftn(Hk, s=pad, axes=(0, 1, 2))
        nx, ny, nz = self.shape
        return -H[:nx, :ny, :nz]

    def demag_energy(self, m):
        """Demag (stray-field) energy E_d = -(mu0/2) Ms V sum m . H_d [J]."""
        Ms = self.Ms.astype(m.dtype)
        return -0.5 * C.MU_0 * Ms * self.volume * jnp.sum(m * self.demag_field(m))

    @eqx.filter_jit
    def energy(self, m):
        """Total energy E [J] of m (nx, ny, nz, 3)."""
        return self.local_energy(m) + self.demag_energy(m)

    @eqx.filter_jit
    def field(self, m, t=None):
        """Effective field H_eff = -1/(mu0 Ms V) dE/dm [A/m], shape (nx, ny, nz, 3).

        ``t`` [s] is accepted (and ignored) so the method can drive ``llg`` directly.
        """
        m = self._check_m(m)
        g = jax.grad(self.local_energy)(m)
        return -g / (C.MU_0 * self.Ms.astype(m.dtype) * self.volume) + self.demag_field(m)

    @eqx.filter_jit
    def torque(self, m):
        """Normalized torque |m x H_eff| / Ms per cell (dimensionless), shape (nx, ny, nz)."""
        return safe_norm(cross(m, self.field(m)), axis=-1) / self.Ms.astype(m.dtype)

    def average(self, m):
        """Mean magnetization <m>, shape (3,)."""
        return jnp.mean(m.reshape(-1, 3), axis=0)

    # --- dynamics ---------------------------------------------------------------------------
    def max_frequency(self):
        """Upper bound of the angular frequency gamma mu0 H_max of the stiffest mode [rad/s].

        H_max = 2A/(mu0 Ms) sum_k 4/d_k^2 + 2(|Ku| + 2|Kc|)/(mu0 Ms)
                + 4|D|/(mu0 Ms) sum_k 1/d_k + Ms + |H_ext|  (a JAX scalar; traceable).
        """
        inv2 = sum(4.0 / d**2 for n, d in zip(self.shape, self.cell, strict=False) if n > 1)
        inv1 = sum(1.0 / d for n, d in zip(self.shape[:2], self.cell[:2], strict=False) if n > 1)
        Ms = self.Ms
        H = (
            2.0 * self.A / (C.MU_0 * Ms) * inv2
            + 2.0 * (jnp.abs(self.Ku) + 2.0 * jnp.abs(self.Kc)) / (C.MU_0 * Ms)
            + 4.0 * jnp.abs(self.D) / (C.MU_0 * Ms) * inv1
            + (Ms if self.kernel is not None else 0.0)
            + safe_norm(self.H_ext)
        )
        return GAMMA_E * C.MU_0 * H

    def stable_time_step(self, alpha):
        r"""Largest time step [s] at which ``evolve``'s Heun integrator is stable for damping
        ``alpha``: ``dt_max = heun_stability_limit(alpha) / max_frequency()`` (see
        :func:`heun_stability_limit`; the bound of the stiffest, exchange-dominated mode)."""
        return heun_stability_limit(alpha) / self.max_frequency()

    def evolve(
        self,
        m0,
        dt,
        n_steps: int,
        *,
        alpha,
        save_every: int = 1,
        temperature=0.0,
        key=None,
        p=None,
        h_dl=0.0,
        h_fl=0.0,
    ) -> LLGSolution:
        """Integrate the LLG equation for this model (see ``llg``), with a time-step check.

        Args:
            m0: initial magnetization (nx, ny, nz, 3), unit vectors.
            dt: time step [s]; must satisfy ``dt <= stable_time_step(alpha)``, the linear
                stability bound of the Heun scheme for the stiffest mode (damping dependent;
                ValueError for concrete values, ``eqx.error_if`` under jit). Above it the
                scheme stays norm-preserving but grid-scale modes grow without bound.
            n_steps, save_every, alpha, temperature, key, p, h_dl, h_fl: as in ``llg``
                (thermal field per cell, with cell volume V and Ms of the model).
        """
        m0 = self._check_m(m0)
        check_real("dt", dt)
        check_real("alpha", alpha)
        dt_max = self.stable_time_step(alpha)
        msg = (
            "time step dt is unstable for this mesh and damping: the Heun scheme needs "
            "dt <= stable_time_step(alpha) (about 2 alpha^(1/3) / (gamma mu0 H_max) for "
            "alpha << 1); grid-scale modes grow otherwise"
        )
        if is_concrete(dt) and is_concrete(dt_max) and float(dt) > float(dt_max):
            raise ValueError(
                f"time step dt = {float(dt):.3g} s is unstable for this mesh and damping "
                f"alpha = {float(alpha):.3g}: need dt <= {float(dt_max):.3g} s "
                "(Heun stability bound of the stiffest mode, stable_time_step(alpha))"
            )
        dt = require(jnp.asarray(dt), jnp.asarray(dt) <= dt_max, msg)
        return llg(
            m0,
            self.field,
            dt,
            n_steps,
            alpha=alpha,
            save_every=save_every,
            temperature=temperature,
            Ms=self.Ms,
            volume=self.volume,
            key=key,
            p=p,
            h_dl=h_dl,
            h_fl=h_fl,
        )


#: damping below which the stability bound is taken at this value (the explicit scheme has no
#: strictly stable step for alpha = 0: an undamped mode grows by ~r^4/8 per step, 2e-4 here)
_ALPHA_FLOOR = 1e-3


def heun_stability_limit(alpha):
    r"""Largest ``omega dt`` for which Heun's method is stable on a damped precessing mode.

    Linearised about an equilibrium, each LLG eigenmode of stiffness h (``omega = gamma mu0 h``)
    evolves as ``exp(lambda t)`` with ``lambda = omega (-alpha +- i) / (1 + alpha^2)``. Heun's
    amplification factor ``P(z) = 1 + z + z^2/2`` at ``z = lambda dt = r e^{i phi}``,
    ``cos phi = -kappa = -alpha / sqrt(1 + alpha^2)``, has

    .. math:: |P|^2 = 1 - 2\kappa r + 2\kappa^2 r^2 - \kappa r^3 + r^4/4,

    so the step is stable (``|P| <= 1``) while ``f(r) = r^3/4 - kappa r^2 + 2 kappa^2 r -
    2 kappa <= 0``; f is increasing (f' > 0) with one root ``r* ~ (8 kappa)^(1/3)`` for small
    alpha. Returns ``omega dt_max = r* sqrt(1 + alpha^2)`` (0.54 at alpha = 0.02, 2.2 at
    alpha = 0.5). alpha below 1e-3 uses 1e-3 (see ``_ALPHA_FLOOR``).

    Args:
        alpha: Gilbert damping (>= 0), scalar; traceable.
    """
    a = jnp.maximum(jnp.abs(nonnegative(alpha, "alpha")), _ALPHA_FLOOR)
    kappa = a / jnp.sqrt(1.0 + a * a)

    def bisect(_, lohi):
        lo, hi = lohi
        mid = 0.5 * (lo + hi)
        f = mid**3 / 4 - kappa * mid**2 + 2 * kappa**2 * mid - 2 * kappa
        return jnp.where(f > 0, lo, mid), jnp.where(f > 0, mid, hi)

    # f(0) = -2 kappa < 0 and f(4) = 8 kappa^2 - 18 kappa + 16 > 0: the root is in (0, 4)
    lo, _ = jax.lax.fori_loop(0, 60, bisect, (jnp.zeros_like(kappa), jnp.full_like(kappa, 4.0)))
    return lo * jnp.sqrt(1.0 + a * a)


def _warn_coarse(cell, Ms, A, Ku, Kc):
    """Warn (or refuse) when cells exceed the exchange / wall length."""
    if A <= 0:
        return
    with np.errstate(over="ignore", divide="ignore", under="ignore"):
        Ms_, A_ = np.float64(Ms), np.float64(A)
        lengths = [np.sqrt(2.0 * A_ / (C.MU_0 * Ms_**2))]
        K = np.float64(max(abs(Ku), abs(Kc)))
        if K > 0:
            lengths.append(np.sqrt(A_ / K))
    l_min = float(min(lengths))
    d = max(cell[:2])
    if not d <= 10.0 * l_min:
        raise ValueError(
            f"cell size {d:.3g} m exceeds 10x the exchange/wall length "
            f"{l_min:.3g} m (sqrt(2A / (mu0 Ms^2)), sqrt(A / max(|Ku|, |Kc|))): "
            "finite-difference results would be meaningless"
        )
    if d > 2.0 * l_min:
        warnings.warn(
            f"cell size {d:.3g} m exceeds 2x the exchange/wall length {l_min:.3g} m;"
            " domain walls and vortices are under-resolved",
            stacklevel=3,
        )


class RelaxResult(NamedTuple):
    """Result of ``relax``.

    Attributes:
        m: relaxed magnetization (nx, ny, nz, 3).
        energy: total energy [J].
        max_torque: max over cells of |m x H_eff| / Ms at the end.
        n_steps: iterations used.
        converged: True if max_torque < tol.
    """

    m: jax.Array
    energy: jax.Array
    max_torque: jax.Array
    n_steps: jax.Array
    converged: jax.Array


def relax(
    model: Micromagnet, m0, *, tol: float = 1e-5, max_steps: int = 20000, throw: bool = True
) -> RelaxResult:
    r"""Minimize the energy on the sphere |m| = 1 (projected steepest descent, BB steps).

    Iterates m <- normalize(m + tau h_perp), h_perp = (H_eff - (m.H_eff) m)/Ms (the negative
    projected energy gradient), with Barzilai-Borwein step lengths alternating
    tau = s.s/s.y and s.y/y.y (s = change of m, y = change of -h_perp), as in Exl et al.,
    J. Appl. Phys. 115, 17D118 (2014). Stops when max |m x H_eff| / Ms < tol.

    Args:
        model: the Micromagnet.
        m0: initial unit magnetization (nx, ny, nz, 3).
        tol: torque tolerance (dimensionless).
        max_steps: iteration cap.
        throw: raise (eqx.error_if) if not converged; otherwise check ``converged``.
    Returns:
        RelaxResult.
    """
    m0 = model._check_m(m0)
    max_steps = check_count("max_steps", max_steps)
    tol = positive(tol, "tol").astype(m0.dtype)
    return _relax(model, m0, tol, jnp.asarray(max_steps), throw)


@eqx.filter_jit
def _relax(model, m0, tol, max_steps, throw):
    m0 = require(
        m0,
        jnp.isfinite(m0).all() & (jnp.abs(safe_norm(m0, axis=-1) - 1.0) < 1e-6).all(),
        "m0 must be finite unit vectors",
    )
    dtype = m0.dtype

    def hperp(m):
        h = model.field(m) / model.Ms.astype(dtype)
        return h - jnp.sum(m * h, axis=-1, keepdims=True) * m

    def max_torque(g):
        return jnp.max(safe_norm(g, axis=-1))

    def cond(state):
        m, g, tau, k = state
        return (max_torque(g) >= tol) & (k < max_steps)

    def body(state):
        m, g, tau, k = state
        m_new = m + tau * g
        m_new = m_new / safe_norm(m_new, axis=-1, keepdims=True)
        g_new = hperp(m_new)
        s = m_new - m
        y = g - g_new
        ss, sy, yy = jnp.sum(s * s), jnp.sum(s * y), jnp.sum(y * y)
        ok = sy > 0
        sy_safe = jnp.where(ok, sy, 1.0)
        tau_bb = jnp.where(k % 2 == 0, ss / sy_safe, sy_safe / jnp.where(yy > 0, yy, 1.0))
        tau_new = jnp.clip(jnp.where(ok, tau_bb, 10.0 * tau), 1e-8, 1e4)
        return m_new, g_new, tau_new.astype(dtype), k + 1

    g0 = hperp(m0)
    tau0 = jnp.asarray(1e-2, dtype) / jnp.maximum(1.0, max_torque(g0))
    m, g, _, k = jax.lax.while_loop(cond, body, (m0, g0, tau0, jnp.asarray(0)))
    t = max_torque(g)
    converged = t < tol
    if throw:
        m = eqx.error_if(
            m,
            jnp.logical_not(converged),
            "relax did not converge within max_steps (pass throw=False to inspect)",
        )
    return RelaxResult(m=m, energy=model.energy(m), max_torque=t, n_steps=k, converged=converged)
