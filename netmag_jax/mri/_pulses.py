r"""RF pulses as complex B1 waveforms [T] on a uniform raster (rotating frame).

Every pulse function returns ``rf`` [n] complex (B1x + i B1y in tesla), sampled at the centres
of n equal steps of ``duration / n``; use ``pulse_dt(duration, n)`` for the step length. The
on-resonance flip angle of a real-valued (constant-phase) pulse is the area
``alpha = gamma int B1 dt`` (``flip_angle``). The amplitude is a differentiable function of
the requested flip angle, so sequences built from them can be optimised.
"""

from __future__ import annotations

import jax.numpy as jnp

from .._checks import (
    angle,
    angle_ok,
    check_count,
    check_nonempty,
    check_option,
    check_static_positive,
    finite,
    finite_result,
    positive,
    require,
)
from .._dtypes import complex_dtype
from .._numerics import cis
from ..constants import GAMMA_1H, GAMMA_1H_HZ


def pulse_dt(duration, n: int):
    """Step length [s] of an n-sample pulse of total ``duration`` [s]."""
    return positive(duration, "duration") / check_count("n", n)


def _times(duration, n):
    """Sample centres t_k = (k + 1/2) duration/n - duration/2 [s], shape [n]."""
    n = check_count("n", n)
    check_static_positive("duration", duration)
    k = jnp.arange(n, dtype=jnp.result_type(float))
    return (k + 0.5) * (duration / n) - 0.5 * duration


def _scale_to_flip(shape, flip_angle, duration, phase):
    """Scale a real shape [n] so that gamma sum(B1) dt = flip_angle; apply the phase."""
    n = shape.shape[0]
    area = jnp.sum(shape) * (duration / n)
    amp = finite(flip_angle, "flip_angle").astype(area.dtype) / (GAMMA_1H * area)
    rf = amp * shape
    return rf.astype(complex_dtype(rf.dtype)) * cis(angle(phase, "phase").astype(rf.dtype))


def flip_angle(rf, dt):
    r"""On-resonance flip angle [rad] of a constant-phase pulse: ``gamma |sum_k B1_k dt_k|``.

    Args:
        rf: [n] complex B1 [T] (finite, non-empty). dt: [n] or scalar step length [s] (> 0).
    """
    check_nonempty("rf", rf)
    rf = finite(rf, "rf", complex_ok=True)
    rf = rf.astype(complex_dtype(rf.dtype))
    dt = positive(dt, "dt")
    return GAMMA_1H * jnp.abs(jnp.sum(rf * dt.astype(rf.dtype)))


def hard(flip_angle, duration, n: int = 1, phase=0.0):
    r"""Rectangular (hard) pulse: constant ``B1 = alpha / (gamma tau)`` for ``tau = duration``.

    Args:
        flip_angle: alpha [rad] (differentiable).
        duration: tau [s]. n: number of samples. phase: RF phase [rad] (0 = along +x),
            a resolvable angle (|phase| eps <= 1e-3 rad, ``_checks.angle``).
    Returns:
        rf [n] complex T.
    """
    t = _times(duration, n)
    return _scale_to_flip(jnp.ones_like(t), flip_angle, duration, phase)


def sinc(flip_angle, duration, time_bandwidth=4.0, n: int = 256, window="hamming", phase=0.0):
    r"""Windowed sinc pulse: ``B1(t) ~ sinc(TB t / tau) w(t)`` for ``|t| <= tau/2``.

    The excitation bandwidth is ``TB / tau`` [Hz]; in the small-tip regime the slice profile
    is the Fourier transform of B1(t) (a rectangle of that width, smoothed by the window).
    With a slice-select gradient G the slice thickness is ``TB / (tau gamma_bar G)``.

    Args:
        flip_angle: [rad]. duration: tau [s]. time_bandwidth: TB (any > 0; TB/2 zero
            crossings on each side). n: samples. window: "hamming", "hann" or "none".
        phase: [rad].
    Returns:
        rf [n] complex T.
    """
    check_option("window", window, ("hamming", "hann", "none"))
    check_static_positive("time_bandwidth", time_bandwidth)
    t = _times(duration, n)
    x = 2.0 * t / duration  # in [-1, 1]
    shape = jnp.sinc(0.5 * time_bandwidth * x)
    if window == "hamming":
        shape = shape * (0.54 + 0.46 * jnp.cos(jnp.pi * x))
    elif window == "hann":
        shape = shape * (0.5 + 0.5 * jnp.cos(jnp.pi * x))
    return _scale_to_flip(shape, flip_angle, duration, phase)


def gaussian(flip_angle, duration, n: int = 256, sigma=None, phase=0.0):
    r"""Gaussian pulse ``B1(t) ~ exp(-t^2 / (2 sigma^2))``, truncated to ``|t| <= tau/2``.

    Args:
        flip_angle: [rad]. duration: tau [s]. n: samples. sigma: [s], default tau/6.
        phase: [rad].
    """
    t = _times(duration, n)
    sigma = duration / 6.0 if sigma is None else sigma
    check_static_positive("sigma", sigma)
    return _scale_to_flip(jnp.exp(-0.5 * (t / sigma) ** 2), flip_angle, duration, phase)


def hyperbolic_secant(duration, n: int = 512, b1_max=2e-5, beta_t=5.3, mu=5.0):
    r"""Adiabatic hyperbolic-secant inversion pulse (Silver, Joseph & Hoult, JMR 59, 347 (1984)).

    .. math::
        B_1(t) = B_{1,\max}\,\mathrm{sech}(\beta t)^{1 + i\mu}
               = B_{1,\max}\,\mathrm{sech}(\beta t)\,e^{i\mu\ln\mathrm{sech}(\beta t)},

    i.e. amplitude sech(beta t) with frequency sweep ``d phi/dt = -mu beta tanh(beta t)``
    (range ``+-mu beta`` rad/s, inversion band ``mu beta / pi`` Hz). Inverts for any B1 above
    the adiabatic threshold ``gamma B1_max >~ sqrt(mu) beta``.

    Args:
        duration: [s]. n: samples. b1_max: peak B1 [T].
        beta_t: ``beta tau / 2`` (dimensionless truncation; sech(5.3) ~ 0.01).
        mu: dimensionless sweep parameter (> 0; the peak phase mu beta_t must be a resolvable
            angle, |mu beta_t| eps <= 1e-3 rad).
    Returns:
        rf [n] complex T.
    """
    t = _times(duration, n)
    b1_max = positive(b1_max, "b1_max").astype(t.dtype)
    beta = positive(beta_t, "beta_t").astype(t.dtype) / (0.5 * duration)
    mu = positive(mu, "mu")
    # the phase mu ln sech(beta t) reaches about mu beta_t: it must be a resolvable angle
    mu = require(
        mu,
        angle_ok(mu * beta_t),
        "mu: the pulse phase mu beta_t is not a resolvable angle (|phase| eps <= 1e-3 rad)",
    )
    lsech = -jnp.logaddexp(beta * t, -beta * t) + jnp.log(2.0)  # log sech(beta t), stable
    cd = complex_dtype(lsech.dtype)
    return (jnp.exp(lsech) * b1_max).astype(cd) * cis(jnp.asarray(mu, lsech.dtype) * lsech)


def from_waveform(waveform, dt, flip_angle=None, unit="T"):
    r"""Import an arbitrary RF waveform (e.g. from a scanner file or another designer).

    Args:
        waveform: [n] real or complex samples. dt: raster [s] (scalar).
        flip_angle: if given [rad], the waveform is rescaled so that
            ``gamma |sum B1 dt| = flip_angle`` (phase shape kept).
        unit: "T" (tesla), "uT" (microtesla), "Hz" (gamma_bar B1, the Pulseq convention)
            or "rad" (gamma B1 dt per sample, the SLR/sigpy convention).
    Returns:
        rf [n] complex T.
    """
    check_option("unit", unit, ("T", "uT", "Hz", "rad"))
    w = jnp.asarray(waveform)
    if w.ndim != 1 or w.shape[0] == 0:
        raise ValueError(f"waveform must be a non-empty 1-D array, got shape {w.shape}")
    w = finite(w, "waveform", complex_ok=True)
    w = w.astype(complex_dtype(w.dtype))
    dt = positive(dt, "dt").astype(jnp.real(w).dtype)
    scale = {"T": 1.0, "uT": 1e-6, "Hz": 1.0 / GAMMA_1H_HZ, "rad": 1.0 / (GAMMA_1H * dt)}[unit]
    rf = w * jnp.asarray(scale).astype(w.dtype)
    if flip_angle is not None:
        area = GAMMA_1H * jnp.abs(jnp.sum(rf)) * dt
        area = require(
            area,
            area > 0,
            "waveform area (sum waveform x dt) is zero: cannot scale it to flip_angle",
        )
        rf = rf * (finite(flip_angle, "flip_angle").astype(area.dtype) / area).astype(rf.dtype)
    return finite_result(rf, "from_waveform", ("waveform", "dt", "flip_angle"))


def slice_select_gradient(time_bandwidth, duration, thickness):
    r"""Slice-select gradient [T/m] of a pulse of bandwidth ``TB/tau``.

    ``G = TB / (tau gamma_bar d)``: the pulse's band covers the slice thickness d.

    Args:
        time_bandwidth: TB. duration: tau [s]. thickness: d [m].
    """
    time_bandwidth = positive(time_bandwidth, "time_bandwidth")
    duration, thickness = positive(duration, "duration"), positive(thickness, "thickness")
    g = time_bandwidth / duration / (GAMMA_1H_HZ * thickness)
    return finite_result(g, "slice_select_gradient", ("time_bandwidth", "duration", "thickness"))
