"""Demagnetizing tensor of a regular mesh of cuboid cells (Newell, Williams & Dunlop 1993).

The field of a uniformly magnetized source cell on a target cell, averaged over the target,
is ``H_target = -N(r) M_source`` with ``r`` the vector between cell centres. Newell et al.
(J. Geophys. Res. 98, 9551 (1993)) give N as a sixth-order mixed finite difference of two
closed-form functions f (diagonal) and g (off-diagonal)::

    N_xx(X, Y, Z) = 1/(4 pi dx dy dz) * D_x D_y D_z f(X, Y, Z),
    D_x u(X) = 2 u(X) - u(X - dx) - u(X + dx),

i.e. the 27-point stencil with weights 8 (centre), -4 (faces), 2 (edges), -1 (corners).
N_yy, N_zz follow from f with permuted arguments, N_xy from g, N_xz and N_yz from g with
permuted arguments. The sum of 27 terms that each grow like r^3 cancels to ~ V/r^3, so the
formula loses ~ log10((r/dx)^2 (r/dy)^2 (r/dz)^2) digits at large r. Beyond ``far`` cell sizes
we therefore use the dipole tensor integrated over source and target cells by Gauss-Legendre
quadrature of the cell-autocorrelation (a triangle of width 2 d per axis), whose error falls
like (d/r)^6. Everything here runs once per geometry in NumPy float64.
"""

from __future__ import annotations

from .._checks import check_static_finite, check_static_positive

import numpy as np


def _asinh_ratio(a, b2):
    """asinh(a / sqrt(b2)), 0 where b2 == 0 (the term it multiplies vanishes there)."""
    ok = b2 > 0
    return np.where(ok, np.arcsinh(a / np.sqrt(np.where(ok, b2, 1.0))), 0.0)


def _atan_ratio(num, den):
    """atan(num / den), 0 where den == 0 (the term it multiplies vanishes there)."""
    ok = den != 0
    return np.where(ok, np.arctan(num / np.where(ok, den, 1.0)), 0.0)


def newell_f(x, y, z):
    r"""Newell's f(x, y, z) (diagonal demag tensor kernel), float64 arrays.

    f = y/2 (z^2 - x^2) asinh(y / sqrt(x^2+z^2)) + z/2 (y^2 - x^2) asinh(z / sqrt(x^2+y^2))
        - x y z atan(y z / (x R)) + (2x^2 - y^2 - z^2) R / 6,   R = sqrt(x^2+y^2+z^2).
    Even in each argument; used with absolute values.
    """
    x, y, z = np.abs(x), np.abs(y), np.abs(z)
    x2, y2, z2 = x * x, y * y, z * z
    R = np.sqrt(x2 + y2 + z2)
    out = 0.5 * y * (z2 - x2) * _asinh_ratio(y, x2 + z2)
    out = out + 0.5 * z * (y2 - x2) * _asinh_ratio(z, x2 + y2)
    out = out - x * y * z * _atan_ratio(y * z, x * R)
    return out + (2.0 * x2 - y2 - z2) * R / 6.0


def newell_g(x, y, z):
    r"""Newell's g(x, y, z) (off-diagonal demag tensor kernel), float64 arrays.

    g = x y z asinh(z / sqrt(x^2+y^2)) + y/6 (3z^2 - y^2) asinh(x / sqrt(y^2+z^2))
        + x/6 (3z^2 - x^2) asinh(y / sqrt(x^2+z^2)) - z^3/6 atan(x y / (z R))
        - z y^2/2 atan(x z / (y R)) - z x^2/2 atan(y z / (x R)) - x y R / 3.
    Odd in x and in y, even in z.
    """
    sx, sy = np.sign(x), np.sign(y)
    x, y, z = np.abs(x), np.abs(y), np.abs(z)
    x2, y2, z2 = x * x, y * y, z * z
    R = np.sqrt(x2 + y2 + z2)
    out = x * y * z * _asinh_ratio(z, x2 + y2)
    out = out + y / 6.0 * (3.0 * z2 - y2) * _asinh_ratio(x, y2 + z2)
    out = out + x / 6.0 * (3.0 * z2 - x2) * _asinh_ratio(y, x2 + z2)
    out = out - z * z2 / 6.0 * _atan_ratio(x * y, z * R)
    out = out - 0.5 * z * y2 * _atan_ratio(x * z, y * R)
    out = out - 0.5 * z * x2 * _atan_ratio(y * z, x * R)
    out = out - x * y * R / 3.0
    return sx * sy * out


_STENCIL = np.array([-1, 0, 1])
_W = np.array([-1.0, 2.0, -1.0])


def _stencil_sum(fun, X, Y, Z, dx, dy, dz):
    """sum_{ijk} w_i w_j w_k fun(X + i dx, Y + j dy, Z + k dz) (the 27-point Newell stencil)."""
    acc = np.zeros(np.broadcast(X, Y, Z).shape)
    for i, wi in zip(_STENCIL, _W, strict=False):
        for j, wj in zip(_STENCIL, _W, strict=False):
            for k, wk in zip(_STENCIL, _W, strict=False):
                acc += wi * wj * wk * fun(X + i * dx, Y + j * dy, Z + k * dz)
    return acc


def _newell_components(X, Y, Z, dx, dy, dz):
    """The six tensor components (xx, yy, zz, xy, xz, yz) by Newell's formulas."""
    c = 1.0 / (4.0 * np.pi * dx * dy * dz)
    nxx = _stencil_sum(newell_f, X, Y, Z, dx, dy, dz)
    nyy = _stencil_sum(lambda a, b, e: newell_f(b, a, e), X, Y, Z, dx, dy, dz)
    nzz = _stencil_sum(lambda a, b, e: newell_f(e, b, a), X, Y, Z, dx, dy, dz)
    nxy = _stencil_sum(newell_g, X, Y, Z, dx, dy, dz)
    nxz = _stencil_sum(lambda a, b, e: newell_g(a, e, b), X, Y, Z, dx, dy, dz)
    nyz = _stencil_sum(lambda a, b, e: newell_g(b, e, a), X, Y, Z, dx, dy, dz)
    return c * np.stack([nxx, nyy, nzz, nxy, nxz, nyz])


def _triangle_rule(d, n=3):
    """Nodes and weights on [-d, d] for the weight (1 - |u|/d)/d (integrates to 1)."""
    xg, wg = np.polynomial.legendre.leggauss(n)
    u = 0.5 * d * (xg + 1.0)  # nodes on [0, d]
    w = 0.5 * d * wg * (1.0 - u / d) / d  # weight on [0, d]
    return np.concatenate([-u, u]), np.concatenate([w, w])


def _dipole_components(X, Y, Z, dx, dy, dz):
    """Cell-averaged dipole tensor N = (I r^2 - 3 r r) / (4 pi r^5) * V by quadrature."""
    V = dx * dy * dz
    ux, wx = _triangle_rule(dx)
    uy, wy = _triangle_rule(dy)
    uz, wz = _triangle_rule(dz)
    acc = np.zeros((6,) + np.broadcast(X, Y, Z).shape)
    for a, wa in zip(ux, wx, strict=False):
        for b, wb in zip(uy, wy, strict=False):
            for e, we in zip(uz, wz, strict=False):
                x, y, z = X + a, Y + b, Z + e
                r2 = x * x + y * y + z * z
                r5 = r2 * r2 * np.sqrt(r2)
                w = wa * wb * we * V / (4.0 * np.pi * r5)
                acc += w * np.stack(
                    [
                        r2 - 3 * x * x,
                        r2 - 3 * y * y,
                        r2 - 3 * z * z,
                        -3 * x * y,
                        -3 * x * z,
                        -3 * y * z,
                    ]
                )
    return acc


def demag_tensor(X, Y, Z, cell, far: float = 20.0) -> np.ndarray:
    """Demag tensor components (xx, yy, zz, xy, xz, yz) between cells a distance (X, Y, Z) apart.

    Args:
        X, Y, Z: centre-to-centre offsets [m], broadcastable float64 arrays.
        cell: (dx, dy, dz) cell edge lengths [m].
        far: distance, in units of the largest cell edge, beyond which the integrated-dipole
            quadrature replaces Newell's formula (its truncation error ~ (1/far)^6).
    Returns:
        float64 array of shape (6,) + broadcast shape; dimensionless (SI: H = -N M).
    """
    if len(cell) != 3:
        raise ValueError(f"cell must be (dx, dy, dz), got {cell!r}")
    for name, v in zip(("dx", "dy", "dz", "far"), (*cell, far), strict=True):
        check_static_positive(name, v)
    dx, dy, dz = (float(c) for c in cell)
    for name, v in (("X", X), ("Y", Y), ("Z", Z)):
        check_static_finite(name, v)
    X, Y, Z = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (X, Y, Z)))
    r = np.sqrt(X * X + Y * Y + Z * Z)
    is_far = r > far * max(dx, dy, dz)
    out = np.empty((6,) + X.shape)
    near = ~is_far
    if near.any():
        out[:, near] = _newell_components(X[near], Y[near], Z[near], dx, dy, dz)
    if is_far.any():
        out[:, is_far] = _dipole_components(X[is_far], Y[is_far], Z[is_far], dx, dy, dz)
    return out


def mesh_kernel(shape, cell, far: float = 20.0) -> np.ndarray:
    """Demag tensor on the zero-padded FFT grid of a (nx, ny, nz) mesh, in wrap-around order.

    Along each axis of length n > 1 the padded length is 2n (offsets 0..n-1, then -(n-1)..-1,
    one unused slot), so that a circular convolution equals the open-boundary one; an axis of
    length 1 stays 1.

    Returns:
        float64 array (6, Px, Py, Pz).
    """
    offs = []
    for n, d in zip(shape, cell, strict=False):
        if n == 1:
            offs.append(np.zeros(1))
        else:
            idx = np.concatenate([np.arange(n), [0], np.arange(-(n - 1), 0)])
            offs.append(idx * float(d))
    X, Y, Z = np.meshgrid(*offs, indexing="ij")
    K = demag_tensor(X, Y, Z, cell, far)
    for ax, n in enumerate(shape):  # zero the unused slot at index n of each padded axis
        if n > 1:
            sl = [slice(None)] * 4
            sl[ax + 1] = n
            K[tuple(sl)] = 0.0
    return K


def prism_demag_factors(a, b, c) -> np.ndarray:
    """Demag factors (N_xx, N_yy, N_zz) of a uniformly magnetized rectangular prism.

    Self term of Newell's tensor for a box of edges (a, b, c) [m]; N_xx + N_yy + N_zz = 1.
    Computed in NumPy: a, b, c must be concrete finite numbers > 0 (ValueError / TypeError).
    """
    for name, v in (("a", a), ("b", b), ("c", c)):
        check_static_positive(name, v)
    return demag_tensor(0.0, 0.0, 0.0, (a, b, c))[:3]
