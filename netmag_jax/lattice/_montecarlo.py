r"""Monte Carlo driver for classical spin models: chains x temperatures, parallel tempering,
equilibration and measured sweeps (kernels in ``_kernels``, estimates in ``_observables``).

Temperatures are in kelvin; internally energies are divided by k_B (kelvin), so float32 runs
never meet the underflow of squared joules. One *sweep* is one Metropolis pass over all sites,
done colour by colour (sites of one colour share no bond, so they are updated in parallel:
the checkerboard decomposition), followed by ``n_overrelax`` over-relaxation passes
(XY/Heisenberg) and, for ``method="wolff"``, ``n_clusters`` Wolff cluster flips. With
``parallel_tempering=True`` neighbouring temperatures try to swap configurations after every
sweep (even pairs on even sweeps, odd pairs on odd sweeps), accepted with
:math:`\min(1, e^{(\beta_i-\beta_j)(E_i-E_j)})`.
"""

from __future__ import annotations

import functools
import warnings
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .. import _checks
from ._kernels import (
    ReducedModel,
    random_unit,
    sweep_with_overrelaxation,
    uniform_shape,
    wolff_update,
)
from ._models import SpinModel
from ._observables import RHAT_MAX, EquilibrationWarning, Observables, estimate, measure


class _Schedule(NamedTuple):
    """The static (shape- and branch-setting) settings of one run."""

    n_equil: int
    n_sweeps: int
    wolff: bool
    tempering: bool
    n_overrelax: int
    n_clusters: int


def _one_temperature(p: ReducedModel, sched: _Schedule, u, key, spins, beta):
    """One sweep of one chain at one temperature: Metropolis, over-relaxation, Wolff flips."""
    spins = sweep_with_overrelaxation(p, u, spins, beta)
    if sched.wolff:
        for k in jax.random.split(key, sched.n_clusters):
            spins = wolff_update(p, k, spins, beta)
    return spins


def _tempering_permutation(key, betas, energies, t):
    """Which configuration each temperature holds after the replica-exchange step of sweep t
    (pairs (i, i+1) with i even on even sweeps, odd on odd sweeps); energies are totals, K."""
    nT = betas.shape[0]
    i = jnp.arange(nT)
    partner = jnp.where((i - t % 2) % 2 == 0, i + 1, i - 1)
    valid = (partner >= 0) & (partner < nT)
    partner_c = jnp.clip(partner, 0, nT - 1)
    u = jax.random.uniform(key, (nT,), betas.dtype)[jnp.minimum(i, partner_c)]
    dlog = (betas - betas[partner_c]) * (energies - energies[partner_c])
    acc = valid & (u < jnp.exp(jnp.minimum(dlog, 0.0)))
    return jnp.where(acc, partner_c, i)


def _chain(p: ReducedModel, sched: _Schedule, betas, key, spins):
    """One chain, all temperatures: spins [nT, N, n] -> final spins and the measured samples
    of the last ``n_sweeps`` sweeps."""
    nT, N, n = spins.shape
    ushape = (nT, 1 + sched.n_overrelax) + uniform_shape(p, N, n)

    def sweep(carry, key):
        spins, t = carry
        k1, k2, k3 = jax.random.split(key, 3)
        u = jax.random.uniform(k1, ushape, betas.dtype)
        one = functools.partial(_one_temperature, p, sched)
        spins = jax.vmap(one)(u, jax.random.split(k3, nT), spins, betas)
        obs = jax.vmap(lambda s: measure(p, s))(spins)
        if sched.tempering and nT > 1:
            perm = _tempering_permutation(k2, betas, obs.energy * N, t)
            spins = spins[perm]
            obs = jax.tree_util.tree_map(lambda x: x[perm], obs)
        return (spins, t + 1), obs

    keys = jax.random.split(key, sched.n_equil + sched.n_sweeps)
    (spins, _), obs = jax.lax.scan(sweep, (spins, 0), keys)
    return spins, jax.tree_util.tree_map(lambda x: x[sched.n_equil :], obs)


@functools.partial(jax.jit, static_argnames=("sched",))
def _run(p: ReducedModel, key, temps, spins0, sched: _Schedule):
    """The jitted hot path: chains (vmapped) x temperatures; spins0 [C, nT, N, n]."""
    chain = functools.partial(_chain, p, sched, 1.0 / temps)
    return jax.vmap(chain)(jax.random.split(key, spins0.shape[0]), spins0)


def _initial(model: SpinModel, key, init, n_chains, nT, dtype):
    """Starting spins [n_chains, nT, N, n] from "random", "ferro", "neel" or an array."""
    N, n = model.lattice.n_sites, model.n_components
    if isinstance(init, str):
        _checks.check_option("init", init, ("random", "ferro", "neel"))
        if init == "random":
            return random_unit(key, (n_chains, nT, N), n, dtype)
        s = jnp.zeros((N, n), dtype).at[:, 0].set(1.0)
        if init == "neel":
            if not model.lattice.bipartite:
                raise ValueError("init='neel' needs a bipartite lattice")
            s = s * jnp.asarray(model.lattice.stagger, dtype)[:, None]
        return jnp.broadcast_to(s, (n_chains, nT, N, n))
    s = jnp.asarray(init, dtype)
    if s.ndim == 1 and n == 1:
        s = s[:, None]
    if s.shape[-2:] != (N, n):
        raise ValueError(f"init array must end in shape ({N}, {n}), got {s.shape}")
    return jnp.broadcast_to(unit_spins(s, "init"), (n_chains, nT, N, n))


def unit_spins(s, name: str):
    """``s`` [..., n] after checking every spin is a finite unit vector (Ising: +-1), to
    1e-3 in |s|^2 (also under jit)."""
    ok = jnp.isfinite(s).all(axis=-1) & (jnp.abs(jnp.sum(s * s, axis=-1) - 1.0) < 1e-3)
    return _checks.require(s, ok, f"{name} spins must be finite unit vectors (Ising: +-1)")


def _check_model(model) -> None:
    if not isinstance(model, SpinModel):
        raise TypeError(
            f"model must be a SpinModel (Ising, XY, Heisenberg), got {type(model).__name__}"
        )


def _positive_temperatures(temps):
    """Temperatures checked finite and > 0: ValueError right away when concrete (before any
    compile), else a run-time check (``eqx.error_if``)."""
    if _checks.is_concrete(temps):
        bad = ~(np.isfinite(np.asarray(temps)) & (np.asarray(temps) > 0))
        if np.any(bad):
            raise ValueError(f"temperatures must be finite and > 0 K, got {np.asarray(temps)}")
    return _checks.positive(temps, "temperatures")


def _check_counts(**counts: tuple[int, int]) -> None:
    """Raise ValueError unless each ``name=(value, lowest)`` is an integer >= lowest."""
    for name, (v, lo) in counts.items():
        if int(v) != v or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")


def simulate(
    model: SpinModel,
    key,
    temperatures,
    n_sweeps: int,
    n_equil: int,
    method: str = "metropolis",
    parallel_tempering: bool = False,
    n_chains: int = 4,
    n_overrelax: int = 0,
    n_clusters: int = 1,
    n_blocks: int = 16,
    init="random",
) -> Observables:
    r"""Monte Carlo of a spin model at several temperatures; thermal averages with errors.

    (Long because this docstring documents every option; the body checks inputs, runs the
    compiled chains and assembles the observables.)

    Runs ``n_chains`` independent chains at every temperature (vmapped), each ``n_equil``
    sweeps to equilibrate and ``n_sweeps`` measured sweeps; the energy convention is the
    model's, :math:`H = -\sum_b J_b S_i\cdot S_j - \sum_i h\cdot S_i - D\sum_i(S_i\cdot\hat
    n)^2` (each bond once), and the Boltzmann weight :math:`e^{-H/k_BT}`. The run is
    compiled once per lattice, shapes and integer settings: new temperatures, keys or coupling
    values of the same shapes reuse it (uniform couplings take a faster kernel, so a switch
    between uniform and per-bond couplings compiles again).

    Args:
        model: :class:`SpinModel` (``Ising``, ``XY``, ``Heisenberg``).
        key: PRNG key.
        temperatures: [nT] kelvin (> 0).
        n_sweeps: measured sweeps per chain (>= n_blocks).
        n_equil: equilibration sweeps per chain (>= 0).
        method: "metropolis" (checkerboard Metropolis) or "wolff" (each sweep: one
            Metropolis sweep then ``n_clusters`` Wolff cluster flips).
        parallel_tempering: swap configurations between neighbouring temperatures
            (give the temperatures sorted).
        n_chains: independent chains per temperature (default 4, vmapped: on a CPU they cost
            about 4 single chains, on an accelerator little more than one). Several chains
            from independent random starts make a chain stuck in a metastable state (stripes,
            domains) visible to the split-R-hat check (``Observables.rhat``), which then warns
            with :class:`EquilibrationWarning`; their pooled averages also halve the error of
            one chain.
        n_overrelax: over-relaxation passes per sweep (XY / Heisenberg).
        n_clusters: Wolff flips per sweep (method "wolff").
        n_blocks: blocks per chain for the jackknife errors.
        init: "random", "ferro" (all along the first component), "neel" (bipartite lattices)
            or an array [N, n] (broadcast to every chain and temperature).
    Returns:
        :class:`Observables`.
    """
    _check_model(model)
    _checks.check_option("method", method, ("metropolis", "wolff"))
    _check_counts(
        n_sweeps=(n_sweeps, 1),
        n_equil=(n_equil, 0),
        n_chains=(n_chains, 1),
        n_overrelax=(n_overrelax, 0),
        n_clusters=(n_clusters, 1),
        n_blocks=(n_blocks, 2),
    )
    if n_sweeps < n_blocks:
        raise ValueError(f"n_sweeps ({n_sweeps}) must be >= n_blocks ({n_blocks})")
    if n_overrelax and model.n_components == 1:
        raise ValueError("over-relaxation needs XY or Heisenberg spins")
    dtype = jnp.result_type(float)
    _checks.check_real("temperatures", temperatures)
    if not isinstance(init, str):
        _checks.check_real("init", init)
    temps = jnp.atleast_1d(jnp.asarray(temperatures, dtype=dtype))
    _checks.check_ndim("temperatures", temps, 1)
    temps = _positive_temperatures(temps)
    p = model.reduced(dtype)
    p = eqx.tree_at(lambda q: q.Jn, p, _checks.finite(p.Jn, "J"))
    ki, kr = jax.random.split(key)
    spins0 = _initial(model, ki, init, int(n_chains), temps.shape[0], dtype)
    sched = _Schedule(
        n_equil=int(n_equil),
        n_sweeps=int(n_sweeps),
        wolff=method == "wolff",
        tempering=bool(parallel_tempering),
        n_overrelax=int(n_overrelax),
        n_clusters=int(n_clusters),
    )
    spins, samples = _run(p, kr, temps, spins0, sched)
    obs = estimate(samples, spins, temps, model.n_components, int(n_blocks))
    _warn_if_not_equilibrated(obs)
    return obs


def _warn_if_not_equilibrated(obs: Observables) -> None:
    """Emit :class:`EquilibrationWarning` naming the temperatures whose chains disagree
    (concrete results only: under ``jax.jit`` the diagnostic stays in ``obs.rhat``)."""
    if not _checks.is_concrete(obs.equilibrated):
        return
    bad = ~np.asarray(obs.equilibrated)
    if np.any(bad):
        Ts = ", ".join(f"{t:.4g} K" for t in np.asarray(obs.temperatures)[bad])
        warnings.warn(
            EquilibrationWarning(
                f"Monte Carlo chains disagree (split-R-hat >= {RHAT_MAX}) at T = {Ts}: the "
                "averages there are not equilibrium values (e.g. chains frozen in domain or "
                "stripe states). Run longer (n_equil, n_sweeps), start ordered "
                '(init="ferro"), use method="wolff", or parallel_tempering=True; '
                "Observables.rhat and .equilibrated give the diagnostic per temperature."
            ),
            stacklevel=3,
        )


@functools.partial(jax.jit, static_argnames=("n_sweeps", "n_overrelax"))
def _evolve(p: ReducedModel, key, spins, beta, n_sweeps, n_overrelax):
    N, n = spins.shape
    shape = (1 + n_overrelax,) + uniform_shape(p, N, n)

    def body(s, k):
        u = jax.random.uniform(k, shape, s.dtype)
        return sweep_with_overrelaxation(p, u, s, beta), None

    return jax.lax.scan(body, spins, jax.random.split(key, n_sweeps))[0]


def evolve(model: SpinModel, key, spins, temperature, n_sweeps: int, n_overrelax: int = 0):
    """Advance one configuration by ``n_sweeps`` checkerboard Metropolis sweeps (no
    measurements): the bare kernel of :func:`simulate`, for long runs and benchmarks.

    Args:
        model: :class:`SpinModel`.
        key: PRNG key.
        spins: [N, n] unit spins (Ising: [N, 1] of +-1).
        temperature: K (> 0), scalar.
        n_sweeps: number of sweeps (>= 1).
        n_overrelax: over-relaxation passes after each sweep (XY / Heisenberg).
    Returns:
        the configuration after the sweeps, [N, n].
    """
    _check_model(model)
    N, n = model.lattice.n_sites, model.n_components
    dtype = jnp.result_type(float)
    _checks.check_real("spins", spins)
    _checks.check_real("temperature", temperature)
    spins = jnp.asarray(spins, dtype)
    _checks.check_shape("spins", spins, (N, n))
    spins = unit_spins(spins, "spins")
    _check_counts(n_sweeps=(n_sweeps, 1), n_overrelax=(n_overrelax, 0))
    T = _positive_temperatures(jnp.asarray(temperature, dtype))
    return _evolve(model.reduced(dtype), key, spins, 1.0 / T, int(n_sweeps), int(n_overrelax))
