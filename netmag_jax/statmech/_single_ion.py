r"""Single ion with angular momentum J in a crystal field and a magnetic field vector.

Hamiltonian (electron convention, moment :math:`\boldsymbol\mu = -g\mu_B\mathbf J`):

.. math::
    H = \sum_{(k,q)} B_k^q\, O_k^q \;+\; g\mu_B\,\mathbf B\cdot\mathbf J,

with Stevens operators :math:`O_k^q` (k = 2, 4, 6; Hutchings' normalisation, see
``stevens_operator``) and crystal-field parameters :math:`B_k^q` in joules.

Free energy :math:`F = -k_B T\ln\mathrm{Tr}\,e^{-H/k_BT}`, evaluated as
:math:`F = E_0 - k_BT\ln\mathrm{Tr}\exp[-(H - E_0)/k_BT]` with the shift :math:`E_0 =
\mathrm{Tr}\,H/(2J+1)` (exact for any E_0, so it carries no gradient) and the log-trace of the
matrix exponential by scaling and squaring with renormalisation (``_log_trace_expm_hermitian``;
no eigendecomposition, so it is safe inside compiled solver loops and never overflows). The
trace of the matrix exponential is a smooth function of H, so every derivative -- moment
:math:`-\partial F/\partial\mathbf B`, the susceptibility tensor
:math:`-\partial^2 F/\partial B_a\partial B_b` (Curie *and* Van Vleck terms), and their
gradients with respect to :math:`B_k^q` -- is finite and exact also where levels are degenerate
(Kramers doublets at B = 0), where derivatives through eigenvectors would divide by zero.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_option, check_real, finite, positive, require
from .._numerics import logsumexp
from ..constants import K_B, MU_0, MU_B, N_A
from ._common import MUB_OVER_KB, broadcast_apply, float_array, scalar_leaf, validate_J
from ._stevens import _check_kq, angular_momentum, stevens_operator


_TAYLOR_DEGREE = 14  # truncation error (1/2)^15 / 15! ~ 2e-17 at ||X|| <= 1/2
#: squarings done explicitly (||A|| up to 2^31, e.g. a 1000 K level span at T = 1e-6 K);
#: beyond, the squaring has converged to the ground-state projector and the rest is exact in
#: closed form (see ``_log_trace_expm_hermitian``)
_LOOP_SQUARINGS = 32


def _log_trace_expm_hermitian(a):
    r"""ln Tr exp(A) for a Hermitian matrix A, by scaling and squaring with renormalisation.

        A degree-14 Taylor polynomial gives :math:`M_0 = T_{14}(A/2^s) pprox e^{A/2^s}` with
        :math:`s = \lceil\log_2(2\|A\|_1)
    ceil`, so that :math:`\|A/2^s\| \le 1/2` (all
        eigenvalues of M_0 positive). Then :math:`e^A = M_0^{2^s}`; each squaring is divided by its
        trace t_k and the logarithms are accumulated,
        :math:`\ln\mathrm{Tr}\,e^A = 2^s\ln c_0 + \sum_k 2^{s-k}\ln t_k` (c_0 = Tr M_0), so
        nothing overflows or underflows whatever the spread of the spectrum. The number of
        squarings is data dependent but is applied with a fixed-length loop and ``where``
        (traceable, reverse-differentiable, one compiled body); s carries no gradient (it is
        piecewise constant). Smooth in A to all orders. No ``eigh``: batched Hermitian
        eigendecompositions inside XLA CPU while-loops were seen to deadlock (jaxlib 0.10.2).

        Very large ``||A||`` (``|H|/k_BT`` beyond 2^31, i.e. k_BT below ~1e-9 of the level span)
        is exact too, never clipped: A is scaled by 2^-r (r = s - 32) and squared 32 times; then
        every level whose gap above the ground level exceeds ~1e-8 of the span has died out, R
        is the normalised ground-state projector P/g, and the remaining r squarings are
        ``ln Tr e^A = 2^r L_32 + (2^r - 1) ln t`` with ``t = Tr R^2 = 1/g``. That convergence
        is checked (``eqx.error_if``: a near-degenerate ground level split by ~k_BT under such a
        span is an error, pointing to ``method="eigh"``).
    """
    norm = jax.lax.stop_gradient(jnp.max(jnp.sum(jnp.abs(a), axis=-1)))
    s_full = jnp.maximum(jnp.ceil(jnp.log2(jnp.maximum(2.0 * norm, 1e-30))), 0.0)
    s = jnp.minimum(s_full, _LOOP_SQUARINGS)
    rest = s_full - s  # squarings done in closed form after convergence
    x = a / (2.0**s_full).astype(a.dtype)
    eye = jnp.eye(a.shape[-1], dtype=a.dtype)

    def horner(i, r):
        k = (_TAYLOR_DEGREE - i).astype(a.real.dtype)
        return eye + (x @ r) / k.astype(a.dtype)

    r = jax.lax.fori_loop(0, _TAYLOR_DEGREE, horner, eye)
    c0 = jnp.real(jnp.trace(r))
    r = r / c0.astype(a.dtype)

    def square(i, carry):
        r, log_acc = carry
        active = i < s
        r2 = r @ r
        t = jnp.real(jnp.trace(r2))
        t_safe = jnp.where(active, t, jnp.ones_like(t))
        return (
            jnp.where(active, r2 / t_safe.astype(a.dtype), r),
            jnp.where(active, 2.0 * log_acc + jnp.log(t_safe), log_acc),
        )

    r, log_tr = jax.lax.fori_loop(0, _LOOP_SQUARINGS, square, (r, jnp.log(c0)))
    r2 = r @ r
    t = jnp.real(jnp.trace(r2))
    tol = 1e-8 if a.real.dtype == jnp.float64 else 1e-4
    converged = jnp.max(jnp.abs(r2 / t.astype(a.dtype) - r)) <= tol
    log_tr = require(
        log_tr,
        (rest == 0) | converged,
        "SingleIon (method='expm'): a level within ~k_B T of the ground level under a level "
        "span above 2^31 k_B T (T too low for scaling and squaring); use method='eigh'",
    )
    scale = jax.lax.stop_gradient(2.0**rest).astype(log_tr.dtype)
    return jnp.where(rest > 0, scale * log_tr + (scale - 1.0) * jnp.log(t), log_tr)


def fibonacci_sphere(n: int) -> np.ndarray:
    """n nearly uniform unit vectors on the sphere (Fibonacci lattice), shape (n, 3)."""
    i = np.arange(n) + 0.5
    z = 1.0 - 2.0 * i / n
    phi = np.pi * (1.0 + 5.0**0.5) * i
    r = np.sqrt(1.0 - z * z)
    return np.stack([r * np.cos(phi), r * np.sin(phi), z], axis=-1)


class SingleIon(eqx.Module):
    r"""Ion of angular momentum J, Landé factor g, in a Stevens crystal field and a field B.

    .. math::
        H = \sum_{(k,q)} B_k^q O_k^q + g\mu_B \mathbf B\cdot\mathbf J,\qquad
        \boldsymbol\mu = -\partial F/\partial\mathbf B .

    Args:
        J: angular momentum, positive multiple of 1/2 (static: fixes the 2J+1 dimension).
        g: Landé factor, > 0 (array leaf). For Er3+ (4I15/2): J = 15/2, g = 6/5.
        stevens: ``{(k, q): B_kq}`` with k in (2, 4, 6), -k <= q <= k, B_kq in joules
            (``constants.meV_to_J`` converts from meV). The set of keys is static structure;
            the values are one differentiable array leaf ``bkq`` (ordered as ``keys``).
            Empty or None: free ion.
        n: number density [m^-3] for volume quantities (optional array leaf).
        method: ``"expm"`` (default): free energy from the trace of the matrix exponential,
            smooth to all orders, exact also at degenerate levels. ``"eigh"``: free energy
            from the eigenvalues only (log-sum-exp), about 5x faster; its first derivatives
            (moment, entropy) are exact everywhere, but second derivatives (susceptibility,
            gradients of the moment with respect to B_kq or T) are not defined where levels are
            degenerate (B = 0 with Kramers doublets) -- use it for M(B) at B != 0.
            Known issue: with jaxlib 0.10.2 on CPU, batched Hermitian ``eigh`` inside a
            compiled loop (e.g. the Jacobians of ``fit.curve_fit``) was seen to deadlock in
            the LAPACK kernel's thread pool; ``"expm"`` uses no ``eigh`` and is safe there.
    """

    J: float = eqx.field(static=True)
    keys: tuple = eqx.field(static=True)
    g: jax.Array
    bkq: jax.Array
    n: jax.Array | None
    method: str = eqx.field(static=True)

    def __init__(self, J, g=2.0, stevens=None, n=None, method="expm"):
        check_option("method", method, ("expm", "eigh"))
        self.method = method
        self.J = validate_J(J)
        self.g = scalar_leaf("g", g)
        stevens = {} if stevens is None else dict(stevens)
        keys = []
        for key in stevens:
            if not (isinstance(key, tuple) and len(key) == 2):
                raise ValueError(f"stevens keys must be (k, q) tuples, got {key!r}")
            _check_kq(*key)
            keys.append((int(key[0]), int(key[1])))
        keys = tuple(sorted(keys))
        values = [jnp.asarray(stevens[k]) for k in keys]
        for k, v in zip(keys, values, strict=False):
            if v.shape != ():
                raise ValueError(f"B_{k} must be a scalar, got shape {v.shape}")
        self.keys = keys
        self.bkq = jnp.stack(values) if values else jnp.zeros((0,))
        self.n = None if n is None else scalar_leaf("n", n)

    @property
    def dim(self) -> int:
        """Number of states 2J+1."""
        return int(round(2 * self.J)) + 1

    def stevens(self) -> dict:
        """The crystal-field parameters as ``{(k, q): B_kq [J]}``."""
        return {k: self.bkq[i] for i, k in enumerate(self.keys)}

    # --- Hamiltonian in kelvin ----------------------------------------------------------------
    def _hamiltonian_K(self, B):
        """H / k_B [K] for a single field vector B [T], complex Hermitian (2J+1, 2J+1)."""
        B = finite(B, "B (field)")
        cdtype = jnp.complex128 if B.dtype == jnp.float64 else jnp.complex64
        g = positive(self.g.astype(B.dtype), "g")
        jx, jy, jz = (jnp.asarray(a, dtype=cdtype) for a in angular_momentum(self.J))
        Bc = (g * MUB_OVER_KB * B).astype(cdtype)
        h = Bc[0] * jx + Bc[1] * jy + Bc[2] * jz
        if self.keys:
            ops = jnp.asarray(
                np.stack([stevens_operator(self.J, k, q) for k, q in self.keys]), dtype=cdtype
            )
            bkq = finite(self.bkq, "B_kq (crystal field)").astype(B.dtype) / K_B
            h = h + jnp.tensordot(bkq.astype(cdtype), ops, axes=1)
        return h

    def _levels_K(self, B):
        return jnp.linalg.eigvalsh(self._hamiltonian_K(B))

    def _free_energy_K(self, B, T):
        T = positive(T, "T (temperature)")
        h = self._hamiltonian_K(B)
        if self.method == "eigh":
            e = jnp.linalg.eigvalsh(h)
            return -T * logsumexp(-e / T)
        e0 = jax.lax.stop_gradient(jnp.real(jnp.trace(h)) / self.dim)
        eye = jnp.eye(self.dim, dtype=h.dtype)
        a = -(h - e0.astype(h.dtype) * eye) / T.astype(h.dtype)
        return e0 - T * _log_trace_expm_hermitian(a)

    def _moment(self, B, T):
        return -jax.grad(self._free_energy_K, argnums=0)(B, T) / MUB_OVER_KB

    def _dmoment_dB(self, B, T):
        return jax.jacfwd(self._moment, argnums=0)(B, T)

    def _entropy_K(self, B, T):
        return -jax.grad(self._free_energy_K, argnums=1)(B, T)

    def _heat_capacity_K(self, B, T):
        return -T * jax.grad(jax.grad(self._free_energy_K, argnums=1), argnums=1)(B, T)

    def _powder_moment(self, B, T, dirs):
        def along(u):
            return jnp.dot(self._moment(B * u, T), u)

        return jnp.mean(jax.vmap(along)(dirs))

    @staticmethod
    def _field(B):
        check_real("B", B)
        B = float_array(B)
        if B.ndim == 0 or B.shape[-1] != 3:
            raise ValueError(
                f"B must be a field vector with last axis of length 3, got shape {B.shape}"
            )
        return B

    # --- public -------------------------------------------------------------------------------
    def hamiltonian(self, B=(0.0, 0.0, 0.0)):
        """Hamiltonian matrix [J], complex Hermitian, shape (..., 2J+1, 2J+1), basis m = J..-J.

        Args:
            B: field vector [T], shape (..., 3).
        """
        return K_B * broadcast_apply(self._hamiltonian_K, self._field(B), signature="(3)->(n,n)")

    def energy_levels(self, B=(0.0, 0.0, 0.0)):
        """Eigenvalues of H [J], ascending, shape (..., 2J+1) (``eigh``; values only).

        Args:
            B: field vector [T], shape (..., 3).
        """
        return K_B * broadcast_apply(self._levels_K, self._field(B), signature="(3)->(n)")

    def free_energy(self, B, T):
        r"""Free energy per ion :math:`F = -k_BT\ln\mathrm{Tr}\,e^{-H/k_BT}` [J].

        Args:
            B: field vector [T], shape (..., 3). T: temperature [K] > 0, shape broadcasting
                against B's leading axes.
        Returns:
            F [J], broadcast leading shape.
        """
        return K_B * broadcast_apply(self._free_energy_K, self._field(B), T, signature="(3),()->()")

    def moment(self, B, T):
        r"""Thermal moment vector :math:`\boldsymbol\mu = -\partial F/\partial\mathbf B` [mu_B].

        Args:
            B: field vector [T], shape (..., 3). T: temperature [K] > 0, broadcasting.
        Returns:
            moment per ion [mu_B], shape (..., 3).
        """
        return broadcast_apply(self._moment, self._field(B), T, signature="(3),()->(3)")

    def susceptibility_per_ion(self, T, B=(0.0, 0.0, 0.0)):
        r"""Differential susceptibility tensor per ion
        :math:`\partial\mu_a/\partial B_b = -\partial^2F/\partial B_a\partial B_b / \mu_B`
        [mu_B / T], shape (..., 3, 3); includes the Van Vleck (interlevel) terms.

        Args:
            T: temperature [K] > 0. B: field vector [T], shape (..., 3); default zero field.
        """
        return broadcast_apply(self._dmoment_dB, self._field(B), T, signature="(3),()->(3,3)")

    def susceptibility(self, T, B=(0.0, 0.0, 0.0)):
        r"""SI volume susceptibility tensor :math:`\chi_{ab} = \mu_0 n \mu_B\,
        \partial\mu_a/\partial B_b` (dimensionless), shape (..., 3, 3); needs ``n``."""
        if self.n is None:
            raise ValueError(
                "this SingleIon has no density: construct it with n=<ions per "
                "m^3>, or use molar_susceptibility / susceptibility_per_ion"
            )
        n = positive(self.n, "n (density)")
        return (n * (MU_0 * MU_B)) * self.susceptibility_per_ion(T, B)

    def molar_susceptibility(self, T, B=(0.0, 0.0, 0.0)):
        r"""SI molar susceptibility tensor :math:`\mu_0 N_A \mu_B\,\partial\mu_a/\partial B_b`
        [m^3/mol], shape (..., 3, 3) (``constants.chi_si_molar_to_cgs`` gives emu/mol)."""
        return (MU_0 * N_A * MU_B) * self.susceptibility_per_ion(T, B)

    def powder_susceptibility_per_ion(self, T, B=(0.0, 0.0, 0.0)):
        """Orientation average of the linear susceptibility, trace / 3 [mu_B / T], shape (...)."""
        chi = self.susceptibility_per_ion(T, B)
        return jnp.trace(chi, axis1=-2, axis2=-1) / 3.0

    def powder_moment(self, B, T, n_directions: int = 200):
        r"""Powder-averaged moment along the field,
        :math:`\langle \boldsymbol\mu(B\hat u)\cdot\hat u\rangle_{\hat u}` [mu_B], averaged over
        ``n_directions`` (static) Fibonacci-sphere directions.

        Args:
            B: field magnitude [T], shape (...). T: temperature [K] > 0, broadcasting.
        """
        if int(n_directions) < 1:
            raise ValueError(f"n_directions must be >= 1, got {n_directions}")
        check_real("B", B)
        B = float_array(B)
        dirs = jnp.asarray(fibonacci_sphere(int(n_directions)), dtype=B.dtype)
        return broadcast_apply(lambda b, t: self._powder_moment(b, t, dirs), B, T)

    def entropy(self, B, T):
        r"""Entropy per ion :math:`S = -\partial F/\partial T` [J/K]; B shape (..., 3)."""
        return K_B * broadcast_apply(self._entropy_K, self._field(B), T, signature="(3),()->()")

    def heat_capacity(self, B, T):
        r"""Heat capacity per ion :math:`C = -T\partial^2F/\partial T^2` [J/K]; B (..., 3)."""
        return K_B * broadcast_apply(
            self._heat_capacity_K, self._field(B), T, signature="(3),()->()"
        )
