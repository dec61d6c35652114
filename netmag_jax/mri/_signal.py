r"""Receive side: coil sensitivities, the induced EMF (Faraday + reciprocity), thermal noise.

Reciprocity (Hoult & Richards, JMR 24, 71 (1976)): a coil whose current I would produce the
field ``B1(r) = I b(r)`` sees the flux ``Phi = int b(r) . M(r, t) dV`` from a magnetization M,
so by Faraday's law ``emf = -dPhi/dt``. In the lab frame the transverse magnetization turns
as ``Mxy(t) e^{-i omega0 t}`` (left-handed, ``omega0 = gamma B0``); with ``b`` transverse and
``omega0`` >> 1/T2 the emf is ``Re[E(t) e^{-i omega0 t}]`` with the complex envelope

.. math:: E(t) = i\,\omega_0 \sum_j \bar b_j\,M_{xy,j}(t)\,V_j,\qquad
          \bar b = b_x - i b_y \ \ (\text{the receive field } B_1^-\text{ per ampere}),

i.e. amplitude ``omega0 * b_perp * M_perp * V`` for a uniform coil.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from .._checks import (
    check_count,
    check_shape,
    check_static_positive,
    check_real,
    finite,
    finite_result,
    is_unit,
    nonnegative,
    positive,
    require,
)
from .._dtypes import complex_dtype
from .._numerics import cis, safe_norm
from ..constants import GAMMA_1H, K_B, MU_0


def induced_emf(signal, B0, b1_per_ampere=1.0, volume=1.0):
    r"""Complex EMF envelope [V] in a receive coil: ``E = i omega0 b1 V s`` (module docstring).

    Args:
        signal: complex demodulated ``sum_j C_j Mxy_j`` [A/m] (from :func:`simulate` with M0
            in A/m and coil sensitivities C = B1^-/I relative to ``b1_per_ampere``), any shape.
        B0: static field [T] (sets omega0 = gamma B0).
        b1_per_ampere: receive field per unit current [T/A] (e.g. mu0 / (2 a) at the centre
            of a loop of radius a).
        volume: volume per isochromat [m^3] (the sum over isochromats approximates the integral).
    Returns:
        complex EMF envelope [V]; the lab-frame voltage is ``Re[E e^{-i omega0 t}]``.
    """
    signal = finite(signal, "signal", complex_ok=True)
    B0, volume = positive(B0, "B0"), positive(volume, "volume")
    b1_per_ampere = finite(b1_per_ampere, "b1_per_ampere")
    gain = (GAMMA_1H * B0 * b1_per_ampere * volume).astype(complex_dtype(B0.dtype))
    signal = signal.astype(gain.dtype)  # a real signal is a valid (real) envelope
    emf = jax.lax.complex(jnp.zeros((), B0.dtype), jnp.ones((), B0.dtype)) * gain * signal
    return finite(
        emf, "induced_emf result (overflow: signal, B0, b1_per_ampere or volume)", complex_ok=True
    )


def loop_coil_b1(positions, center, radius, normal=(0.0, 0.0, 1.0)):
    r"""Field per ampere [T/A] of a thin circular loop on its axis, off-axis by the dipole-free
    on-axis formula ``b = mu0 a^2 / (2 (a^2 + d^2)^{3/2})`` with d the distance to the centre.

    A simple, smooth receive-sensitivity model for multi-coil arrays (the magnitude only;
    use :func:`coil_sensitivities` for complex maps). Shape [N].

    Args:
        positions: [N, 3] m (finite). center: (3,) loop centre [m]. radius: a [m] (> 0).
        normal: (3,) unit vector of the loop axis (checked; the distance-only model does not
            depend on it).
    """
    check_shape("positions", positions, (None, 3))
    check_shape("center", center, (3,))
    check_shape("normal", normal, (3,))
    p = finite(positions, "positions")
    c = finite(center, "center").astype(p.dtype)
    radius = positive(radius, "radius").astype(p.dtype)
    check_real("normal", normal)
    d = safe_norm(p - jnp.broadcast_to(c, p.shape), axis=-1)
    # mu0 a^2 / (2 (a^2 + d^2)^1.5) written without a^2 (no overflow for any finite a > 0)
    b = MU_0 / (2.0 * radius) * (1.0 + (d / radius) ** 2) ** -1.5
    return require(b, is_unit(jnp.asarray(normal, p.dtype)), "normal must be a unit vector")


def coil_sensitivities(positions, n_coils: int, radius, coil_radius=None):
    r"""Complex sensitivities of ``n_coils`` loops equally spaced on a circle of ``radius`` [m]
    around the z axis, each facing the centre: ``C_c(r) = |b_c(r)| / |b_c(0)| e^{i phi_c(r)}``
    with phase ``phi_c`` = the azimuth of r seen from the coil (a birdcage-like phase winding).

    Args:
        positions: [N, 3] m. n_coils: number of coils. radius: array radius [m].
        coil_radius: loop radius [m] (default radius/2).
    Returns:
        [n_coils, N] complex, normalised to 1 at the array centre.
    """
    n_coils = check_count("n_coils", n_coils)
    check_static_positive("radius", radius)
    a = radius / 2 if coil_radius is None else positive(coil_radius, "coil_radius")
    p = jnp.asarray(positions)
    ang = 2 * jnp.pi * jnp.arange(n_coils, dtype=p.dtype) / n_coils
    centers = jnp.stack(
        [radius * jnp.cos(ang), radius * jnp.sin(ang), jnp.zeros_like(ang)], axis=-1
    ).astype(p.dtype)

    def one(c):
        mag = loop_coil_b1(p, c, a) / loop_coil_b1(jnp.zeros((1, 3), p.dtype), c, a)[0]
        rel = p[:, :2] - c[None, :2]
        phase = jnp.arctan2(rel[:, 1], rel[:, 0])
        return mag.astype(complex_dtype(mag.dtype)) * cis(phase)

    return jax.vmap(one)(centers)


def thermal_noise_std(resistance, temperature, bandwidth):
    r"""Johnson-Nyquist noise of a coil: ``sigma_V = sqrt(4 k_B T R df)`` [V rms] (real voltage).

    Args:
        resistance: R [ohm]. temperature: T [K]. bandwidth: receiver bandwidth df [Hz]
            (1/dwell).
    """
    resistance, bandwidth = positive(resistance, "resistance"), positive(bandwidth, "bandwidth")
    temperature = nonnegative(temperature, "temperature")
    # a product of square roots: no intermediate underflow (R = 1e-300) or overflow
    sigma = math.sqrt(4.0 * K_B) * jnp.sqrt(temperature) * jnp.sqrt(resistance)
    sigma = sigma * jnp.sqrt(bandwidth)
    return finite_result(sigma, "thermal_noise_std", ("resistance", "temperature", "bandwidth"))


def add_noise(key, signal, snr=None, sigma=None):
    r"""Add complex white Gaussian noise: ``s + sigma (n1 + i n2)``, n1, n2 ~ N(0, 1).

    Exactly one of ``snr`` (then ``sigma = max|s| / snr``) or ``sigma`` (same unit as s) is
    given. Deterministic for a given ``key``.

    Args:
        key: jax.random key. signal: complex array, any shape.
        snr: peak signal / sigma per real channel. sigma: noise std per real channel.
    """
    if (snr is None) == (sigma is None):
        raise ValueError("give exactly one of snr or sigma")
    s = jnp.asarray(signal)
    rdtype = jnp.real(s).dtype
    check_real("sigma", sigma)
    if sigma is None:
        snr = positive(jnp.asarray(snr, dtype=rdtype), "snr")
        sigma = jnp.max(jnp.abs(s)) / snr
    sigma = nonnegative(jnp.asarray(sigma, dtype=rdtype), "sigma")
    k1, k2 = jax.random.split(key)
    n = jax.lax.complex(
        jax.random.normal(k1, s.shape, rdtype), jax.random.normal(k2, s.shape, rdtype)
    )
    return s + sigma.astype(n.dtype) * n
