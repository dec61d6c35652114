r"""Angular momentum matrices and Stevens operator equivalents :math:`O_k^q`.

Convention (Stevens 1952; tables of Hutchings 1964, Solid State Phys. 16, 227; the
"extended" q < 0 operators of Rudowicz 1985): in the basis :math:`|J, m\rangle` ordered
m = J, J-1, ..., -J,

.. math::
    O_k^{q} = \tfrac12\,(S_k^q + S_k^{q\dagger}),\qquad
    O_k^{-q} = \tfrac{1}{2i}\,(S_k^q - S_k^{q\dagger}),\qquad q > 0,

with :math:`S_k^q` the operator equivalent (Stevens' symmetrised replacement
x, y, z -> J_x, J_y, J_z) of the harmonic polynomial :math:`(x+iy)^q\,p_{kq}(z, r)`, where
:math:`p_{kq}` is :math:`d^q P_k/dz^q` (homogenised with r) scaled to coprime integer
coefficients: :math:`O_2^0 = 3J_z^2 - J(J+1)`, :math:`O_2^2 = (J_+^2 + J_-^2)/2`,
:math:`O_4^0 = 35J_z^4 - \dots`, :math:`O_4^3 = \tfrac14[J_z(J_+^3+J_-^3) + (J_+^3+J_-^3)J_z]`,
:math:`O_6^6 = (J_+^6 + J_-^6)/2` (Hutchings' table).

Construction (exact, no symmetrisation by hand): :math:`J_+^k` is the operator equivalent of
:math:`(x+iy)^k`; the commutator :math:`[J_-,\,\cdot\,]` acts on operator equivalents as the
lowering operator :math:`L_- = -2z\,\partial_w + \bar w\,\partial_z` (w = x+iy) acts on
polynomials, so :math:`T_k^q = \mathrm{ad}_{J_-}^{k-q} J_+^k` is the operator equivalent of
:math:`L_-^{k-q} w^k`. Comparing the coefficient of :math:`w^q z^{k-q}` of that polynomial
(computed exactly with fractions) with Stevens' leading integer fixes
:math:`S_k^q = (a_{kq}/t_{kq})\,T_k^q`.
"""

from __future__ import annotations

import functools
from fractions import Fraction

import numpy as np

#: leading coefficient a_kq of p_kq (coefficient of z^(k-q)) in Stevens' normalisation
STEVENS_LEADING = {
    (2, 0): 3,
    (2, 1): 1,
    (2, 2): 1,
    (4, 0): 35,
    (4, 1): 7,
    (4, 2): 7,
    (4, 3): 1,
    (4, 4): 1,
    (6, 0): 231,
    (6, 1): 33,
    (6, 2): 33,
    (6, 3): 11,
    (6, 4): 11,
    (6, 5): 1,
    (6, 6): 1,
}
SUPPORTED_K = (2, 4, 6)


@functools.cache
def angular_momentum(J: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(J_x, J_y, J_z) as complex128 (2J+1, 2J+1) matrices, basis m = J, ..., -J (hbar = 1)."""
    m = np.arange(J, -J - 0.5, -1.0)
    d = m.size
    jp = np.zeros((d, d))
    for i in range(1, d):  # <m+1| J+ |m>, m = m[i], m + 1 = m[i-1]
        jp[i - 1, i] = np.sqrt(J * (J + 1) - m[i] * (m[i] + 1))
    jm = jp.T
    jx = (jp + jm) / 2
    jy = (jp - jm) / 2j
    jz = np.diag(m)
    for a in (jx, jy, jz):
        a.flags.writeable = False
    return jx.astype(complex), jy.astype(complex), jz.astype(complex)


def _lowered_leading_coefficient(k: int, q: int) -> Fraction:
    """Coefficient of w^q z^(k-q) in L_-^(k-q) w^k written as w^q * f(z, r^2)."""
    poly = {(k, 0, 0): Fraction(1)}  # exponents of (w, wbar, z)
    for _ in range(k - q):
        new: dict[tuple[int, int, int], Fraction] = {}
        for (a, b, c), v in poly.items():
            if a:  # -2 z d/dw
                key = (a - 1, b, c + 1)
                new[key] = new.get(key, Fraction(0)) - 2 * a * v
            if c:  # wbar d/dz
                key = (a, b + 1, c - 1)
                new[key] = new.get(key, Fraction(0)) + c * v
        poly = {key: v for key, v in new.items() if v != 0}
    # w^a wbar^b z^c = w^q (r^2 - z^2)^b z^c: its z^(k-q) coefficient is (-1)^b
    return sum((v * (-1) ** b for (a, b, c), v in poly.items()), Fraction(0))


def _check_kq(k, q):
    if not (isinstance(k, (int, np.integer)) and isinstance(q, (int, np.integer))):
        raise ValueError(f"Stevens indices (k, q) must be integers, got ({k!r}, {q!r})")
    if k not in SUPPORTED_K or abs(q) > k:
        raise ValueError(
            f"Stevens operator O_k^q needs k in {SUPPORTED_K} and |q| <= k, got (k, q) = ({k}, {q})"
        )


@functools.cache
def stevens_operator(J: float, k: int, q: int) -> np.ndarray:
    """Stevens operator equivalent O_k^q as a complex128 Hermitian (2J+1, 2J+1) matrix.

    Args:
        J: angular momentum (positive multiple of 1/2). k: rank 2, 4 or 6. q: -k..k.
    Returns:
        O_k^q in the basis m = J, ..., -J (Hutchings' normalisation, see module docstring).
        For 2J < k the operator vanishes identically (a zero matrix is returned).
    """
    _check_kq(k, q)
    jx, jy, jz = angular_momentum(J)
    jp = jx + 1j * jy
    jm = jx - 1j * jy
    aq = abs(q)
    t = np.linalg.matrix_power(jp, k)
    for _ in range(k - aq):
        t = jm @ t - t @ jm
    scale = STEVENS_LEADING[(k, aq)] / float(_lowered_leading_coefficient(k, aq))
    s = scale * t
    out = (s + s.conj().T) / 2 if q >= 0 else (s - s.conj().T) / 2j
    out = np.where(np.abs(out) < 1e-9 * max(1.0, np.abs(out).max()), 0.0, out)
    out = np.ascontiguousarray(out.astype(complex))
    out.flags.writeable = False
    return out
