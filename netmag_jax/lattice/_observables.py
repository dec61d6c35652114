r"""Observables of a Monte Carlo run: per-sample measurements, thermal averages, jackknife
errors from blocked time series, integrated autocorrelation times, Binder crossings.

Conventions: magnetizations are per site in units of the spin length, weighted by the site
moments, :math:`m = \frac1N\sum_i w_i S_i`; energies are per site (kelvin inside the run,
joules in :class:`Observables`); susceptibilities carry :math:`N\beta`.
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .. import _checks
from ..constants import K_B
from . import _export
from ._kernels import ReducedModel, energy_per_site

#: the primaries of one sample, in order, before the [n] magnetization vector and the
#: [n_sub] sublattice projections: |m|, m^2, m^4, |m_s|, m_s^2, E, E^2 (E per site, K)
_N_SCALARS = 7
_I_ABS_M, _I_E = 0, 5

#: a temperature counts as equilibrated when the split-R-hat of |m| and of E are both below
#: this (Gelman et al., Bayesian Data Analysis, 3rd ed., sec. 11.4: "below 1.1")
RHAT_MAX = 1.1


class EquilibrationWarning(UserWarning):
    """Chains at some temperature disagree (split-R-hat >= ``RHAT_MAX``): the averages there
    are not thermal averages yet."""


class Sample(eqx.Module):
    """One measurement of a configuration (or a stack of them along leading axes)."""

    m: jax.Array  # [n] magnetization, (1/N) sum_i w_i S_i
    ms: jax.Array  # [n] staggered magnetization, (1/N) sum_i eps_i w_i S_i
    msub: jax.Array  # [n_sub, n] mean w_i S_i of each sublattice
    energy: jax.Array  # energy per site, K


def measure(p: ReducedModel, spins) -> Sample:
    """One :class:`Sample` of ``spins`` [N, n]."""
    ws = p.w[:, None] * spins
    return Sample(
        m=jnp.mean(ws, axis=0),
        ms=jnp.mean(p.stagger[:, None] * ws, axis=0),
        msub=p.sub_onehot @ ws,
        energy=energy_per_site(p, spins),
    )


class Observables(eqx.Module):
    """Thermal averages per temperature (leading axis = temperatures), with jackknife errors
    from blocked time series (``*_err``).

    Attributes:
        temperatures: [nT] K.
        magnetization: <|m|>, m = (1/N) sum_i S_i (per site, units of the spin length).
        staggered_magnetization: <|m_s|>, m_s = (1/N) sum_i eps_i S_i (eps = +-1 on the two
            sides of a bipartite lattice; 0 otherwise).
        sublattice_magnetization: [nT, n_sub] <m_a . u>, u the direction of sublattice 0's
            magnetization in each sample (so sublattice 0 is >= 0 and antiparallel sublattices
            come out negative); m_a the mean spin of sublattice a.
        energy: <E>/N, joules per site.
        susceptibility: N beta (<m^2> - <|m|>^2), 1/J per site (multiply by mu^2 [J/T]^2 for
            J/T^2); the order-parameter susceptibility whose finite-size peak marks Tc.
        uniform_susceptibility: N beta (<m^2> - |<m>|^2) / n, 1/J per site: the response
            dm/dh of the field component of m to a field h along any direction of an
            isotropic n-component system (the trace of the susceptibility tensor over n; free
            unit spins: Curie's 1 / (n k_B T)). Ising: n = 1.
        staggered_susceptibility: N beta (<m_s^2> - <|m_s|>^2), 1/J per site.
        specific_heat: (<E^2> - <E>^2) / (N k_B T^2), J/K per site.
        binder: U4 = 1 - <m^4> / (3 <m^2>^2).
        tau_m, tau_e: integrated autocorrelation times of |m| and E in sweeps (blocking
            estimate tau = B var(block means) / (2 var)).
        rhat: split-R-hat per temperature, the larger of those of |m| and E: every chain's
            measured series cut in two halves, R = sqrt(((n - 1) W / n + B / n) / W) with W
            the mean within-half variance and B / n the variance of the half means (n samples
            per half); ~1 when all chains sample one distribution, > 1 when they disagree
            (e.g. chains frozen in stripe states); inf when the chains are frozen apart.
        equilibrated: rhat < ``RHAT_MAX`` (bool per temperature).
        spins: final configurations [n_chains, nT, N, n].
    """

    temperatures: jax.Array
    magnetization: jax.Array
    magnetization_err: jax.Array
    staggered_magnetization: jax.Array
    staggered_magnetization_err: jax.Array
    sublattice_magnetization: jax.Array
    sublattice_magnetization_err: jax.Array
    energy: jax.Array
    energy_err: jax.Array
    susceptibility: jax.Array
    susceptibility_err: jax.Array
    uniform_susceptibility: jax.Array
    uniform_susceptibility_err: jax.Array
    staggered_susceptibility: jax.Array
    staggered_susceptibility_err: jax.Array
    specific_heat: jax.Array
    specific_heat_err: jax.Array
    binder: jax.Array
    binder_err: jax.Array
    tau_m: jax.Array
    tau_e: jax.Array
    rhat: jax.Array
    equilibrated: jax.Array
    spins: jax.Array

    def to_xarray(self):
        """An ``xarray.Dataset``: every field (not ``spins``) and its ``_err`` over a
        ``temperature`` coordinate [K] (``sublattice_magnetization`` also over
        ``sublattice``), units in the attributes. Needs xarray (extra ``lattice``)."""
        return _export.to_xarray(self)

    def to_hdf5(self, path, group: str = "/") -> None:
        """Write every field (not ``spins``) and its ``_err`` to an HDF5 file, one dataset each
        with a ``units`` attribute, ``temperature`` [K] first; atomic (temporary file in the
        target folder, then renamed). Needs h5py (extra ``lattice``)."""
        _export.to_hdf5(self, path, group)

    def molar_susceptibility(
        self,
        moment_bohr,
        units: str = "emu/mol/Oe",
        kind: str = "uniform",
        sites_per_formula=1.0,
    ):
        r"""Susceptibility per mole of formula units, with its error.

        :math:`\chi_{\rm mol} = N_A\mu_0\,(p\mu_B)^2\,n_f\,\chi_{\rm site}` in m^3/mol
        (SI molar) or times :math:`10^6/4\pi` in emu/(mol Oe) (CGS, = cm^3/mol): free
        classical spins give Curie's :math:`\chi T = 0.12505\,p^2` emu K/mol.

        Args:
            moment_bohr: moment p of one unit spin, Bohr magnetons (e.g. g sqrt(S(S+1)) for
                spins normalised by S(S+1), g S for S^2).
            units: "emu/mol/Oe" or "m^3/mol".
            kind: "uniform" (dm/dh, the measured response) or "order" (the order-parameter
                ``susceptibility``).
            sites_per_formula: magnetic sites per formula unit.
        Returns:
            (chi, chi_err), NumPy arrays [nT].
        """
        if kind not in ("uniform", "order"):
            raise ValueError(f"kind must be 'uniform' or 'order', got {kind!r}")
        name = "uniform_susceptibility" if kind == "uniform" else "susceptibility"
        conv = functools.partial(
            _export.molar_susceptibility,
            moment_bohr=moment_bohr,
            units=units,
            sites_per_formula=sites_per_formula,
        )
        return conv(getattr(self, name)), conv(getattr(self, name + "_err"))


def _primaries(sample: Sample):
    """Per-sample primary quantities [..., k] (NumPy float64; order: see ``_N_SCALARS``)."""
    m, ms, msub, e = (
        np.asarray(x, dtype=np.float64) for x in (sample.m, sample.ms, sample.msub, sample.energy)
    )
    a2 = np.sum(m * m, axis=-1)
    a = np.sqrt(a2)
    s2 = np.sum(ms * ms, axis=-1)
    ref = msub[..., 0, :]
    rn = np.sqrt(np.sum(ref * ref, axis=-1, keepdims=True))
    u = ref / np.where(rn > 0, rn, 1.0)
    proj = np.sum(msub * u[..., None, :], axis=-1)  # [..., n_sub]
    cols = [a, a2, a2 * a2, np.sqrt(s2), s2, e, e * e]
    return np.concatenate([np.stack(cols, -1), m, proj], axis=-1)


def _derived(mean, N, T, n):
    """Observables from the means of the primaries (last axis), T broadcast against them."""
    a, a2, a4, s, s2, e, e2 = (mean[..., i] for i in range(_N_SCALARS))
    mvec = mean[..., _N_SCALARS : _N_SCALARS + n]
    with np.errstate(divide="ignore", invalid="ignore"):
        return dict(
            magnetization=a,
            staggered_magnetization=s,
            energy=e * K_B,
            susceptibility=N * (a2 - a * a) / (T * K_B),
            uniform_susceptibility=N * (a2 - np.sum(mvec * mvec, axis=-1)) / (n * T * K_B),
            staggered_susceptibility=N * (s2 - s * s) / (T * K_B),
            specific_heat=N * (e2 - e * e) / (T * T) * K_B,
            binder=1.0 - a4 / (3.0 * a2 * a2),
            sublattice_magnetization=mean[..., _N_SCALARS + n :],
        )


def _analyse(prim, N, T, n, n_blocks):
    """prim [C, S, nT, k] -> derived values, jackknife errors over C*n_blocks blocks, and the
    blocking estimate of tau_int of |m| and E."""
    C, S, nT, k = prim.shape
    bs = S // n_blocks
    x = prim[:, : bs * n_blocks]
    blocks = x.reshape(C, n_blocks, bs, nT, k).mean(axis=2).reshape(C * n_blocks, nT, k)
    B = blocks.shape[0]
    total = blocks.mean(axis=0)
    loo = (total[None] * B - blocks) / (B - 1)
    full = _derived(total, N, T, n)
    jk = _derived(loo, N, T, n)
    errs = {
        name: np.sqrt((B - 1) * np.mean((v - v.mean(axis=0)) ** 2, axis=0))
        for name, v in jk.items()
    }
    var = x.reshape(-1, nT, k).var(axis=0)
    varb = blocks.var(axis=0)
    tau = bs * varb / (2.0 * np.where(var > 0, var, 1.0))
    return full, errs, tau[:, _I_ABS_M], tau[:, _I_E]


def split_rhat(x):
    """Split-R-hat over chains of ``x`` [C, S, nT] (NumPy) -> [nT] (see ``Observables``)."""
    C, S, nT = x.shape
    n = S // 2
    halves = x[:, : 2 * n].reshape(C, 2, n, nT).reshape(2 * C, n, nT)
    W = halves.var(axis=1, ddof=1).mean(axis=0)
    B_n = halves.mean(axis=1).var(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.sqrt(((n - 1) / n * W + B_n) / W)
    # W = 0: every half constant; equal constants agree (1), different ones are frozen apart
    return np.where(W > 0, r, np.where(B_n > 0, np.inf, 1.0))


def estimate(samples: Sample, spins, temperatures, n_components: int, n_blocks: int) -> Observables:
    """:class:`Observables` from the measured samples of a run.

    Args:
        samples: the :class:`Sample` stacked over [n_chains, n_sweeps, nT].
        spins: final configurations [n_chains, nT, N, n].
        temperatures: [nT] K.
        n_components: spin components n.
        n_blocks: blocks per chain for the jackknife errors (n_sweeps >= n_blocks).
    """
    dtype = temperatures.dtype
    prim = _primaries(samples)
    rhat = np.maximum(split_rhat(prim[..., _I_ABS_M]), split_rhat(prim[..., _I_E]))
    full, errs, tau_m, tau_e = _analyse(
        prim,
        spins.shape[2],
        np.asarray(temperatures, dtype=np.float64),
        n_components,
        n_blocks,
    )
    kw = {}
    for name, v in full.items():
        kw[name] = jnp.asarray(v, dtype=dtype)
        kw[name + "_err"] = jnp.asarray(errs[name], dtype=dtype)
    return Observables(
        temperatures=temperatures,
        tau_m=jnp.asarray(tau_m, dtype=dtype),
        tau_e=jnp.asarray(tau_e, dtype=dtype),
        rhat=jnp.asarray(rhat, dtype=dtype),
        equilibrated=jnp.asarray(rhat < RHAT_MAX),
        spins=spins,
        **kw,
    )


def binder_crossing(temperatures, binder_a, binder_b):
    """Temperature where two Binder-cumulant curves U4(T) (two sizes) cross.

    Linear interpolation of U_a - U_b between the first pair of neighbouring grid points
    where the difference changes sign.

    Args:
        temperatures: [nT] K, increasing, > 0 (nT >= 2).
        binder_a, binder_b: [nT] U4 of two lattice sizes (finite).
    Returns:
        the crossing temperature, K (NaN if the curves do not cross on the grid: the one
        documented NaN result; every input is checked).
    """
    for name, v in (("temperatures", temperatures), ("binder_a", binder_a), ("binder_b", binder_b)):
        _checks.check_ndim(name, v, 1)
        if _checks.shape_of(v)[0] < 2:
            raise ValueError(f"{name} needs at least 2 points, got shape {_checks.shape_of(v)}")
    T = _checks.positive(temperatures, "temperatures")
    T = _checks.require(T, jnp.all(jnp.diff(T) > 0), "temperatures must be increasing")
    d = _checks.finite(binder_a, "binder_a") - _checks.finite(binder_b, "binder_b")
    change = jnp.sign(d[:-1]) * jnp.sign(d[1:]) <= 0
    i = jnp.argmax(change)
    denom = d[i] - d[i + 1]
    frac = d[i] / jnp.where(denom != 0, denom, 1.0)
    Tc = T[i] + frac * (T[i + 1] - T[i])
    return jnp.where(jnp.any(change), Tc, jnp.nan)
