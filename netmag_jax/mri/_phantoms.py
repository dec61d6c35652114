r"""Numerical phantoms: a Shepp-Logan-style head with tissue T1/T2/PD, and a cylinder.

Tissue values at 3 T (approximate literature values):

=============  ======  ======  ====  ==================================================
tissue         T1 [s]  T2 [s]  PD    source
=============  ======  ======  ====  ==================================================
white matter   0.832   0.080   0.69  Wansapura et al., JMRI 9, 531 (1999) (T1, T2);
                                     PD: Tofts (ed.), Quantitative MRI of the Brain
gray matter    1.331   0.110   0.80  Wansapura et al. (1999)
CSF            4.16    2.0     1.00  T1: Lu et al., JMRI 22, 13 (2005) ~4.2 s; T2 ~2 s
fat (scalp)    0.382   0.068   0.90  Gold et al., AJR 183, 343 (2004), subcutaneous fat
=============  ======  ======  ====  ==================================================
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import TYPE_CHECKING, Any, TypedDict

import jax.numpy as jnp
import numpy as np

from .._checks import check_static_positive
from ..constants import GAMMA_1H_HZ
from ._spins import Spins

if TYPE_CHECKING:
    from typing_extensions import Unpack

TISSUES = {
    "white_matter": dict(T1=0.832, T2=0.080, PD=0.69),
    "gray_matter": dict(T1=1.331, T2=0.110, PD=0.80),
    "csf": dict(T1=4.16, T2=2.0, PD=1.00),
    "fat": dict(T1=0.382, T2=0.068, PD=0.90),
}

# Modified Shepp-Logan ellipses (Toft): centre (x0, y0), semi-axes (a, b), angle [deg], tissue
_ELLIPSES = [
    (0.0, 0.0, 0.69, 0.92, 0.0, "fat"),
    (0.0, -0.0184, 0.6624, 0.874, 0.0, "white_matter"),
    (0.22, 0.0, 0.11, 0.31, -18.0, "csf"),
    (-0.22, 0.0, 0.16, 0.41, 18.0, "csf"),
    (0.0, 0.35, 0.21, 0.25, 0.0, "gray_matter"),
    (0.0, 0.1, 0.046, 0.046, 0.0, "gray_matter"),
    (0.0, -0.1, 0.046, 0.046, 0.0, "gray_matter"),
    (-0.08, -0.605, 0.046, 0.023, 0.0, "gray_matter"),
    (0.0, -0.606, 0.023, 0.023, 0.0, "gray_matter"),
    (0.06, -0.605, 0.023, 0.046, 0.0, "gray_matter"),
]
_NAMES = ["background"] + list(TISSUES)


@dataclasses.dataclass
class Phantom:
    """A 2D phantom on an n x n pixel grid and its isochromats.

    Attributes:
        spins: :class:`Spins` (``n_sub`` isochromats per non-empty pixel, spread in z).
        labels: [n, n] int tissue index into ``tissue_names`` (0 = background), [y, x].
        pd, T1, T2: [n, n] maps (0 outside the object).
        fov: field of view [m]. tissue_names: names of the label values.
        pixel: [N] flat pixel index (y * n + x) of every isochromat.
        n_sub: isochromats per pixel, spread in z over ``slice_thickness`` [m].
    """

    spins: Spins
    labels: np.ndarray
    pd: np.ndarray
    T1: np.ndarray
    T2: np.ndarray
    fov: float
    tissue_names: list
    pixel: np.ndarray
    n_sub: int = 1
    slice_thickness: float = 5e-3


def _grid(n, fov):
    c = (np.arange(n) - n / 2) * (fov / n)  # pixel centres, k-space convention (0 at n/2)
    return np.meshgrid(c, c, indexing="xy")


class PhantomOptions(TypedDict, total=False):
    """Keyword options of the phantoms (:func:`shepp_logan`, :func:`cylinder`), all optional.

    Attributes:
        n_sub: isochromats per pixel (1), spread evenly in z over ``slice_thickness`` [m]
            (5e-3). One suits balanced and unspoiled sequences; gradient-spoiled ones need
            :func:`spoiling_isochromats` of them (``netmag simulate`` picks that number by
            default, :func:`simulate_seq` warns with :class:`SpoilingWarning`).
        B0: field [T] (3.0) and temperature [K] (310.0) of the Curie-law M0.
        dtype: float dtype (default: JAX default float).
        off_resonance: [Hz], scalar (0.0).
    """

    n_sub: int
    slice_thickness: float
    B0: float
    temperature: float
    dtype: Any
    off_resonance: float


def _build(
    labels,
    fov,
    *,
    n_sub=1,
    slice_thickness=5e-3,
    B0=3.0,
    temperature=310.0,
    dtype=None,
    off_resonance=0.0,
):
    """Phantom of a label map: tissue maps and isochromats (see :class:`PhantomOptions`)."""
    dtype = jnp.result_type(float) if dtype is None else dtype
    n = labels.shape[0]
    X, Y = _grid(n, fov)
    pd = np.zeros(labels.shape)
    T1 = np.zeros(labels.shape)
    T2 = np.zeros(labels.shape)
    for i, name in enumerate(_NAMES[1:], start=1):
        m = labels == i
        pd[m], T1[m], T2[m] = TISSUES[name]["PD"], TISSUES[name]["T1"], TISSUES[name]["T2"]
    mask = labels > 0
    pix = np.nonzero(mask.ravel())[0]
    n_sub = int(n_sub)
    if n_sub < 1:
        raise ValueError("n_sub must be >= 1")
    z = (np.arange(n_sub) + 0.5) / n_sub * slice_thickness - slice_thickness / 2
    P = np.repeat(pix, n_sub)
    Z = np.tile(z, len(pix))
    pos = np.stack([X.ravel()[P], Y.ravel()[P], Z], -1)
    spins = Spins(
        jnp.asarray(pos, dtype=dtype),
        jnp.asarray(T1.ravel()[P], dtype=dtype),
        jnp.asarray(T2.ravel()[P], dtype=dtype),
        proton_density=jnp.asarray(pd.ravel()[P] / n_sub, dtype=dtype),
        B0=B0,
        temperature=temperature,
        off_resonance=off_resonance,
    )
    return Phantom(spins, labels, pd, T1, T2, fov, list(_NAMES), P, n_sub, float(slice_thickness))


def shepp_logan(n=64, fov=0.24, **options: Unpack[PhantomOptions]) -> Phantom:
    """2D modified Shepp-Logan head (Toft's ellipses) with 3 T tissue values (module table).

    The head ellipse spans 0.92 of the half field of view. M0 of each isochromat is the
    Curie-law water value at (B0, temperature) times the tissue PD / ``n_sub``.

    Args:
        n: pixels per side. fov: field of view [m].
        **options: keywords of :class:`PhantomOptions` (``n_sub``, ``slice_thickness`` [m],
            ``B0`` [T], ``temperature`` [K], ``dtype``, ``off_resonance`` [Hz]).
    """
    if int(n) < 2:
        raise ValueError("n must be >= 2")
    check_static_positive("fov", fov)
    X, Y = _grid(int(n), 2.0)  # normalised coordinates in [-1, 1), row index <-> y
    labels = np.zeros((n, n), dtype=int)
    for x0, y0, a, b, ang, name in _ELLIPSES:
        t = np.deg2rad(ang)
        xr = (X - x0) * np.cos(t) + (Y - y0) * np.sin(t)
        yr = -(X - x0) * np.sin(t) + (Y - y0) * np.cos(t)
        labels[(xr / a) ** 2 + (yr / b) ** 2 <= 1.0] = _NAMES.index(name)
    return _build(labels, fov, **options)


def cylinder(
    n=32, fov=0.2, radius=0.06, tissue="gray_matter", **options: Unpack[PhantomOptions]
) -> Phantom:
    """A uniform disc (cross-section of a cylinder) of one tissue, radius [m], in an n x n grid.

    ``fov`` [m]; ``options`` as for :func:`shepp_logan`.
    """
    if tissue not in TISSUES:
        raise ValueError(f"tissue must be one of {tuple(TISSUES)}, got {tissue!r}")
    check_static_positive("radius", radius)
    X, Y = _grid(int(n), fov)
    labels = np.where(radius**2 >= X**2 + Y**2, _NAMES.index(tissue), 0)
    if not labels.any():
        raise ValueError("the cylinder covers no pixel")
    return _build(labels, fov, **options)


class SpoilingWarning(UserWarning):
    """Gradient spoilers meet too few isochromats per voxel: spoiled echo pathways re-phase."""


def spoiling_isochromats(seq, slice_thickness):
    r"""Isochromats along z per voxel that make the gradient spoiling of ``seq`` exact.

    With ``n`` isochromats evenly spread over the slice thickness ``T``, an echo pathway that
    has collected ``p`` spoiler moments of ``c`` cycles across the slice sums to
    ``sum_j e^{2 pi i p c (j + 1/2) / n}``: zero unless ``p c`` is a multiple of ``n``. All
    pathways of the ``n_exc`` excitations cancel (the EPG result) when
    ``n > c_max (n_exc - 1)``, ``c_max = gamma_bar |int G_z dt| T`` the largest net z moment
    between excitations in cycles. In-plane spoilers dephase across the pixel, where the
    phantoms place one isochromat; they count through ``c_xy`` below.

    Args:
        seq: :class:`Sequence`. slice_thickness: z extent of the isochromats [m].
    Returns:
        (n_needed, c_z, c_xy): isochromats needed along z (1 if no z spoiling), the largest
        net z moment between excitations in cycles per voxel, and the largest in-plane one in
        cycles per metre (multiply by the pixel size).
    """
    rf = np.abs(np.asarray(seq.rf)) > 0
    starts = np.nonzero(rf & ~np.concatenate([[False], rf[:-1]]))[0]
    if len(starts) < 2:
        return 1, 0.0, 0.0
    m = np.asarray(seq.gradient) * np.asarray(seq.dt)[:, None]
    moments = np.abs(np.add.reduceat(m, starts, axis=0))[:-1] * GAMMA_1H_HZ  # per TR [1/m]
    c_z = float(moments[:, 2].max() * slice_thickness)
    c_xy = float(moments[:, :2].max())
    if c_z < 0.5:
        return 1, c_z, c_xy
    return int(np.ceil(c_z * (len(starts) - 1))) + 1, c_z, c_xy


def check_spoiling(seq, phantom: Phantom):
    """Warn (:class:`SpoilingWarning`) when ``seq``'s spoilers dephase a voxel by more than
    one cycle per TR and the phantom has too few isochromats (:func:`spoiling_isochromats`)."""
    n_sub = phantom.n_sub
    need, c_z, c_xy = spoiling_isochromats(seq, phantom.slice_thickness)
    pixel = phantom.fov / phantom.labels.shape[0]
    if c_z > 1.0 and n_sub < need:
        msg = (
            f"spoiler gradients dephase the slice by {c_z:.3g} cycles per TR but the phantom has "
            f"n_sub={n_sub} isochromats per voxel: echo pathways re-phase; n_sub >= {need} "
            "makes the spoiling exact"
        )
        warnings.warn(msg, SpoilingWarning, stacklevel=3)
    elif c_z <= 1.0 and c_xy * pixel > 1.0:
        msg = (
            f"in-plane spoilers dephase a pixel by {c_xy * pixel:.3g} cycles per TR but the "
            "phantoms spread isochromats only in z: spoiling is not simulated; add a z spoiler"
        )
        warnings.warn(msg, SpoilingWarning, stacklevel=3)
