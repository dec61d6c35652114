r"""k-space and Cartesian reconstruction.

k-space position of a sample: ``k = gamma_bar int G dt`` [1/m] since the last excitation
(``gamma_bar = gamma / 2 pi``). A full Cartesian grid of samples (spacing ``1 / FOV``)
reconstructs by the centred inverse FFT ``image = fftshift(ifft2(ifftshift(k)))``.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ..constants import GAMMA_1H_HZ
from ._sequences import Sequence


def kspace_trajectory(seq: Sequence, reset_on_rf=True):
    """k-space position ``gamma_bar int G dt`` [1/m] at the ADC samples, [n_adc, 3].

    The integral restarts at the centre of every RF pulse (excitation) when ``reset_on_rf``.
    """
    g = np.asarray(seq.gradient)
    dt = np.asarray(seq.dt)
    rf_on = np.abs(np.asarray(seq.rf)) > 0
    k = np.zeros(3)
    out = np.zeros((len(dt), 3))
    i = 0
    n = len(dt)
    while i < n:
        if reset_on_rf and rf_on[i]:
            j = i
            while j < n and rf_on[j]:
                j += 1
            # restart at the pulse centre: keep only the second half of the pulse's moment
            tc = 0.5 * dt[i:j].sum()
            k = np.zeros(3)
            t = 0.0
            for s in range(i, j):
                lo, hi = t, t + dt[s]
                k = k + GAMMA_1H_HZ * g[s] * max(0.0, hi - max(lo, tc))
                out[s] = k
                t = hi
            i = j
            continue
        k = k + GAMMA_1H_HZ * g[i] * dt[i]
        out[i] = k
        i += 1
    return out[np.asarray(seq.adc, int)]


def reconstruct_cartesian(signal, matrix):
    """Image from a centred Cartesian k-space [ny, nx]: ``fftshift(ifft2(ifftshift(k)))``.

    Args:
        signal: [..., ny * nx] complex samples in acquisition order (line by line).
        matrix: (nx, ny).
    Returns:
        [..., ny, nx] complex image (pixel values ~ sum of M over the pixel).
    """
    nx, ny = matrix
    k = jnp.reshape(signal, signal.shape[:-1] + (ny, nx))
    return jnp.fft.fftshift(jnp.fft.ifft2(jnp.fft.ifftshift(k, axes=(-2, -1))), axes=(-2, -1))


def _cartesian_grid(k, fov, tol=1e-3):
    """Integer grid indices (ix, iy) of k-space samples if they form a full Cartesian grid."""
    kx, ky = k[:, 0] * fov[0], k[:, 1] * fov[1]
    ix, iy = np.round(kx), np.round(ky)
    if np.max(np.abs(kx - ix)) > tol or np.max(np.abs(ky - iy)) > tol:
        return None
    ix, iy = ix.astype(int), iy.astype(int)
    nx, ny = ix.max() - ix.min() + 1, iy.max() - iy.min() + 1
    if nx * ny != len(ix) or len(set(zip(ix, iy, strict=False))) != len(ix):
        return None
    return ix - ix.min(), iy - iy.min(), (int(nx), int(ny))


def cartesian_image(signal, kspace, fov):
    """Image of samples on a full Cartesian grid (in any order), or None if they are not.

    Args:
        signal: [..., n_adc] complex samples.
        kspace: [n_adc, 3] sample positions [1/m] (:func:`kspace_trajectory`).
        fov: (fx, fy) field of view [m]; the grid spacing is ``1 / fov``.
    Returns:
        [..., ny, nx] complex image (:func:`reconstruct_cartesian`), or None.
    """
    grid = _cartesian_grid(kspace, fov)
    if grid is None:
        return None
    ix, iy, (nx, ny) = grid
    sig = np.asarray(signal)
    kgrid = np.zeros(sig.shape[:-1] + (ny, nx), complex)
    kgrid[..., iy, ix] = sig
    return reconstruct_cartesian(jnp.asarray(kgrid.reshape(sig.shape[:-1] + (-1,))), (nx, ny))
