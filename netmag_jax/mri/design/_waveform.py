r"""Waveform parametrisation: raw coefficients -> RF [T] and gradient [T/m] within limits.

The n RF samples are ``B1 = squash(B u)`` with B a real basis (n, K) (free samples,
DCT-II cosines or cubic B-splines) and u the raw complex (or real) coefficients. The peak-B1
constraint :math:`|B_1| \le B_{1,\max}` is built into the squashing map

.. math:: B_1 = B_{1,\max}\,u\,\frac{\tanh|u|}{|u|}\ (\text{complex } u),\qquad
          B_1 = B_{1,\max}\tanh u\ (\text{real } u),

and likewise the gradient amplitude :math:`|G| < G_\max` through ``G = G_max tanh(B u_G)``
when the gradient is optimised too.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..._checks import check_option, check_static_positive
from ..._dtypes import complex_dtype


def basis_matrix(kind, n, k):
    """Real basis matrix (n, K): identity (K = n), DCT-II cosines, or cubic B-splines.

    Args:
        kind: "samples", "fourier" or "spline" (needs scipy).
        n: number of samples; k: number of basis functions (ignored for "samples").
    """
    if kind == "samples":
        return np.eye(n)
    if k < 1 or k > n:
        raise ValueError(f"n_basis must be in [1, n_samples], got {k}")
    t = (np.arange(n) + 0.5) / n
    if kind == "fourier":
        return np.cos(np.pi * np.arange(k)[None, :] * t[:, None])
    from scipy.interpolate import BSpline  # optional dependency, only for this basis

    if k < 4:
        raise ValueError("the spline basis needs n_basis >= 4 (cubic)")
    inner = np.linspace(0, 1, k - 2)
    knots = np.concatenate([[0, 0, 0], inner, [1, 1, 1]])
    return BSpline.design_matrix(t, knots, 3).toarray()


def squash(u, b1_max):
    """B1 = b1_max u tanh(|u|)/|u| (complex u) or b1_max tanh(u) (real u); |B1| < b1_max.

    Double-where at u = 0 (series 1 - |u|^2/3), so the gradient there is finite (= b1_max).
    """
    if not jnp.iscomplexobj(u):
        return b1_max * jnp.tanh(u)
    r2 = jnp.real(u) ** 2 + jnp.imag(u) ** 2
    small = r2 < 1e-10
    r = jnp.sqrt(jnp.where(small, 1.0, r2))
    f = jnp.where(small, 1.0 - r2 / 3.0, jnp.tanh(r) / r)
    return u * (b1_max * f).astype(u.dtype)


def unsquash(rf, b1_max, limit=0.98):
    """Inverse of :func:`squash` (NumPy), with |B1| / b1_max clipped to ``limit`` < 1."""
    m = np.abs(rf) / b1_max
    mc = np.clip(m, 0, limit)
    f = np.where(mc > 1e-12, np.arctanh(mc) / np.where(m > 0, m, 1.0), 1.0)
    return rf / b1_max * f


class Waveform(eqx.Module):
    """How :func:`optimize_pulse` parametrises the pulse (an options Module).

    Attributes:
        basis: "samples" (free samples), "fourier" (``n_basis`` DCT cosines) or "spline"
            (``n_basis`` cubic B-splines, needs scipy).
        n_basis: number of basis functions (not used by "samples").
        real_rf: optimise a real (x-phase) RF waveform only.
        optimize_gradient: also optimise the gradient waveform (|G| < ``g_max``).
        g_max: gradient amplitude limit [T/m]; required with ``optimize_gradient``.
        init_noise: relative amplitude of Gaussian noise added to the initial coefficients
            (needs a PRNG key).
    """

    basis: str = eqx.field(static=True, default="samples")
    n_basis: int = eqx.field(static=True, default=32)
    real_rf: bool = eqx.field(static=True, default=False)
    optimize_gradient: bool = eqx.field(static=True, default=False)
    g_max: float | None = None
    init_noise: float = 0.0

    def __check_init__(self):
        check_option("basis", self.basis, ("samples", "fourier", "spline"))
        if self.optimize_gradient:
            if self.g_max is None:
                raise ValueError("optimize_gradient needs g_max [T/m]")
            check_static_positive("g_max", self.g_max)
        if self.init_noise < 0:
            raise ValueError(f"init_noise must be >= 0, got {self.init_noise}")


class Parametrised(eqx.Module):
    """A :class:`Waveform` bound to a pulse: ``(rf, g) = self(params)``.

    Attributes:
        basis: real basis (n, K); b1_max: peak B1 [T]; g_fixed: the gradient [T/m] (n,)
        when it is not optimised; g_max: its limit [T/m]; real_rf, optimize_gradient: flags.
    """

    basis: jax.Array
    b1_max: jax.Array
    g_fixed: jax.Array
    g_max: jax.Array
    real_rf: bool = eqx.field(static=True)
    optimize_gradient: bool = eqx.field(static=True)

    def __call__(self, params):
        """(B1 [T] complex (n,), G [T/m] (n,)) from the parameter dict."""
        u = self.basis @ params["re"]
        if self.real_rf:
            rf = squash(u, self.b1_max).astype(complex_dtype(u.dtype))
        else:
            rf = squash(jax.lax.complex(u, self.basis @ params["im"]), self.b1_max)
        if not self.optimize_gradient:
            return rf, self.g_fixed
        return rf, self.g_max * jnp.tanh(self.basis @ params["g"])


def parametrise(waveform: Waveform, rf0, g0, b1_max, key, dtype):
    """Bind ``waveform`` to an initial pulse: (Parametrised, initial params dict).

    Args:
        waveform: the options; rf0: initial complex B1 [T] (n,); g0: initial gradient
        [T/m] (n,); b1_max: peak B1 [T]; key: PRNG key (for ``init_noise``) or None;
        dtype: float32 or float64 of the parameters.
    """
    n = rf0.shape[0]
    if waveform.optimize_gradient and np.max(np.abs(g0)) >= waveform.g_max:
        raise ValueError("the initial gradient must satisfy |G| < g_max")
    rf0 = rf0.real if waveform.real_rf else rf0
    B = basis_matrix(waveform.basis, n, waveform.n_basis)
    c0 = np.linalg.lstsq(B, unsquash(rf0, b1_max), rcond=None)[0]
    if waveform.init_noise > 0:
        if key is None:
            raise ValueError("init_noise > 0 needs a PRNG key")
        z = np.asarray(jax.random.normal(key, (2,) + c0.shape))
        scale = waveform.init_noise * max(float(np.max(np.abs(c0))), 1e-3)
        c0 = c0 + scale * (z[0] if waveform.real_rf else z[0] + 1j * z[1])
    params = {"re": jnp.asarray(c0.real, dtype)}
    if not waveform.real_rf:
        params["im"] = jnp.asarray(c0.imag, dtype)
    g_max = 1.0 if waveform.g_max is None else waveform.g_max
    if waveform.optimize_gradient:
        ug = np.arctanh(g0 / g_max)
        params["g"] = jnp.asarray(np.linalg.lstsq(B, ug, rcond=None)[0], dtype)
    pm = Parametrised(
        basis=jnp.asarray(B, dtype),
        b1_max=jnp.asarray(b1_max, dtype),
        g_fixed=jnp.asarray(g0, dtype),
        g_max=jnp.asarray(g_max, dtype),
        real_rf=waveform.real_rf,
        optimize_gradient=waveform.optimize_gradient,
    )
    return pm, params
