r"""k-space and Cartesian reconstruction.

k-space position of a sample: ``k = gamma_bar int G dt`` [1/m] since the last excitation
(``gamma_bar = gamma / 2 pi``). A full Cartesian grid of samples (spacing ``1 / FOV``)
reconstructs by the centred inverse FFT ``image = fftshift(ifft2(ifftshift(k)))``.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_option, check_static_positive
from .._dtypes import complex_dtype
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


# --- reconstruction of any 2-D sampling -----------------------------------------------------
# A sample counts as on a lattice when it lies within _TOL grid units (of 1 / FOV) of it. Put on
# the lattice, its phase error across the image is at most 2 pi * _TOL / 2 = 3e-3 rad (the
# pypulseq files' 6-digit amplitudes move samples by ~1e-5 grid units).
_TOL = 1e-3


class Reconstruction(eqx.Module):
    """What :func:`reconstruct` returns.

    Attributes:
        image: [..., ny, nx] complex image (pixel value ~ sum of M over the pixel), or
            [..., n_rep, ny, nx] when the trajectory repeats ``n_rep`` times (e.g. slices).
        method: what was done, in words (Cartesian FFT with its grid offset and oversampling,
            partial-Fourier method, lattice gridding or NUFFT with density compensation).
    """

    image: jax.Array
    method: str = eqx.field(static=True)


def _clusters(u, tol):
    """Sorted centres of the groups of ``u`` closer than ``tol`` to each other."""
    s = np.sort(u)
    cut = np.nonzero(np.diff(s) > tol)[0] + 1
    return np.array([g.mean() for g in np.split(s, cut)])


def _fits(u, c, d, tol):
    """True if every ``u`` lies within ``tol`` of the lattice ``c + d n``."""
    return bool(np.max(np.abs(u - c - d * np.round((u - c) / d))) <= tol)


def _offset(u, d):
    """Lattice offset ``c`` in (-d/2, d/2] of positions ``u`` of spacing ``d`` (circular mean)."""
    return d * float(np.angle(np.mean(np.exp(2j * np.pi * u / d)))) / (2 * np.pi)


def _axis_plan(u, tol):
    """How an axis is sampled: ("fft", offset, oversampling), ("lattice", offset, spacing)
    or None (no lattice: non-Cartesian)."""
    centres = _clusters(u, tol)
    if len(centres) == 1:
        return ("fft", float(centres[0]), 1)
    d = float(np.median(np.diff(centres)))
    os = max(1, round(1.0 / d))
    c = _offset(u, 1.0 / os)
    if _fits(u, c, 1.0 / os, tol):
        return ("fft", c, os)
    c = _offset(u, d)
    if d > 4 * tol and _fits(u, c, d, tol):
        return ("lattice", c, d)
    return None


def _period(u, v, tol):
    """Number of times the trajectory repeats itself exactly (e.g. once per slice)."""
    n = len(u)
    for r in range(n, 1, -1):
        if n % r == 0:
            m = n // r
            if np.all(np.abs(u.reshape(r, m) - u[:m]) <= tol) and np.all(
                np.abs(v.reshape(r, m) - v[:m]) <= tol
            ):
                return r
    return 1


def _grid_size(n, other):
    """Points of an axis: the most samples of one line (fixed ``other`` index), at least
    twice the largest |index| (a partial-Fourier or asymmetric-echo range is completed)."""
    pairs = np.unique(np.stack([other, n]), axis=1)
    per_line = int(np.max(np.unique(pairs[0], return_counts=True)[1]))
    return max(per_line, 2 * int(max(-n.min(), n.max())), 1)


def _lead(a, like):
    """NumPy ``a`` as an array of ``like``'s dtype with ``like``'s leading axes (size 1)."""
    a = np.asarray(a)
    return jnp.asarray(a.reshape((1,) * (like.ndim - a.ndim) + a.shape), like.dtype)


def _centred(n):
    return np.arange(n) - n // 2


def _homodyne(grid, axis, a, b, recon):
    """Homodyne partial Fourier (Noll et al., IEEE TMI 10, 154 (1991)) along ``axis`` of a
    centred k-space sampled over indices [-a, b]: a Hann-windowed symmetric band |n| <= nc
    gives the phase phi; the step weights H(n) + H(-n) = 2 make ``Re(e^{-i phi} image)`` the
    full-resolution magnitude. Returns the complex image ``Re(...) e^{i phi}``."""
    size = grid.shape[axis]
    n = _centred(size) if b < a else -_centred(size)
    nc = min(a, b)
    H = np.where(n < -nc, 2.0, np.where(n > nc, 0.0, 1.0 - n / (nc + 1.0)))
    L = np.where(np.abs(n) <= nc, np.cos(np.pi * n / (2.0 * (nc + 1))) ** 2, 0.0)
    shape = [1, 1]
    shape[axis + 2 - grid.ndim] = size
    low = recon(grid * _lead(L.reshape(shape), grid))
    phase = low / jnp.maximum(jnp.abs(low), jnp.finfo(low.dtype).tiny).astype(low.dtype)
    full = recon(grid * _lead(H.reshape(shape), grid))
    return jnp.real(full * jnp.conj(phase)).astype(grid.dtype) * phase


def _partial_fourier(grid, idx, sizes, method, recon):
    """Image of a centred grid; homodyne (or zero filling) along an axis with >= 2 of its
    lines missing on one side. Returns (image, words)."""
    missing = [s - (int(i.max() - i.min()) + 1) for i, s in zip(idx, sizes, strict=True)]
    ax = int(np.argmax(missing))
    if missing[ax] < 2:
        return recon(grid), ""
    a, b = int(-idx[ax].min()), int(idx[ax].max())
    name = "xy"[ax]
    if method == "zero_fill" or min(a, b) < 1:
        return recon(grid), f", partial Fourier in {name} ({a + b + 1}/{sizes[ax]}): zero-filled"
    image = _homodyne(grid, grid.ndim - 1 - ax, a, b, recon)
    return image, f", partial Fourier in {name} ({a + b + 1}/{sizes[ax]}): homodyne"


def _cartesian(sig, uv, plans, fov, matrix, partial_fourier):
    """Centred-FFT image of samples on a (shifted, oversampled) Cartesian grid."""
    idx, sizes, os = [], [], []
    for ax in range(2):
        _, c, o = plans[ax]
        idx.append(np.round((uv[ax] - c) * o).astype(int))
        os.append(o)
    for ax in range(2):
        n = _grid_size(idx[ax], idx[1 - ax]) if matrix is None else int(matrix[ax]) * os[ax]
        sizes.append(n)
    keep = np.ones(len(idx[0]), bool)
    for i, n in zip(idx, sizes, strict=True):
        keep &= (i >= -(n // 2)) & (i <= n // 2)
    ix, iy = ((i[keep] + n // 2) % n for i, n in zip(idx, sizes, strict=True))
    nx, ny = sizes
    lead = sig.shape[:-1]
    grid = jnp.zeros(lead + (ny, nx), sig.dtype).at[..., iy, ix].add(sig[..., keep])
    count = np.zeros((ny, nx))
    np.add.at(count, (iy, ix), 1.0)
    grid = grid * _lead(1.0 / np.maximum(count, 1.0), grid)

    def recon(g):
        return jnp.reshape(reconstruct_cartesian(jnp.reshape(g, lead + (-1,)), (nx, ny)), g.shape)

    image, pf = _partial_fourier(grid, [i[keep] for i in idx], sizes, partial_fourier, recon)
    # undo the grid offset c: e^{2 pi i c x / FOV} with x / FOV = p * os / n at pixel p
    ramp = [
        np.exp(2j * np.pi * plans[ax][1] * _centred(sizes[ax]) * os[ax] / sizes[ax])
        for ax in range(2)
    ]
    image = image * _lead(ramp[1][:, None] * ramp[0][None, :], image)
    crop = [
        slice(n // 2 - (n // o) // 2, n // 2 - (n // o) // 2 + n // o)
        for n, o in zip(sizes, os, strict=True)
    ]
    image = image[..., crop[1], crop[0]]
    words = (
        f"Cartesian FFT, grid offset ({plans[0][1]:.3g}, {plans[1][1]:.3g}) steps, "
        f"readout oversampling ({os[0]}, {os[1]}) cropped{pf}"
    )
    return image, words


def _noncartesian(sig, uv, plans, matrix):
    """Adjoint NUFFT image (lattice area per sample, or Pipe-Menon density)."""
    from ._nufft import nufft_adjoint, pipe_menon_weights

    if matrix is None:
        matrix = tuple(max(1, 2 * int(np.floor(np.max(np.abs(u)) + 0.5))) for u in uv)
    nx, ny = (int(m) for m in matrix)
    if plans[0] is not None and plans[1] is not None:
        d = [p[2] if p[0] == "lattice" else 1.0 / p[2] for p in plans]
        w = np.full(len(uv[0]), d[0] * d[1])
        words = (
            f"gridding (adjoint NUFFT): samples on a lattice of ({d[0]:.4g}, {d[1]:.4g}) "
            "grid steps, not the 1/FOV grid; area per sample = lattice cell"
        )
    else:
        w = pipe_menon_weights(uv[0], uv[1])
        words = "non-Cartesian: adjoint NUFFT (finufft) with Pipe-Menon density compensation"
    image = nufft_adjoint(np.asarray(sig), uv[0], uv[1], (ny, nx), w)
    return jnp.asarray(image, sig.dtype), words


def reconstruct(
    signal, kspace, fov, matrix=None, *, partial_fourier="homodyne", tol=_TOL
) -> Reconstruction:
    """Image of 2-D k-space samples in any order: Cartesian by FFT, anything else by NUFFT.

    Positions in grid units ``u = k_x FOV_x``, ``v = k_y FOV_y``. Per axis:

    - on a lattice ``c + n / os`` (any offset c, e.g. the half-integer grid of a symmetric
      readout or a FOV shift; integer ``os`` >= 1 readout oversampling) within ``tol``: the
      samples are placed on the grid (repeats averaged, missing points zero) and
      reconstructed by the centred FFT (:func:`reconstruct_cartesian`, differentiable in
      JAX), the offset undone by ``e^{2 pi i c x / FOV}`` and the oversampled FOV cropped.
      The grid has the most samples of one line, or twice the largest |index| if more (EPI
      lines of opposite direction covering -n/2..n/2 wrap onto n points; a partial-Fourier
      range is completed). With 2 or more lines missing on one side: ``partial_fourier=
      "homodyne"`` (default, Noll 1991, real-valued magnitude) or ``"zero_fill"``;
    - on another regular lattice (e.g. echoes at 0.994 of the 1/FOV step): gridding by the
      adjoint NUFFT, each sample weighted by the lattice cell (no nearest-grid error);
    - otherwise (radial, spiral): adjoint NUFFT with Pipe-Menon density compensation
      (``_nufft``).

    A trajectory repeated r times (slices, repetitions) gives r images.

    Args:
        signal: [..., n_adc] complex samples (leading axes, e.g. coils, are kept).
        kspace: [n_adc, 2 or 3] positions [1/m] (:func:`kspace_trajectory`); kz must be
            constant (2-D).
        fov: (fx, fy) field of view [m]; the Cartesian step is ``1 / fov``. A third entry
            fz [m] (slice or slab thickness, the file's ``FOV`` z) sets the scale of the 2-D
            check: k-space is 3-D when ``ptp(kz) fz > 1/4`` cycle (default fz = max(fx, fy));
            crushers around refocusing pulses leave a small kz spread in 2-D sequences.
        matrix: (nx, ny) image size; default from the samples (see above).
        partial_fourier: "homodyne" or "zero_fill".
        tol: lattice tolerance [grid steps].
    Returns:
        :class:`Reconstruction` (image, method in words).
    Raises:
        ValueError: no samples, shapes that do not match, 3-D k-space, non-finite positions,
            all samples at one k-space position (an FID).
    """
    check_option("partial_fourier", partial_fourier, ("homodyne", "zero_fill"))
    k = np.asarray(kspace, float)
    sig = jnp.asarray(signal)
    sig = sig.astype(complex_dtype(jnp.real(sig).dtype))
    if k.ndim != 2 or k.shape[1] not in (2, 3) or k.shape[0] == 0:
        raise ValueError(f"kspace must have shape (n_adc >= 1, 2 or 3), got {k.shape}")
    if sig.ndim < 1 or sig.shape[-1] != k.shape[0]:
        raise ValueError(f"signal must have shape (..., {k.shape[0]}), got {sig.shape}")
    if not np.all(np.isfinite(k)):
        raise ValueError("kspace has non-finite positions")
    if len(fov) not in (2, 3):
        raise ValueError(f"fov must be (fx, fy) or (fx, fy, fz), got {fov!r}")
    fx, fy = (float(f) for f in fov[:2])
    fz = float(fov[2]) if len(fov) == 3 else max(fx, fy)
    check_static_positive("fov", min(fx, fy, fz))
    if k.shape[1] == 3 and np.ptp(k[:, 2]) * fz > 0.25:
        raise ValueError(
            f"3-D k-space (kz spans {np.ptp(k[:, 2]):.3g} 1/m): only 2-D images are reconstructed"
        )
    u, v = k[:, 0] * fx, k[:, 1] * fy
    r = _period(u, v, tol)
    m = len(u) // r
    if m == 1:
        raise ValueError("no spatial encoding: every sample is at the same k-space position")
    uv = (u[:m], v[:m])
    sig = jnp.reshape(sig, sig.shape[:-1] + (r, m))
    plans = (_axis_plan(uv[0], tol), _axis_plan(uv[1], tol))
    if all(p is not None and p[0] == "fft" for p in plans):
        image, words = _cartesian(sig, uv, plans, (fx, fy), matrix, partial_fourier)
    else:
        image, words = _noncartesian(sig, uv, plans, matrix)
    if r == 1:
        image = image[..., 0, :, :]
    else:
        words += f"; trajectory repeated {r} times: {r} images"
    return Reconstruction(image, words)
