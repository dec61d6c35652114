r"""Fast Metropolis for the 2-D Ising model on the square lattice (the hardware-limit kernel).

Hamiltonian (each bond once, J > 0 ferromagnetic, spins :math:`s_i = \pm 1`):

.. math:: H = -J \sum_{\langle ij\rangle} s_i s_j - h \sum_i s_i .

Flipping :math:`s_i` costs :math:`\Delta E = 2 s_i (J \sum_{j \in nn(i)} s_j + h)`, one of ten
values, so the Metropolis acceptance :math:`\min(1, e^{-\Delta E / k_B T})` is a table of ten
numbers computed once per call. The general kernels of :mod:`netmag_jax.lattice` (any
lattice, any spin dimension) draw a float uniform per site from threefry; this one is
specialised for speed, and stays exact:

* **Packed checkerboard.** The lattice is stored as its two colours, each ``[L, L/2]`` of
  ``int8``; a colour is updated from the other in one fused elementwise pass (no masked,
  wasted half of the work; 1 byte per spin of memory traffic).
* **Counter-based random numbers.** The uniform of site ``n`` in colour pass ``t`` is a keyed
  integer hash, ``u = fmix32(n * 0x9E3779B9 + k_t)`` (a Weyl sequence through MurmurHash3's
  finaliser, a bijection of 32-bit words, as in SplitMix), with the 32-bit key ``k_t`` of
  each pass drawn from the caller's JAX key. No random state is stored or advanced; a site's
  number depends only on (key, pass, site).
* **Integer acceptance.** A flip is accepted when ``dE <= 0`` or ``u < floor(p 2^32)`` with
  ``p = exp(-dE / k_B T)`` (a table of ten classes, read by a chain of selects, or two
  selects when h = 0): the acceptance probability is exact to 2^-32 (the table is
  computed in float64 where x64 is enabled, else to float32 rounding, ~1e-7 relative).

The statistics are tested against exact enumeration of the 4 x 4 lattice, Onsager's
spontaneous magnetisation, and a chi-square test of the acceptance frequencies against the
exact probabilities (``tests/lattice/test_checkerboard.py``).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_real, finite, is_concrete, positive, require
from ..constants import K_B

_M1 = np.uint32(0x85EBCA6B)
_M2 = np.uint32(0xC2B2AE35)
_GOLDEN = np.uint32(0x9E3779B9)
_TWO32 = 4294967296.0


def _fmix32(x):
    """MurmurHash3's 32-bit finaliser: a bijection with full avalanche (uint32 -> uint32)."""
    x = x ^ (x >> 16)
    x = x * _M1
    x = x ^ (x >> 13)
    x = x * _M2
    return x ^ (x >> 16)


def site_uniform_bits(site, k):
    """Uniform 32-bit words for the sites ``site`` (uint32) under the pass key ``k``.

    ``fmix32(site * 0x9E3779B9 + k)``: a Weyl sequence through MurmurHash3's finaliser (the
    32-bit analogue of SplitMix); one hash per site and colour pass.
    """
    return _fmix32(site * _GOLDEN + k)


def split_colours(spins):
    """``[L, L]`` spins -> (colour 0, colour 1), each ``[L, L/2]``; colour c holds the sites
    with (i + j) % 2 == c, column j = 2 k + (i + c) % 2."""
    L = spins.shape[0]
    i = jnp.arange(L)[:, None]
    k = jnp.arange(L // 2)[None, :]
    return tuple(
        jnp.take_along_axis(spins, jnp.broadcast_to(2 * k + (i + c) % 2, (L, L // 2)), axis=1)
        for c in (0, 1)
    )


def merge_colours(c0, c1):
    """Inverse of :func:`split_colours`: two ``[L, L/2]`` colours -> ``[L, L]`` spins."""
    L = c0.shape[0]
    pair = jnp.stack([c0, c1], axis=-1)  # [L, L/2, 2]: (colour 0, colour 1) of each column pair
    odd = (jnp.arange(L) % 2 == 1)[:, None, None]
    return jnp.where(odd, pair[..., ::-1], pair).reshape(L, L)


_ALWAYS = np.uint32(0xFFFFFFFF)


def _thresholds(beta_J, beta_h):
    """Acceptance table [10]: index 5 (s + 1) / 2 + (s * sum_nn + 4) / 2 -> floor(p 2^32).

    p = exp(-dE / k_B T) with dE = 2 (J s sum_nn + h s); classes with dE <= 0 hold 2^32 - 1,
    which the kernel reads as "always accept".
    """
    dtype = jnp.result_type(beta_J)
    s = jnp.asarray([-1.0, 1.0], dtype)[:, None]
    x = jnp.arange(-4.0, 5.0, 2.0, dtype=dtype)[None, :]  # s * (sum of the four neighbours)
    dE = 2.0 * (beta_J * x + beta_h * s)  # in units of k_B T
    p = jnp.exp(-jnp.maximum(dE, 0.0))
    thr = jnp.minimum(jnp.floor(p * _TWO32), _TWO32 - 1.0).astype(jnp.uint32)
    return jnp.where(dE <= 0.0, _ALWAYS, thr).reshape(-1)


def _table_lookup(thr, a, x):
    """thr[5 (a + 1) / 2 + (x + 4) / 2] elementwise, as a chain of selects (vectorises on
    the CPU, where a gather from a 10-entry table does not)."""
    key = 2 * x + a  # odd, -9..9: one value per (s, s * sum_nn) class
    t = thr[9]
    for i, (s, xv) in enumerate((s, xv) for s in (-1, 1) for xv in range(-4, 5, 2)):
        if i < 9:
            t = jnp.where(key == 2 * xv + s, thr[i], t)
    return t


def _colour_pass(a, o, parity, thr, site, k, zero_field: bool):
    """Metropolis update of colour ``a`` [L, L/2] given the other colour ``o``.

    Neighbours of a[i, k]: o[i -/+ 1, k], o[i, k] and o[i, k - 1] (rows with parity 0) or
    o[i, k + 1] (parity 1), periodic. With h = 0 (``zero_field``) only dE = 4 J and 8 J need a
    random number, and the table lookup is two selects.
    """
    side = jnp.where(parity, jnp.roll(o, -1, axis=1), jnp.roll(o, 1, axis=1))
    nn = jnp.roll(o, 1, axis=0) + jnp.roll(o, -1, axis=0) + o + side  # int8 in [-4, 4]
    x = a * nn
    u = site_uniform_bits(site, k)
    if zero_field:
        flip = (x <= 0) | (u < jnp.where(x == 2, thr[8], thr[9]))
    else:
        t = _table_lookup(thr, a, x)
        flip = (u < t) | (t == _ALWAYS)
    return jnp.where(flip, -a, a)


@functools.partial(jax.jit, static_argnums=(3, 5))
def _sweeps(c0, c1, beta_J_h, n_sweeps: int, key, zero_field: bool = False):
    L = c0.shape[0]
    site = jnp.arange(L * (L // 2), dtype=jnp.uint32).reshape(L, L // 2)
    parity = (jnp.arange(L) % 2 == 1)[:, None]  # colour 0: (i + 0) % 2; colour 1: (i + 1) % 2
    thr = _thresholds(beta_J_h[0], beta_J_h[1])
    keys = jax.random.bits(key, (n_sweeps, 2), jnp.uint32)

    def body(t, cs):
        c0, c1 = cs
        c0 = _colour_pass(c0, c1, parity, thr, site, keys[t, 0], zero_field)
        c1 = _colour_pass(c1, c0, ~parity, thr, site, keys[t, 1], zero_field)
        return c0, c1

    return jax.lax.fori_loop(0, n_sweeps, body, (c0, c1))


def _check_lattice(spins) -> None:
    if spins.ndim != 2 or spins.shape[0] != spins.shape[1]:
        raise ValueError(f"spins must be a square [L, L] array, got shape {spins.shape}")
    L = spins.shape[0]
    if L < 4 or L % 2:
        raise ValueError(f"L must be even and >= 4 (checkerboard, periodic), got {L}")
    if L * L // 2 > 2**32:
        raise ValueError(f"L = {L} is too large for 32-bit site counters")


def ising_square_metropolis(spins, temperature, n_sweeps: int, key, J=None, h=0.0):
    r"""``n_sweeps`` checkerboard Metropolis sweeps of the square-lattice Ising model.

    :math:`H = -J\sum_{\langle ij\rangle} s_i s_j - h\sum_i s_i`, periodic boundaries; one
    sweep updates colour 0 then colour 1 of the checkerboard (every site once).

    Args:
        spins: ``[L, L]`` array of +-1 (any integer or float dtype; computed as ``int8``),
            L even and >= 4.
        temperature: k_B T in kelvin (> 0, scalar).
        n_sweeps: number of sweeps (static: a new value compiles once).
        key: ``jax.random`` key; the same key gives the same result on every backend.
        J: exchange in joules (default k_B x 1 K, so that T is in units of J / k_B); finite.
        h: Zeeman energy per spin (mu B) in joules; finite (all values checked, also under
            jit: spins exactly +-1, temperature > 0).

    Returns:
        the ``[L, L]`` ``int8`` spins after the sweeps.
    """
    check_real("spins", spins)
    check_real("temperature", temperature)
    spins = jnp.asarray(spins)
    _check_lattice(spins)
    # every spin exactly +-1 (a NaN or 0 would be cast to int8 silently)
    spins = require(spins, jnp.abs(spins) == 1, "spins must all be +1 or -1")
    if int(n_sweeps) < 0:
        raise ValueError(f"n_sweeps must be >= 0, got {n_sweeps}")
    if is_concrete(temperature) and not np.all(np.asarray(temperature) > 0):
        raise ValueError(f"temperature must be finite and > 0 K, got {temperature}")
    dtype = jnp.result_type(float)  # float64 where x64 is on: the table exact to 2^-32
    T = positive(jnp.asarray(temperature, dtype), "temperature")
    J = finite(K_B if J is None else J, "J").astype(dtype)
    h = finite(h, "h").astype(dtype)
    beta = 1.0 / (K_B * T)
    beta_J_h = jnp.stack([J * beta, h * beta])
    zero_field = is_concrete(h) and not np.any(np.asarray(h))
    c0, c1 = split_colours(spins.astype(jnp.int8))
    c0, c1 = _sweeps(c0, c1, beta_J_h, int(n_sweeps), key, zero_field)
    return merge_colours(c0, c1)


def ising_square_observables(spins):
    """Magnetisation per site m = <s> and bond energy per site e = -<s_i (s_right + s_down)>
    (in units of J) of ``[L, L]`` spins, as float32 scalars."""
    s = jnp.asarray(spins).astype(jnp.float32)
    m = jnp.mean(s)
    e = -jnp.mean(s * (jnp.roll(s, 1, axis=0) + jnp.roll(s, 1, axis=1)))
    return m, e
