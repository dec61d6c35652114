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

__all__ = ["simulate", "evolve", "Observables", "binder_crossing", "metropolis_sweep"]


class _Params(eqx.Module):
    """Reduced (kelvin) couplings and the integer tables of one model."""

    Jn: jnp.ndarray  # [N, z] K
    nbr: jnp.ndarray  # [N, z] int
    bonds: jnp.ndarray  # [n_bonds, 2] int
    Jb: jnp.ndarray  # [n_bonds] K
    h: jnp.ndarray  # [n] K
    w: jnp.ndarray  # [N] site moments
    D: jnp.ndarray  # K
    axis: jnp.ndarray  # [n]
    colours: jnp.ndarray  # [n_colours, m] int, padded with N
    stagger: jnp.ndarray  # [N]
    sub_onehot: jnp.ndarray  # [n_sub, N] / counts
    Jdir: jnp.ndarray | None  # grid lattices: [n_offsets, *grid] K, bond cell -> cell + c_k
    masks: jnp.ndarray | None  # grid lattices: [n_colours, *grid] bool
    grid: tuple | None = eqx.field(static=True, default=None)
    #: grid lattices whose bonds all carry one J (known when the model is built): the field
    #: is then J times the sum of the rolled neighbours (fewer passes over memory)
    uniform_J: bool = eqx.field(static=True, default=False)
    offsets: tuple = eqx.field(static=True, default=())


def _params(model: SpinModel, dtype) -> _Params:
    lat = model.lattice
    sub = np.asarray(lat.sublattice)
    onehot = (sub[None, :] == np.arange(lat.n_sublattices)[:, None]).astype(np.float64)
    onehot = onehot / onehot.sum(axis=1, keepdims=True)
    c = lambda x: jnp.asarray(x, dtype=dtype)  # noqa: E731
    grid, Jdir, masks = lat.grid_shape, None, None
    if grid is not None:
        nk = len(lat.grid_offsets)
        Jdir = jnp.moveaxis(c(model.J / K_B).reshape(grid + (nk,)), -1, 0)
        N = lat.n_sites
        masks = np.zeros((lat.n_colours, N + 1), bool)
        masks[np.arange(lat.n_colours)[:, None], lat.colour_sites] = True
        masks = jnp.asarray(masks[:, :N].reshape((lat.n_colours,) + grid))
    uniform = False
    if grid is not None:
        try:
            Jc = np.asarray(model.J)
            uniform = bool(Jc.size > 0 and np.all(Jc == Jc.flat[0]))
        except Exception:  # traced couplings: keep the general per-bond kernel
            uniform = False
    return _Params(
        grid=grid,
        offsets=lat.grid_offsets,
        Jdir=Jdir,
        masks=masks,
        uniform_J=uniform,
        Jn=c(model.neighbor_couplings() / K_B),
        nbr=jnp.asarray(lat.neighbors),
        bonds=jnp.asarray(lat.bonds),
        Jb=c(model.J / K_B),
        h=c(model.h / K_B),
        w=c(model.moments),
        D=c(model.D / K_B),
        axis=c(model.axis),
        colours=jnp.asarray(lat.colour_sites),
        stagger=c(lat.stagger),
        sub_onehot=c(onehot),
    )


def _unit_from_uniform(u, n):
    """Uniformly distributed unit n-vectors (n = 1, 2, 3) from uniforms u [..., n_u(n)]."""
    if n == 1:
        return jnp.where(u[..., :1] < 0.5, 1.0, -1.0).astype(u.dtype)
    phi = 2.0 * jnp.pi * u[..., 0]
    if n == 2:
        return jnp.stack([jnp.cos(phi), jnp.sin(phi)], axis=-1)
    z = 2.0 * u[..., 1] - 1.0
    rho = jnp.sqrt(jnp.maximum(1.0 - z * z, 0.0))
    return jnp.stack([rho * jnp.cos(phi), rho * jnp.sin(phi), z], axis=-1)


def _n_uniform(n):
    """Uniforms per site per colour pass: one for acceptance plus the proposal's."""
    return {1: 1, 2: 2, 3: 3}[n]


def _random_unit(key, shape, n, dtype):
    return _unit_from_uniform(jax.random.uniform(key, shape + (max(n - 1, 1),), dtype), n)


def _local_field(p: _Params, spins, idx):
    """Exchange + Zeeman field (K) on sites ``idx``: sum_k J_ik S_k + h, shape [m, n]."""
    return jnp.einsum("mz,mzn->mn", p.Jn[idx], spins[p.nbr[idx]]) + p.w[idx][:, None] * p.h


def _shift(x, c, d):
    """x[i + c] on a periodic grid (the first d axes of x)."""
    return jnp.roll(x, tuple(-v for v in c), axis=tuple(range(d)))


def _grid_field(p: _Params, s):
    """Exchange + Zeeman field (K) on every site of a grid lattice, s [*grid, n]."""
    d = len(p.grid)
    f = p.w.reshape(p.grid)[..., None] * p.h
    if p.uniform_J:
        nb = sum(_shift(s, c, d) + _shift(s, tuple(-v for v in c), d) for c in p.offsets)
        return f + p.Jdir.reshape(-1)[0] * nb
    for k, c in enumerate(p.offsets):
        Jk = p.Jdir[k][..., None]
        f = f + Jk * _shift(s, c, d) + _shift(Jk * s, tuple(-v for v in c), d)
    return f


def _dot(x, v):
    """x . v over the last axis, written elementwise so that XLA fuses it (no dot call)."""
    return jnp.sum(x * v, axis=-1)


def _single_site_energy_change(p: _Params, field, old, new):
    if old.shape[-1] == 1:  # Ising: (S.n)^2 = 1, no anisotropy energy change
        return -jnp.sum((new - old) * field, axis=-1)
    ani = p.D * (_dot(new, p.axis) ** 2 - _dot(old, p.axis) ** 2)
    return -jnp.sum((new - old) * field, axis=-1) - ani


def _proposal(field, old, u, n, overrelax):
    if overrelax:  # reflection about the local field (field-free sites stay put)
        f2 = jnp.sum(field * field, axis=-1, keepdims=True)
        ok = f2 > 0
        proj = jnp.sum(old * field, axis=-1, keepdims=True) / jnp.where(ok, f2, 1.0)
        return jnp.where(ok, 2.0 * proj * field - old, old)
    return -old if n == 1 else _unit_from_uniform(u[..., 1:], n)


def _uniform_shape(p: _Params, N, n):
    m = N if p.grid is not None else p.colours.shape[1]
    return (p.colours.shape[0], m, _n_uniform(n))


def _sweep(p: _Params, u, spins, beta, overrelax: bool = False):
    """One colour-by-colour pass over ``spins`` [N, n] with uniforms ``u`` [n_colours, M, n_u].

    Sites of one colour are all proposed at once (a flip for Ising, a uniformly random new
    direction for XY/Heisenberg, or the over-relaxation reflection) and accepted with
    min(1, exp(-beta dE)). Grid lattices use rolls on the whole grid with a colour mask;
    others gather the sites of each colour.
    """
    N, n = spins.shape
    if p.grid is not None:

        def colour_step(s, inp):
            uc, mask = inp
            uc = uc.reshape(p.grid + (uc.shape[-1],))
            field = _grid_field(p, s)
            new = _proposal(field, s, uc, n, overrelax)
            dE = _single_site_energy_change(p, field, s, new)
            acc = mask & (uc[..., 0] < jnp.exp(-beta * jnp.maximum(dE, 0.0)))
            return jnp.where(acc[..., None], new, s), None

        s, _ = jax.lax.scan(colour_step, spins.reshape(p.grid + (n,)), (u, p.masks))
        return s.reshape(N, n)

    def colour_step(spins, inp):
        uc, idx = inp
        idx_r = jnp.minimum(idx, N - 1)
        old = spins[idx_r]
        field = _local_field(p, spins, idx_r)
        new = _proposal(field, old, uc, n, overrelax)
        dE = _single_site_energy_change(p, field, old, new)
        acc = uc[..., 0] < jnp.exp(-beta * jnp.maximum(dE, 0.0))
        return spins.at[idx].set(jnp.where(acc[:, None], new, old), mode="drop"), None

    spins, _ = jax.lax.scan(colour_step, spins, (u, p.colours))
    return spins


def metropolis_sweep(p: _Params, key, spins, beta):
    """One checkerboard Metropolis sweep of ``spins`` [N, n] at inverse temperature beta [1/K]
    (see :func:`_sweep`)."""
    N, n = spins.shape
    return _sweep(p, jax.random.uniform(key, _uniform_shape(p, N, n), spins.dtype), spins, beta)


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
    proj = _dot(spins, r)  # [N]
    seed = jax.random.randint(ks, (), 0, N)
    w = p.Jn * proj[:, None] * proj[p.nbr]  # [N, z]
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
    dE = jnp.sum(
        jnp.where(
            cluster,
            -p.w * _dot(new - spins, p.h)
            - p.D * (_dot(new, p.axis) ** 2 - _dot(spins, p.axis) ** 2),
            0.0,
        )
    )
    acc = jax.random.uniform(ka, (), spins.dtype) < jnp.exp(-beta * jnp.maximum(dE, 0.0))
    return jnp.where((cluster & acc)[:, None], new, spins)


def _energy(p: _Params, spins):
    """Energy per site (K)."""
    if p.grid is not None:
        s = spins.reshape(p.grid + (spins.shape[1],))
        e = -sum(
            jnp.sum(p.Jdir[k][..., None] * s * _shift(s, c, len(p.grid)))
            for k, c in enumerate(p.offsets)
        )
    else:
        b = p.bonds
        e = -jnp.sum(p.Jb * jnp.sum(spins[b[:, 0]] * spins[b[:, 1]], axis=-1))
    e = e - jnp.sum(p.w * _dot(spins, p.h)) - p.D * jnp.sum(_dot(spins, p.axis) ** 2)
    return e / spins.shape[0]


def _measure(p: _Params, spins):
    ws = p.w[:, None] * spins
    m = jnp.mean(ws, axis=0)
    ms = jnp.mean(p.stagger[:, None] * ws, axis=0)
    msub = p.sub_onehot @ ws
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
    """Per-sample primary quantities [..., k] (NumPy float64)."""
    m, ms, msub, e = (np.asarray(x, dtype=np.float64) for x in (m, ms, msub, e))
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
    a, a2, a4, s, s2, e, e2 = (mean[..., i] for i in range(7))
    mvec = mean[..., 7 : 7 + n]
    with np.errstate(divide="ignore", invalid="ignore"):
        return dict(
            magnetization=a,
            staggered_magnetization=s,
            energy=e * K_B,
            susceptibility=N * (a2 - a * a) / (T * K_B),
            uniform_susceptibility=N * (a2 - np.sum(mvec * mvec, axis=-1)) / (T * K_B),
            staggered_susceptibility=N * (s2 - s * s) / (T * K_B),
            specific_heat=N * (e2 - e * e) / (T * T) * K_B,
            binder=1.0 - a4 / (3.0 * a2 * a2),
            sublattice_magnetization=mean[..., 7 + n :],
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
        key: np.sqrt((B - 1) * np.mean((v - v.mean(axis=0)) ** 2, axis=0)) for key, v in jk.items()
    }
    var = x.reshape(-1, nT, k).var(axis=0)
    varb = blocks.var(axis=0)
    tau = bs * varb / (2.0 * np.where(var > 0, var, 1.0))
    return full, errs, tau[:, 0], tau[:, 5]


@functools.partial(
    jax.jit, static_argnames=("n_equil", "n_sweeps", "method", "pt", "n_overrelax", "n_clusters")
)
def _run(p, key, temps, spins0, n_equil, n_sweeps, method, pt, n_overrelax, n_clusters):
    betas = 1.0 / temps
    nT = temps.shape[0]

    N, n = spins0.shape[2], spins0.shape[3]
    ushape = _uniform_shape(p, N, n)
    n_pass = 1 + n_overrelax

    def one_T(u, key, spins, beta):
        spins = _sweep(p, u[0], spins, beta)
        for i in range(n_overrelax):
            spins = _sweep(p, u[1 + i], spins, beta, overrelax=True)
        if method == "wolff":
            for key in jax.random.split(key, n_clusters):
                spins = wolff_update(p, key, spins, beta)
        return spins

    def sweep(carry, key):
        spins, t = carry
        k1, k2, k3 = jax.random.split(key, 3)
        u = jax.random.uniform(k1, (nT, n_pass) + ushape, temps.dtype)
        spins = jax.vmap(one_T)(u, jax.random.split(k3, nT), spins, betas)
        obs = jax.vmap(lambda s: _measure(p, s))(spins)
        if pt and nT > 1:
            e = obs[3] * spins.shape[1]
            i = jnp.arange(nT)
            partner = jnp.where((i - t % 2) % 2 == 0, i + 1, i - 1)
            valid = (partner >= 0) & (partner < nT)
            partner_c = jnp.clip(partner, 0, nT - 1)
            u = jax.random.uniform(k2, (nT,), temps.dtype)[jnp.minimum(i, partner_c)]
            dlog = (betas - betas[partner_c]) * (e - e[partner_c])
            acc = valid & (u < jnp.exp(jnp.minimum(dlog, 0.0)))
            perm = jnp.where(acc, partner_c, i)
            spins = spins[perm]
            obs = jax.tree_util.tree_map(lambda x: x[perm], obs)
        return (spins, t + 1), obs

    def chain(key, spins):
        keys = jax.random.split(key, n_equil + n_sweeps)
        (spins, _), obs = jax.lax.scan(sweep, (spins, 0), keys)
        return spins, jax.tree_util.tree_map(lambda x: x[n_equil:], obs)

    C = spins0.shape[0]
    return jax.vmap(chain)(jax.random.split(key, C), spins0)


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


def simulate(
    model: SpinModel,
    key,
    temperatures,
    n_sweeps: int,
    n_equil: int,
    method: str = "metropolis",
    parallel_tempering: bool = False,
    n_chains: int = 1,
    n_overrelax: int = 0,
    n_clusters: int = 1,
    n_blocks: int = 16,
    init="random",
) -> Observables:
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
        raise TypeError(
            f"model must be a SpinModel (Ising, XY, Heisenberg), got {type(model).__name__}"
        )
    _checks.check_option("method", method, ("metropolis", "wolff"))
    for name, v, lo in (
        ("n_sweeps", n_sweeps, 1),
        ("n_equil", n_equil, 0),
        ("n_chains", n_chains, 1),
        ("n_overrelax", n_overrelax, 0),
        ("n_clusters", n_clusters, 1),
        ("n_blocks", n_blocks, 2),
    ):
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
    spins, obs = _run(
        p,
        kr,
        temps,
        spins0,
        int(n_equil),
        int(n_sweeps),
        method,
        bool(parallel_tempering),
        int(n_overrelax),
        int(n_clusters),
    )
    full, errs, tau_m, tau_e = _analyse(
        _primaries(*obs),
        model.lattice.n_sites,
        np.asarray(temps, dtype=np.float64),
        model.n_components,
        int(n_blocks),
    )
    kw = {}
    for k, v in full.items():
        kw[k] = jnp.asarray(v, dtype=dtype)
        kw[k + "_err"] = jnp.asarray(errs[k], dtype=dtype)
    return Observables(
        temperatures=temps,
        tau_m=jnp.asarray(tau_m, dtype=dtype),
        tau_e=jnp.asarray(tau_e, dtype=dtype),
        spins=spins,
        **kw,
    )


@functools.partial(jax.jit, static_argnames=("n_sweeps", "n_overrelax"))
def _evolve(p, key, spins, beta, n_sweeps, n_overrelax):
    N, n = spins.shape
    shape = (1 + n_overrelax,) + _uniform_shape(p, N, n)

    def body(s, k):
        u = jax.random.uniform(k, shape, s.dtype)
        s = _sweep(p, u[0], s, beta)
        for i in range(n_overrelax):
            s = _sweep(p, u[1 + i], s, beta, overrelax=True)
        return s, None

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
    if not isinstance(model, SpinModel):
        raise TypeError("model must be a SpinModel")
    N, n = model.lattice.n_sites, model.n_components
    dtype = jnp.result_type(float)
    spins = jnp.asarray(spins, dtype)
    _checks.check_shape("spins", spins, (N, n))
    if int(n_sweeps) != n_sweeps or n_sweeps < 1:
        raise ValueError(f"n_sweeps must be an integer >= 1, got {n_sweeps!r}")
    T = _checks.positive(jnp.asarray(temperature, dtype), "temperature")
    return _evolve(_params(model, dtype), key, spins, 1.0 / T, int(n_sweeps), int(n_overrelax))


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
