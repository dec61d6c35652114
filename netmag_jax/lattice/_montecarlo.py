r"""Monte Carlo for classical spin models: checkerboard Metropolis, Wolff clusters,
over-relaxation and parallel tempering, with observables and blocking errors.

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

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .. import _checks
from ..constants import K_B
from ._models import SpinModel

__all__ = ["simulate", "Observables", "binder_crossing", "metropolis_sweep"]


class _Params(eqx.Module):
    """Reduced (kelvin) couplings and the integer tables of one model."""

    Jn: jnp.ndarray          # [N, z] K
    nbr: jnp.ndarray         # [N, z] int
    bonds: jnp.ndarray       # [n_bonds, 2] int
    Jb: jnp.ndarray          # [n_bonds] K
    h: jnp.ndarray           # [n] K
    D: jnp.ndarray           # K
    axis: jnp.ndarray        # [n]
    colours: jnp.ndarray     # [n_colours, m] int, padded with N
    stagger: jnp.ndarray     # [N]
    sub_onehot: jnp.ndarray  # [n_sub, N] / counts


def _params(model: SpinModel, dtype) -> _Params:
    lat = model.lattice
    sub = np.asarray(lat.sublattice)
    onehot = (sub[None, :] == np.arange(lat.n_sublattices)[:, None]).astype(np.float64)
    onehot = onehot / onehot.sum(axis=1, keepdims=True)
    c = lambda x: jnp.asarray(x, dtype=dtype)  # noqa: E731
    return _Params(Jn=c(model.neighbor_couplings() / K_B), nbr=jnp.asarray(lat.neighbors),
                   bonds=jnp.asarray(lat.bonds), Jb=c(model.J / K_B), h=c(model.h / K_B),
                   D=c(model.D / K_B), axis=c(model.axis),
                   colours=jnp.asarray(lat.colour_sites), stagger=c(lat.stagger),
                   sub_onehot=c(onehot))


def _random_unit(key, shape, n, dtype):
    if n == 1:
        return jnp.where(jax.random.bernoulli(key, 0.5, shape), 1.0, -1.0)[..., None].astype(dtype)
    v = jax.random.normal(key, shape + (n,), dtype)
    nrm = jnp.sqrt(jnp.sum(v * v, axis=-1, keepdims=True))
    return v / jnp.where(nrm > 0, nrm, 1.0)


def _local_field(p: _Params, spins, idx):
    """Exchange + Zeeman field (K) on sites ``idx``: sum_k J_ik S_k + h, shape [m, n]."""
    return jnp.einsum("mz,mzn->mn", p.Jn[idx], spins[p.nbr[idx]]) + p.h


def _single_site_energy_change(p: _Params, field, old, new):
    ani = p.D * ((new @ p.axis) ** 2 - (old @ p.axis) ** 2)
    return -jnp.sum((new - old) * field, axis=-1) - ani


def metropolis_sweep(p: _Params, key, spins, beta):
    """One checkerboard Metropolis sweep of ``spins`` [N, n] at inverse temperature beta [1/K].

    Sites of one colour are proposed a flip (Ising) or a new uniformly random direction (XY,
    Heisenberg) all at once and accepted with min(1, exp(-beta dE)).
    """
    N, n = spins.shape

    def colour_step(spins, inp):
        key, idx = inp
        k1, k2 = jax.random.split(key)
        idx_r = jnp.minimum(idx, N - 1)
        old = spins[idx_r]
        field = _local_field(p, spins, idx_r)
        new = -old if n == 1 else _random_unit(k1, idx.shape, n, spins.dtype)
        dE = _single_site_energy_change(p, field, old, new)
        u = jax.random.uniform(k2, idx.shape, spins.dtype)
        acc = u < jnp.exp(-beta * jnp.maximum(dE, 0.0))
        return spins.at[idx].set(jnp.where(acc[:, None], new, old), mode="drop"), None

    keys = jax.random.split(key, p.colours.shape[0])
    spins, _ = jax.lax.scan(colour_step, spins, (keys, p.colours))
    return spins


def _overrelax_sweep(p: _Params, key, spins, beta):
    """Reflect each spin about its local field (energy-conserving for D = 0; the anisotropy
    change, if any, is accepted by Metropolis), colour by colour."""
    N, n = spins.shape

    def colour_step(spins, inp):
        key, idx = inp
        idx_r = jnp.minimum(idx, N - 1)
        old = spins[idx_r]
        field = _local_field(p, spins, idx_r)
        f2 = jnp.sum(field * field, axis=-1, keepdims=True)
        ok = f2 > 0
        proj = jnp.sum(old * field, axis=-1, keepdims=True) / jnp.where(ok, f2, 1.0)
        new = jnp.where(ok, 2.0 * proj * field - old, old)
        dE = _single_site_energy_change(p, field, old, new)
        u = jax.random.uniform(key, idx.shape, spins.dtype)
        acc = u < jnp.exp(-beta * jnp.maximum(dE, 0.0))
        return spins.at[idx].set(jnp.where(acc[:, None], new, old), mode="drop"), None

    keys = jax.random.split(key, p.colours.shape[0])
    spins, _ = jax.lax.scan(colour_step, spins, (keys, p.colours))
    return spins


def wolff_update(p: _Params, key, spins, beta):
    r"""One Wolff cluster flip (Ising; XY/Heisenberg by the Wolff embedding).

    A random direction r is drawn (r = 1 for Ising); the cluster grows from a random seed
    through bonds with :math:`J_{ij}\sigma_i\sigma_j > 0`, :math:`\sigma = S\cdot r`, each
    added with probability :math:`1 - e^{-2\beta J_{ij}\sigma_i\sigma_j}`; the cluster is
    reflected, :math:`S \to S - 2(S\cdot r)r`. Zeeman and anisotropy energies are not used to
    build the cluster; the flip is accepted with :math:`\min(1, e^{-\beta\Delta E_1})`
    where :math:`\Delta E_1` is their change, which keeps detailed balance.
    """
    N, n = spins.shape
    kr, ks, kg, ka = jax.random.split(key, 4)
    r = _random_unit(kr, (), n, spins.dtype)
    proj = spins @ r                                             # [N]
    seed = jax.random.randint(ks, (), 0, N)
    w = p.Jn * proj[:, None] * proj[p.nbr]                       # [N, z]
    p_add = -jnp.expm1(-2.0 * beta * jnp.maximum(w, 0.0))
    start = jnp.zeros((N,), bool).at[seed].set(True)

    def cond(c):
        return jnp.any(c[1])

    def body(c):
        cluster, frontier, k = c
        k, sub = jax.random.split(k)
        u = jax.random.uniform(sub, p_add.shape, spins.dtype)
        add = jnp.any(frontier[p.nbr] & (u < p_add), axis=1) & ~cluster
        return cluster | add, add, k

    cluster, _, _ = jax.lax.while_loop(cond, body, (start, start, kg))
    new = spins - 2.0 * proj[:, None] * r[None, :]
    dE = jnp.sum(jnp.where(cluster, -(new - spins) @ p.h
                           - p.D * ((new @ p.axis) ** 2 - (spins @ p.axis) ** 2), 0.0))
    acc = jax.random.uniform(ka, (), spins.dtype) < jnp.exp(-beta * jnp.maximum(dE, 0.0))
    return jnp.where((cluster & acc)[:, None], new, spins)


def _energy(p: _Params, spins):
    """Energy per site (K)."""
    b = p.bonds
    e = -jnp.sum(p.Jb * jnp.sum(spins[b[:, 0]] * spins[b[:, 1]], axis=-1))
    e = e - jnp.sum(spins @ p.h) - p.D * jnp.sum((spins @ p.axis) ** 2)
    return e / spins.shape[0]


def _measure(p: _Params, spins):
    m = jnp.mean(spins, axis=0)
    ms = jnp.mean(p.stagger[:, None] * spins, axis=0)
    msub = p.sub_onehot @ spins
    return m, ms, msub, _energy(p, spins)


class Observables(eqx.Module):
    """Thermal averages per temperature (leading axis = temperatures), with jackknife errors
    from blocked time series (``*_err``).

    Fields:
        temperatures [nT] K.
        magnetization: <|m|>, m = (1/N) sum_i S_i (per site, units of the spin length).
        staggered_magnetization: <|m_s|>, m_s = (1/N) sum_i eps_i S_i (eps = +-1 on the two
            sides of a bipartite lattice; 0 otherwise).
        sublattice_magnetization [nT, n_sub]: <m_a . u>, u the direction of sublattice 0's
            magnetization in each sample (so sublattice 0 is >= 0 and antiparallel sublattices
            come out negative); m_a the mean spin of sublattice a.
        energy: <E>/N, joules per site.
        susceptibility: N beta (<m^2> - <|m|>^2), 1/J per site (multiply by mu^2 [J/T]^2 for
            J/T^2); the order-parameter susceptibility whose finite-size peak marks Tc.
        uniform_susceptibility: N beta (<m^2> - |<m>|^2), 1/J per site: the response dm/dh.
        staggered_susceptibility: N beta (<m_s^2> - <|m_s|>^2), 1/J per site.
        specific_heat: (<E^2> - <E>^2) / (N k_B T^2), J/K per site.
        binder: U4 = 1 - <m^4> / (3 <m^2>^2).
        tau_m, tau_e: integrated autocorrelation times of |m| and E in sweeps (blocking
            estimate tau = B var(block means) / (2 var)).
        spins: final configurations [n_chains, nT, N, n].
    """

    temperatures: jnp.ndarray
    magnetization: jnp.ndarray
    magnetization_err: jnp.ndarray
    staggered_magnetization: jnp.ndarray
    staggered_magnetization_err: jnp.ndarray
    sublattice_magnetization: jnp.ndarray
    sublattice_magnetization_err: jnp.ndarray
    energy: jnp.ndarray
    energy_err: jnp.ndarray
    susceptibility: jnp.ndarray
    susceptibility_err: jnp.ndarray
    uniform_susceptibility: jnp.ndarray
    uniform_susceptibility_err: jnp.ndarray
    staggered_susceptibility: jnp.ndarray
    staggered_susceptibility_err: jnp.ndarray
    specific_heat: jnp.ndarray
    specific_heat_err: jnp.ndarray
    binder: jnp.ndarray
    binder_err: jnp.ndarray
    tau_m: jnp.ndarray
    tau_e: jnp.ndarray
    spins: jnp.ndarray


def _primaries(m, ms, msub, e):
    """Per-sample primary quantities [..., k] for one temperature."""
    a2 = jnp.sum(m * m, axis=-1)
    a = jnp.sqrt(a2)
    s2 = jnp.sum(ms * ms, axis=-1)
    ref = msub[..., 0, :]
    rn = jnp.sqrt(jnp.sum(ref * ref, axis=-1, keepdims=True))
    u = ref / jnp.where(rn > 0, rn, 1.0)
    proj = jnp.sum(msub * u[..., None, :], axis=-1)               # [..., n_sub]
    cols = [a, a2, a2 * a2, jnp.sqrt(s2), s2, e, e * e]
    return jnp.concatenate([jnp.stack(cols, -1), m, proj], axis=-1)


def _derived(mean, N, T, n, n_sub):
    a, a2, a4, s, s2, e, e2 = (mean[i] for i in range(7))
    mvec = mean[7:7 + n]
    proj = mean[7 + n:7 + n + n_sub]
    return dict(
        magnetization=a, staggered_magnetization=s, energy=e * K_B,
        susceptibility=N * (a2 - a * a) / (T * K_B),
        uniform_susceptibility=N * (a2 - jnp.sum(mvec * mvec)) / (T * K_B),
        staggered_susceptibility=N * (s2 - s * s) / (T * K_B),
        specific_heat=N * (e2 - e * e) / (T * T) * K_B,
        binder=1.0 - a4 / (3.0 * a2 * a2),
        sublattice_magnetization=proj)


def _analyse(series, N, T, n, n_sub, n_blocks):
    """series [C, S, k] for one temperature -> derived values, jackknife errors, tau."""
    C, S, k = series.shape
    bs = S // n_blocks
    blocks = series[:, :bs * n_blocks].reshape(C, n_blocks, bs, k).mean(axis=2)
    blocks = blocks.reshape(C * n_blocks, k)
    B = blocks.shape[0]
    total = jnp.mean(blocks, axis=0)
    loo = (total[None, :] * B - blocks) / (B - 1)
    full = _derived(total, N, T, n, n_sub)
    jk = jax.vmap(lambda mu: _derived(mu, N, T, n, n_sub))(loo)
    errs = {key: jnp.sqrt((B - 1) * jnp.mean((v - jnp.mean(v, axis=0)) ** 2, axis=0))
            for key, v in jk.items()}
    var = jnp.var(series[:, :bs * n_blocks].reshape(-1, k), axis=0)
    varb = jnp.var(blocks, axis=0)
    tau = bs * varb / (2.0 * jnp.where(var > 0, var, 1.0))
    return full, errs, tau[0], tau[5]


@functools.partial(jax.jit, static_argnames=("n_equil", "n_sweeps", "method", "pt",
                                              "n_overrelax", "n_clusters", "n_blocks"))
def _run(p, key, temps, spins0, n_equil, n_sweeps, method, pt, n_overrelax, n_clusters,
         n_blocks):
    betas = 1.0 / temps
    nT = temps.shape[0]

    def one_T(key, spins, beta):
        keys = jax.random.split(key, 2 + n_clusters)
        spins = metropolis_sweep(p, keys[0], spins, beta)
        for _ in range(n_overrelax):
            spins = _overrelax_sweep(p, keys[1], spins, beta)
        if method == "wolff":
            for c in range(n_clusters):
                spins = wolff_update(p, keys[2 + c], spins, beta)
        return spins

    def sweep(carry, _):
        spins, key, t = carry
        key, k1, k2 = jax.random.split(key, 3)
        spins = jax.vmap(one_T)(jax.random.split(k1, nT), spins, betas)
        obs = jax.vmap(lambda s: _measure(p, s))(spins)
        if pt and nT > 1:
            e = obs[3] * spins.shape[1]
            start = t % 2
            i = jnp.arange(nT)
            partner = jnp.where((i - start) % 2 == 0, i + 1, i - 1)
            valid = (partner >= 0) & (partner < nT)
            partner_c = jnp.clip(partner, 0, nT - 1)
            lower = jnp.minimum(i, partner_c)
            u = jax.random.uniform(k2, (nT,), temps.dtype)[lower]
            dlog = (betas - betas[partner_c]) * (e - e[partner_c])
            acc = valid & (u < jnp.exp(jnp.minimum(dlog, 0.0)))
            perm = jnp.where(acc, partner_c, i)
            spins = spins[perm]
            obs = jax.tree_util.tree_map(lambda x: x[perm], obs)
        return (spins, key, t + 1), obs

    def chain(key, spins):
        k1, k2 = jax.random.split(key)
        (spins, _, t), _ = jax.lax.scan(sweep, (spins, k1, 0), None, length=n_equil)
        (spins, _, _), obs = jax.lax.scan(sweep, (spins, k2, t), None, length=n_sweeps)
        return spins, obs

    C = spins0.shape[0]
    spins, obs = jax.vmap(chain)(jax.random.split(key, C), spins0)
    prim = _primaries(*obs)                                     # [C, S, nT, k]
    prim = jnp.moveaxis(prim, 2, 0)                             # [nT, C, S, k]
    N, n = spins0.shape[2], spins0.shape[3]
    n_sub = p.sub_onehot.shape[0]
    full, errs, tau_m, tau_e = jax.vmap(
        lambda s, T: _analyse(s, N, T, n, n_sub, n_blocks))(prim, temps)
    return full, errs, tau_m, tau_e, spins


def _initial(model: SpinModel, key, init, n_chains, nT, dtype):
    N, n = model.lattice.n_sites, model.n_components
    if isinstance(init, str):
        _checks.check_option("init", init, ("random", "ferro", "neel"))
        if init == "random":
            return _random_unit(key, (n_chains, nT, N), n, dtype)
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
    return jnp.broadcast_to(s, (n_chains, nT, N, n))


def simulate(model: SpinModel, key, temperatures, n_sweeps: int, n_equil: int,
             method: str = "metropolis", parallel_tempering: bool = False,
             n_chains: int = 1, n_overrelax: int = 0, n_clusters: int = 1,
             n_blocks: int = 16, init="random") -> Observables:
    r"""Monte Carlo of a spin model at several temperatures; thermal averages with errors.

    Runs ``n_chains`` independent chains at every temperature (vmapped), each ``n_equil``
    sweeps to equilibrate and ``n_sweeps`` measured sweeps; the energy convention is the
    model's, :math:`H = -\sum_b J_b S_i\cdot S_j - \sum_i h\cdot S_i - D\sum_i(S_i\cdot\hat
    n)^2`, and the Boltzmann weight :math:`e^{-H/k_BT}`.

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
        n_chains: independent chains per temperature.
        n_overrelax: over-relaxation passes per sweep (XY / Heisenberg).
        n_clusters: Wolff flips per sweep (method "wolff").
        n_blocks: blocks per chain for the jackknife errors.
        init: "random", "ferro" (all along the first component), "neel" (bipartite lattices)
            or an array [N, n] (broadcast to every chain and temperature).
    Returns:
        :class:`Observables`.
    """
    if not isinstance(model, SpinModel):
        raise TypeError(f"model must be a SpinModel (Ising, XY, Heisenberg), got "
                        f"{type(model).__name__}")
    _checks.check_option("method", method, ("metropolis", "wolff"))
    for name, v, lo in (("n_sweeps", n_sweeps, 1), ("n_equil", n_equil, 0),
                        ("n_chains", n_chains, 1), ("n_overrelax", n_overrelax, 0),
                        ("n_clusters", n_clusters, 1), ("n_blocks", n_blocks, 2)):
        if int(v) != v or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    if n_sweeps < n_blocks:
        raise ValueError(f"n_sweeps ({n_sweeps}) must be >= n_blocks ({n_blocks})")
    if n_overrelax and model.n_components == 1:
        raise ValueError("over-relaxation needs XY or Heisenberg spins")
    dtype = jnp.result_type(float)
    temps = jnp.atleast_1d(jnp.asarray(temperatures, dtype=dtype))
    _checks.check_ndim("temperatures", temps, 1)
    temps = _checks.positive(temps, "temperatures")
    p = _params(model, dtype)
    p = eqx.tree_at(lambda q: q.Jn, p, _checks.finite(p.Jn, "J"))
    ki, kr = jax.random.split(key)
    spins0 = _initial(model, ki, init, int(n_chains), temps.shape[0], dtype)
    full, errs, tau_m, tau_e, spins = _run(
        p, kr, temps, spins0, int(n_equil), int(n_sweeps), method, bool(parallel_tempering),
        int(n_overrelax), int(n_clusters), int(n_blocks))
    kw = {}
    for k, v in full.items():
        kw[k] = v
        kw[k + "_err"] = errs[k]
    return Observables(temperatures=temps, tau_m=tau_m, tau_e=tau_e, spins=spins, **kw)


def binder_crossing(temperatures, binder_a, binder_b):
    """Temperature where two Binder-cumulant curves U4(T) (two sizes) cross.

    Linear interpolation of U_a - U_b between the first pair of neighbouring grid points
    where the difference changes sign.

    Args:
        temperatures: [nT] K, increasing.
        binder_a, binder_b: [nT] U4 of two lattice sizes.
    Returns:
        the crossing temperature, K (NaN if the curves do not cross on the grid).
    """
    T = jnp.asarray(temperatures)
    d = jnp.asarray(binder_a) - jnp.asarray(binder_b)
    change = jnp.sign(d[:-1]) * jnp.sign(d[1:]) <= 0
    i = jnp.argmax(change)
    denom = d[i] - d[i + 1]
    frac = d[i] / jnp.where(denom != 0, denom, 1.0)
    Tc = T[i] + frac * (T[i + 1] - T[i])
    return jnp.where(jnp.any(change), Tc, jnp.nan)
