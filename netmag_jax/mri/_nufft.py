r"""Non-Cartesian reconstruction: adjoint NUFFT (finufft) with density compensation.

Coordinates are in grid units ``u = k_x FOV_x``, ``v = k_y FOV_y`` (one unit = one Cartesian
step ``1 / FOV``). The image on an ``nx x ny`` grid, pixel centres ``x = (i - nx/2) FOV_x /
nx`` (the centred-FFT convention of :func:`reconstruct_cartesian`), is the density-weighted
adjoint NUFFT

.. math::
    m(x_i, y_j) = \frac{1}{n_x n_y} \sum_s w_s\, d_s\,
        e^{+2\pi i (u_s x_i / FOV_x + v_s y_j / FOV_y)},

with ``w_s`` the k-space area of sample ``s`` in grid cells (``w = 1`` on a full Cartesian
grid, where the sum is the inverse DFT of :func:`reconstruct_cartesian`).

Why finufft: it is maintained (Flatiron Institute), pip-installable with wheels, and exact to
a requested tolerance (``eps = 1e-9`` here: the image error is at round-off level next to the
physics). Measured on 2 heavily loaded shared CPU cores, adjoint 2-D NUFFT of 8192 random
samples to a 64 x 64 image: finufft 8.5 ms with one thread (relative error 7e-10 against
the direct sum; 140 ms with two threads fighting the load, hence one thread below 2e5
samples), sigpy ``nufft_adjoint`` (Kaiser-Bessel, numba) 15-23 ms with error 7e-3, the
direct NumPy sum 5 s. It runs on NumPy arrays (not differentiable through JAX); the
Cartesian path of :func:`reconstruct` is.

Density compensation (Pipe & Menon, MRM 41, 179 (1999)): iterate ``w <- w / (C w)``,
``(C w)_s = sum_t w_t c(|k_s - k_t|)`` with the Gaussian kernel ``c(r) = exp(-r^2 / 2
sigma^2)`` cut at ``R = 1.5`` grid units, ``sigma = 0.45`` (a kernel with a positive Fourier
transform converges; the compact polynomial ``(1 - r^2/R^2)^2`` oscillated near the k-space
edge; sigma about half the Nyquist step suits trajectories sampled at Nyquist: on a 32-spoke
radial disc the image NRMSE was 0.101 against 0.092 with the analytic ``pi |k| dk / n_spokes``
weights and 0.082 Cartesian). At convergence the kernel-smoothed density is flat,
``C w = 1``, and ``w int c`` is the area per sample (1 on a Cartesian grid, the scale above).
"""

from __future__ import annotations

import numpy as np

_EPS = 1e-9  # finufft tolerance (relative l2 error of the transform)
_SIGMA, _RADIUS = 0.45, 1.5  # Pipe-Menon Gaussian kernel width and cut-off [grid units]


def _finufft():
    try:
        import finufft
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "non-Cartesian reconstruction needs finufft: pip install 'netmag_jax[mri]'"
        ) from None
    return finufft


def nufft_adjoint(data, u, v, shape, weights=None):
    """Density-weighted adjoint NUFFT of 2-D k-space samples (module equation).

    Args:
        data: [..., n] complex samples.
        u, v: [n] sample positions in grid units (``k_x FOV_x``, ``k_y FOV_y``).
        shape: (ny, nx) image size.
        weights: [n] k-space area per sample in grid cells (default 1).
    Returns:
        [..., ny, nx] complex NumPy image.
    """
    finufft = _finufft()
    ny, nx = (int(s) for s in shape)
    d = np.asarray(data, complex)
    w = np.ones(d.shape[-1]) if weights is None else np.asarray(weights, float)
    batch = d.shape[:-1]
    flat = (d * w).reshape(-1, d.shape[-1]) / (nx * ny)
    # finufft type 1: f[k1, k2] = sum_s c_s exp(+i (k1 x_s + k2 y_s)), k1 in [-n1/2, n1/2)
    xs = 2 * np.pi * np.asarray(v, float) / ny  # first output axis: y
    ys = 2 * np.pi * np.asarray(u, float) / nx
    threads = 1 if d.shape[-1] < 200_000 else 0  # 0: all cores
    out = finufft.nufft2d1(xs, ys, flat, (ny, nx), isign=1, eps=_EPS, nthreads=threads)
    return np.reshape(out, batch + (ny, nx))


def _kernel_matrix(u, v, sigma, radius):
    """Sparse symmetric matrix ``c(|k_s - k_t|)`` of all pairs closer than ``radius``."""
    from scipy.sparse import coo_matrix
    from scipy.spatial import KDTree

    pts = np.stack([u, v], -1)
    pairs = KDTree(pts).query_pairs(radius, output_type="ndarray")
    r2 = np.sum((pts[pairs[:, 0]] - pts[pairs[:, 1]]) ** 2, -1)
    c = np.exp(-r2 / (2 * sigma**2))
    n = len(u)
    i = np.concatenate([pairs[:, 0], pairs[:, 1], np.arange(n)])
    j = np.concatenate([pairs[:, 1], pairs[:, 0], np.arange(n)])
    val = np.concatenate([c, c, np.ones(n)])
    return coo_matrix((val, (i, j)), shape=(n, n)).tocsr()


def pipe_menon_weights(u, v, n_iter=60, sigma=_SIGMA, radius=_RADIUS):
    """Density compensation weights [n], area per sample in grid cells (module docstring).

    Args:
        u, v: [n] sample positions in grid units. n_iter: fixed-point iterations.
        sigma, radius: Gaussian kernel width and cut-off [grid units].
    """
    u = np.asarray(u, float)
    v = np.asarray(v, float)
    C = _kernel_matrix(u, v, sigma, radius)
    w = 1.0 / np.asarray(C.sum(axis=1)).ravel()
    for _ in range(int(n_iter)):
        w = w / (C @ w)
    area = 2 * np.pi * sigma**2 * (1.0 - np.exp(-(radius**2) / (2 * sigma**2)))
    return w * area
