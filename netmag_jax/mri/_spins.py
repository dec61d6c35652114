"""Isochromats (``Spins``) and the Curie-law equilibrium magnetization of protons.

Frames. In the laboratory frame a proton magnetization in the static field B0 z precesses
about z at the Larmor angular frequency ``omega0 = gamma B0`` (about 2 pi x 127.7 MHz at 3 T),
clockwise seen from +z (``dM/dt = gamma M x B`` with gamma > 0). The engine works in the frame
rotating with the RF carrier at ``omega0``: there B0 disappears and only the small fields
remain -- the RF field B1 (complex, ``B1x + i B1y``), the gradient field ``G . r`` along z and
the off-resonance ``2 pi df / gamma`` (B0 inhomogeneity, chemical shift). The rotating-frame
transverse magnetization ``Mxy = Mx + i My`` is exactly the lab-frame one demodulated by
``exp(+i omega0 t)``, so the receiver's demodulated signal is computed directly.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from .._checks import (
    check_ndim,
    check_real,
    check_shape,
    finite,
    finite_result,
    is_concrete,
    positive,
)
from ..constants import GAMMA_1H, HBAR, K_B
from ..parallel import shard_batch
from ..statmech import brillouin

#: Number density of 1H in liquid water at 37 C [m^-3]: 2 rho N_A / M_H2O = 2 x 993.3 kg/m^3
#: x 6.022e23 / 18.015e-3 kg/mol ~ 6.64e28; at 20 C (998.2 kg/m^3) 6.67e28. The commonly
#: quoted round value 6.69e28 m^-3 (rho = 1000 kg/m^3) is used as default.
WATER_PROTON_DENSITY = 6.69e28


def equilibrium_magnetization(B0, temperature, proton_density=WATER_PROTON_DENSITY):
    r"""Equilibrium nuclear magnetization of spin-1/2 protons (Curie law, exact two-level).

    .. math::
        M_0 = n \frac{\gamma\hbar}{2} B_{1/2}(x) = n\frac{\gamma\hbar}{2}\tanh x,\qquad
        x = \frac{\gamma \hbar B_0}{2 k_B T},

    which for ``x << 1`` (always in MRI: x ~ 3e-6 at 3 T, 310 K) is the Curie law
    ``M0 = n gamma^2 hbar^2 B0 / (4 k_B T)`` (about 9.3e-3 A/m for water at 3 T, 310 K).

    Args:
        B0: static field [T], any shape.
        temperature: spin temperature [K], broadcasts with B0.
        proton_density: number density of protons n [m^-3] (default: water).
    Returns:
        M0 [A/m], broadcast shape.
    """
    B0 = finite(B0, "B0")
    temperature = positive(temperature, "temperature").astype(B0.dtype)
    density = positive(proton_density, "proton_density").astype(B0.dtype)
    x = GAMMA_1H * HBAR * B0 / (2.0 * K_B * temperature)
    return density * 0.5 * GAMMA_1H * HBAR * brillouin(0.5, x)


def larmor_frequency(B0):
    """Larmor angular frequency ``omega0 = gamma B0`` [rad/s] of 1H for B0 [T]."""
    return finite_result(GAMMA_1H * finite(B0, "B0"), "larmor_frequency", ("B0",))


_SPIN_ERRORS = (
    "T1 must be finite and > 0",
    "T2 must be finite and > 0",
    "T2 must not exceed 2 T1 (physical bound)",
    "positions must be finite",
    "M0 must be finite",
    "off_resonance must be finite",
    "chemical_shift must be finite",
    "b1 must be finite",
    "B0 must be finite and > 0",
)


@eqx.filter_jit
def _validate(pos, T1, T2, M0, off, cs, b1, B0):
    """Run-time value checks of the isochromat parameters: one ``eqx.branched_error_if``
    (one compiled function per N) reporting the first violated condition."""
    bad = jnp.stack(
        [
            ~jnp.all(jnp.isfinite(T1) & (T1 > 0)),
            ~jnp.all(jnp.isfinite(T2) & (T2 > 0)),
            ~jnp.all(T2 <= 2.0 * T1),
            ~jnp.all(jnp.isfinite(pos)),
            ~jnp.all(jnp.isfinite(M0)),
            ~jnp.all(jnp.isfinite(off)),
            ~jnp.all(jnp.isfinite(cs)),
            ~jnp.all(jnp.isfinite(b1)),
            ~(jnp.isfinite(B0) & (B0 > 0)),
        ]
    )
    first = jnp.argmax(bad)
    out = (pos, T1, T2, M0, off, cs, b1, B0)
    return eqx.branched_error_if(out, jnp.any(bad), first, _SPIN_ERRORS)


class Spins(eqx.Module):
    r"""A set of N isochromats: position, relaxation, equilibrium magnetization, off-resonance.

    Each isochromat is a small volume of spins with one Larmor frequency. In the rotating frame
    its total z-field is ``G(t) . r + 2 pi (off_resonance + chemical_shift 1e-6 gamma_bar B0) /
    gamma`` and its RF field is ``b1 * B1(t)``.

    Attributes (all array leaves, differentiable):
        positions: [N, 3] m.
        T1, T2: [N] s; checked at run time: T1 > 0, 0 < T2 <= 2 T1 (the physical bound).
        M0: [N] equilibrium magnetization [A/m] (or any unit: the signal scales with it).
        off_resonance: [N] Hz (B0 inhomogeneity, susceptibility).
        chemical_shift: [N] ppm of the Larmor frequency (fat ~ -3.4 ppm).
        b1: [N] relative transmit field (1 = nominal flip angle).
        B0: scalar [T] (> 0), used for the chemical shift in Hz and for the induced EMF.

    Every value is checked at construction (``eqx.error_if``, also under jit/vmap: finite,
    T1 > 0, 0 < T2 <= 2 T1, B0 > 0); complex values raise TypeError.
    """

    positions: jax.Array
    T1: jax.Array
    T2: jax.Array
    M0: jax.Array
    off_resonance: jax.Array
    chemical_shift: jax.Array
    b1: jax.Array
    B0: jax.Array

    def __init__(
        self,
        positions,
        T1,
        T2,
        M0: ArrayLike | None = None,
        off_resonance: ArrayLike = 0.0,
        chemical_shift: ArrayLike = 0.0,
        b1: ArrayLike = 1.0,
        B0: ArrayLike = 3.0,
        temperature: ArrayLike = 310.0,
        proton_density: ArrayLike = 1.0,
    ):
        """Build N isochromats.

        Args:
            positions: [N, 3] m (a [N] array is taken as z positions).
            T1, T2: [N] or scalar, s.
            M0: [N] or scalar equilibrium magnetization [A/m]. ``None`` (default): the Curie-law
                value of water at ``B0`` and ``temperature`` times ``proton_density``.
            off_resonance: [N] or scalar Hz.
            chemical_shift: [N] or scalar ppm.
            b1: [N] or scalar relative B1+ (transmit) scale.
            B0: static field [T] (scalar).
            temperature: [K], only used when M0 is None.
            proton_density: [N] or scalar, relative to water, only used when M0 is None.
        """
        # NumPy for concrete inputs (no per-shape dispatch/compile), JAX for traced ones
        xp_of = lambda v: np if is_concrete(v) else jnp  # noqa: E731
        for name, v in (
            ("positions", positions), ("T1", T1), ("T2", T2), ("M0", M0),
            ("off_resonance", off_resonance), ("chemical_shift", chemical_shift), ("b1", b1),
            ("B0", B0), ("temperature", temperature), ("proton_density", proton_density),
        ):  # fmt: skip
            check_real(name, v)
        xp = xp_of(positions)
        pos = xp.asarray(positions)
        dtype = pos.dtype if jnp.issubdtype(pos.dtype, jnp.floating) else jnp.result_type(float)
        pos = pos.astype(dtype)
        if pos.ndim == 1:
            pos = xp.stack([xp.zeros_like(pos), xp.zeros_like(pos), pos], axis=-1)
        check_ndim("positions", pos, 2)
        check_shape("positions", pos, (None, 3))
        n = pos.shape[0]

        def vec(name, v):
            xv = xp_of(v)
            v = xv.asarray(v)
            if v.ndim > 1 or (v.ndim == 1 and v.shape[0] != n):
                raise ValueError(f"{name} must be a scalar or have shape ({n},), got {v.shape}")
            return xv.broadcast_to(v.astype(dtype), (n,))

        T1 = vec("T1", T1)
        T2 = vec("T2", T2)
        B0 = xp_of(B0).asarray(B0).astype(dtype)
        if B0.ndim != 0:
            raise ValueError(f"B0 must be a scalar, got shape {B0.shape}")
        if M0 is None:
            density = positive(vec("proton_density", proton_density), "proton_density")
            M0 = density * equilibrium_magnetization(B0, temperature).astype(dtype)
        (
            self.positions,
            self.T1,
            self.T2,
            self.M0,
            self.off_resonance,
            self.chemical_shift,
            self.b1,
            self.B0,
        ) = _validate(
            pos,
            T1,
            T2,
            vec("M0", M0),
            vec("off_resonance", off_resonance),
            vec("chemical_shift", chemical_shift),
            vec("b1", b1),
            B0,
        )

    @property
    def n(self) -> int:
        """Number of isochromats N."""
        return self.positions.shape[0]

    @property
    def dtype(self):
        """Floating dtype of the spin parameters."""
        return self.positions.dtype

    def frequency_offset(self):
        """Total off-resonance [Hz], shape [N]: ``off_resonance + 1e-6 cs gamma_bar B0``."""
        return self.off_resonance + 1e-6 * self.chemical_shift * (GAMMA_1H / (2 * jnp.pi)) * self.B0


def shard_spins(spins: Spins, mesh=None) -> Spins:
    """Place the isochromat axis of ``spins`` on a 1-D device mesh (all devices by default).

    Every per-spin leaf ([N] or [N, 3]) is split along N with ``NamedSharding``; ``B0`` is
    replicated. :func:`simulate` under ``jit`` then runs each device's spins locally (the
    signal sum becomes an all-reduce). N must be a multiple of the number of devices.
    """
    return shard_batch(spins, mesh, what="number of spins")
