"""Classical pulses, the starting points (and yardsticks) of pulse design.

All return complex B1 [T] as NumPy arrays (n,) on the raster dt = duration / n, in the
package's convention (an RF pulse along +x tips +z towards +y).
"""

from __future__ import annotations

import math

import jax
import numpy as np

from ..._checks import check_option
from ...constants import GAMMA_1H
from .._pulses import sinc
from ._target import Target


def sinc_pulse(flip_angle, duration, time_bandwidth=4.0, n: int = 256, window="hamming"):
    """Windowed sinc pulse with area gamma int B1 dt = flip_angle, as a NumPy array.

    The arguments and the pulse are those of :func:`netmag_jax.mri.sinc` (B1(t) ~ w(t)
    sinc(TB t / T) for |t| <= T/2); this returns it as complex128 NumPy for the designer.

    Args:
        flip_angle: [rad]; duration: T [s]; time_bandwidth: TB; n: number of samples;
        window: "hamming", "hann" or "none".

    Returns:
        complex B1 [T], shape (n,).
    """
    return np.asarray(sinc(flip_angle, duration, time_bandwidth, n, window), dtype=complex)


def slr_pulse(n, duration, tbw=4.0, ptype="ex", ftype="ls", d1=0.01, d2=0.01):
    """Shinnar-Le Roux pulse from sigpy (``sigpy.mri.rf.dzrf``), as B1 [T] in our convention.

    sigpy returns the rotation angle per sample, rf; this returns ``B1 = +rf / (gamma dt)``.
    The Cayley-Klein kernel equals sigpy's ``abrm`` with rf and gradient negated, so at
    position z this pulse gives ``alpha = alpha_sigpy`` and ``beta = -beta_sigpy`` with
    sigpy's position ``x = -gamma_bar G z T``: the same M_z and |M_xy| profile, M_xy negated
    (a rotation by pi about z).

    Args:
        n: samples; duration: T [s]; tbw: time-bandwidth product; ptype: "st", "ex", "se",
        "inv", "sat"; ftype: "ls", "pm", "ms", "min", "max"; d1, d2: pass/stopband ripples.

    Returns:
        complex B1 [T], shape (n,).

    Raises:
        ImportError: sigpy is not installed.
    """
    try:
        from sigpy.mri.rf import dzrf  # optional dependency
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "SLR pulses need sigpy (pip install sigpy); use init='sinc' "
            "or pass an explicit waveform instead"
        ) from err
    check_option("ptype", ptype, ("st", "ex", "se", "inv", "sat"))
    # sigpy annotates tb as int; any time-bandwidth product > 0 works
    rf = np.asarray(dzrf(n, tbw, ptype, ftype, d1, d2))  # pyright: ignore[reportArgumentType]
    return (rf / (GAMMA_1H * duration / n)).astype(complex)


def _slr_for(target: Target, flip, n, duration, tbw):
    """The SLR pulse type that fits the target, scaled to ``flip`` for small tips."""
    ptype = {"mz": "inv", "beta_sq": "se", "beta": "se"}.get(target.kind, "ex")
    if target.kind == "mz" and abs(flip - math.pi / 2) < 1e-6:
        ptype = "sat"
    if ptype == "ex" and abs(flip - math.pi / 2) > 1e-6:
        ptype = "st"
    rf = slr_pulse(n, duration, tbw, ptype)
    if ptype == "st":
        rf = rf * flip / abs(GAMMA_1H * duration / n * rf.sum())
    return rf


def initial_pulse(init, target: Target, n_samples, duration, b1_max, *, tbw=4.0, key=None):
    """The starting pulse of :func:`optimize_pulse`, complex B1 [T] (n,) (NumPy).

    Args:
        init: "sinc" (windowed sinc of the target's flip angle), "slr" (sigpy SLR of the
            matching type), "hard" (constant B1), "random" (complex Gaussian of 0.3 b1_max
            per channel, needs ``key``), or a waveform of shape (n,) (checked, returned).
        target: the :class:`Target` (its flip angle, pi/2 if it asks for none).
        n_samples: n; duration: T [s]; b1_max: peak B1 [T] (for "random").
        tbw: time-bandwidth product of the sinc / SLR pulses.
        key: PRNG key for "random".
    """
    n = int(n_samples)
    if not isinstance(init, str):
        rf0 = np.asarray(init)
        if rf0.shape != (n,):
            raise ValueError(f"init waveform must have shape ({n},), got {rf0.shape}")
        if not np.all(np.isfinite(rf0)):
            raise ValueError("init waveform must be finite")
        return rf0.astype(complex)
    check_option("init", init, ("sinc", "slr", "hard", "random"))
    need = target.required_flip_angle()
    flip = need if need > 0 else math.pi / 2
    if init == "sinc":
        return sinc_pulse(flip, duration, tbw, n)
    if init == "hard":
        return np.full(n, flip / (GAMMA_1H * duration), complex)
    if init == "slr":
        return _slr_for(target, flip, n, duration, tbw)
    if key is None:
        raise ValueError("init='random' needs a PRNG key")
    z = np.asarray(jax.random.normal(key, (2, n)))
    return 0.3 * b1_max * (z[0] + 1j * z[1])
