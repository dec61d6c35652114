r"""k-space and Cartesian reconstruction.

k-space position of a sample: ``k = gamma_bar int G dt`` [1/m] since the last excitation
(``gamma_bar = gamma / 2 pi``). A full Cartesian grid of samples (spacing ``1 / FOV``)
reconstructs by the centred inverse FFT ``image = fftshift(ifft2(ifftshift(k)))``.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ._kspace import kspace_trajectory as kspace_trajectory


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
