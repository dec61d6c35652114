"""Design targets: the quantity a pulse should produce over positions x off-resonances x B1.

A :class:`Target` holds the grid (positions x [m] (P,), off-resonances df [Hz] (F,), B1
transmit scales s (S,)), the target value and a weight on the (S, F, P) grid, and which
quantity is matched (``Target.kind``): ``"mz"`` (M_z from equilibrium), ``"mxy"`` (complex
M_x + i M_y after a rewinder of ``Target.rewind`` times the gradient moment), ``"mxy_abs"``
(|M_xy|), ``"beta_sq"`` (beta^2, the spin-echo refocusing criterion
M_xy+ = -beta^2 conj(M_xy-)), ``"alpha"``/``"beta"`` (Cayley-Klein parameters).
:func:`slice_target` and :func:`uniform_target` build the usual ones.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..._checks import check_ndim, check_option, check_static_positive

_KINDS = ("mz", "mxy", "mxy_abs", "beta_sq", "alpha", "beta")
_COMPLEX_KINDS = ("mxy", "beta_sq", "alpha", "beta")


class Target(eqx.Module):
    """A target profile over positions x off-resonances x B1 scales.

    Attributes:
        kind: which quantity is matched: one of "mz", "mxy", "mxy_abs", "beta_sq", "alpha",
            "beta" (see the module docstring).
        positions: positions x along the gradient axis [m], shape (P,).
        off_resonance: off-resonance frequencies df [Hz], shape (F,).
        b1_scale: B1 transmit scales s (dimensionless), shape (S,).
        value: target values (complex for "mxy", "beta_sq", "alpha", "beta"), shape (S, F, P).
        weight: non-negative weights, shape (S, F, P) (0 = don't care, e.g. transition band).
        rewind: fraction of the pulse's gradient moment undone after the pulse (0.5 for a
            slice-selective excitation, 0 otherwise); static.
        flip_angle: the largest flip angle [rad] the target asks for (for the feasibility
            check), or None to infer it from ``value``; static.
    """

    positions: jax.Array
    off_resonance: jax.Array
    b1_scale: jax.Array
    value: jax.Array
    weight: jax.Array
    kind: str = eqx.field(static=True)
    rewind: float = eqx.field(static=True, default=0.0)
    flip_angle: float | None = eqx.field(static=True, default=None)

    def __init__(
        self,
        kind,
        positions,
        value,
        weight=None,
        off_resonance=(0.0,),
        b1_scale=(1.0,),
        rewind=0.0,
        flip_angle=None,
    ):
        check_option("kind", kind, _KINDS)
        positions = np.atleast_1d(np.asarray(positions, float))
        off_resonance = np.atleast_1d(np.asarray(off_resonance, float))
        b1_scale = np.atleast_1d(np.asarray(b1_scale, float))
        for name, arr in (
            ("positions", positions),
            ("off_resonance", off_resonance),
            ("b1_scale", b1_scale),
        ):
            check_ndim(name, arr, 1)
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{name} must be finite")
        if np.any(b1_scale <= 0):
            raise ValueError("b1_scale must be > 0")
        full = (b1_scale.size, off_resonance.size, positions.size)
        value = np.asarray(value)
        if kind not in _COMPLEX_KINDS and np.iscomplexobj(value):
            raise ValueError(f"target kind {kind!r} is real, got a complex value")
        value = _broadcast_target("value", value, full)
        weight = (
            np.ones(full)
            if weight is None
            else _broadcast_target("weight", np.asarray(weight, float), full)
        )
        if not np.all(np.isfinite(value)) or not np.all(np.isfinite(weight)):
            raise ValueError("target value and weight must be finite")
        if np.any(weight < 0) or not np.any(weight > 0):
            raise ValueError("weights must be >= 0 with at least one > 0")
        self.kind = kind
        self.positions = jnp.asarray(positions)
        self.off_resonance = jnp.asarray(off_resonance)
        self.b1_scale = jnp.asarray(b1_scale)
        self.value = jnp.asarray(
            value.astype(complex) if kind in _COMPLEX_KINDS else value.astype(float)
        )
        self.weight = jnp.asarray(weight)
        self.rewind = float(rewind)
        self.flip_angle = None if flip_angle is None else float(flip_angle)

    def required_flip_angle(self) -> float:
        """Largest rotation angle [rad] that the weighted target asks for (0 if none)."""
        if self.flip_angle is not None:
            return self.flip_angle
        v = np.asarray(self.value)
        w = np.asarray(self.weight) > 0
        if self.kind == "mz":
            ang = np.arccos(np.clip(np.real(v), -1, 1))
        elif self.kind in ("mxy", "mxy_abs"):
            ang = np.arcsin(np.clip(np.abs(v), 0, 1))
        elif self.kind in ("beta_sq",):
            ang = 2 * np.arcsin(np.clip(np.sqrt(np.abs(v)), 0, 1))
        elif self.kind == "beta":
            ang = 2 * np.arcsin(np.clip(np.abs(v), 0, 1))
        else:  # alpha
            ang = 2 * np.arccos(np.clip(np.abs(v), 0, 1))
        return float(np.max(np.where(w, ang, 0.0)))


def _broadcast_target(name, arr, full):
    s = arr.shape
    ok = len(s) <= 3 and s == full[3 - len(s) :] if len(s) else False
    if not ok:
        raise ValueError(
            f"target {name} must have shape (P,), (F, P) or (S, F, P) = "
            f"{full[2:]}, {full[1:]} or {full} (S B1 scales, F off-resonances, "
            f"P positions), got {s}"
        )
    return np.broadcast_to(arr, full).copy()


def _flip_value(kind, flip, phase):
    """Ideal value of ``kind`` for a rotation by ``flip`` [rad] about the axis at ``phase``."""
    if kind == "mz":
        return np.cos(flip)
    if kind == "mxy":
        return 1j * np.exp(1j * phase) * np.sin(flip)
    if kind == "mxy_abs":
        return abs(np.sin(flip))
    if kind == "beta_sq":
        return -np.exp(2j * phase) * np.sin(flip / 2) ** 2
    if kind == "beta":
        return 1j * np.exp(1j * phase) * np.sin(flip / 2)
    return np.cos(flip / 2) + 0j


_DEFAULT_KIND = {
    "excitation": "mxy",
    "inversion": "mz",
    "refocusing": "beta_sq",
    "saturation": "mz",
}


def _pulse_defaults(pulse, kind, flip_angle, phase):
    """(kind, flip angle [rad], ideal value inside the target) for a pulse type."""
    check_option("pulse", pulse, tuple(_DEFAULT_KIND))
    kind = _DEFAULT_KIND[pulse] if kind is None else kind
    if flip_angle is None:
        flip_angle = math.pi / 2 if pulse in ("excitation", "saturation") else math.pi
    saturate = pulse == "saturation" and kind == "mz"
    return kind, flip_angle, 0.0 if saturate else _flip_value(kind, flip_angle, phase)


def slice_target(
    pulse,
    thickness,
    *,
    flip_angle=None,
    transition=0.25,
    fov=None,
    n_positions=201,
    phase=0.0,
    off_resonance=(0.0,),
    b1_scale=(1.0,),
    stopband_weight=1.0,
    kind=None,
):
    """Slice-profile target: the ideal rotation inside |x| < thickness/2, none outside.

    The transition band thickness/2 (1 -/+ transition/2) < |x| gets zero weight.

    Args:
        pulse: "excitation" (default kind "mxy" with a rewinder of half the gradient moment),
            "inversion" ("mz"), "refocusing" ("beta_sq"), "saturation" ("mz" = 0 in slice).
        thickness: slice thickness [m].
        flip_angle: flip angle [rad]; default pi/2 (excitation, saturation) or pi.
        transition: fractional width of the transition band (relative to thickness).
        fov: extent of the position grid [m], default 4 x thickness.
        n_positions: number of positions P.
        phase: phase of the rotation axis [rad] (0 = +x).
        off_resonance: off-resonances [Hz], shape (F,); b1_scale: B1 scales, shape (S,).
        stopband_weight: weight of the stopband relative to the passband.
        kind: override the target kind.
    """
    kind, flip_angle, vin = _pulse_defaults(pulse, kind, flip_angle, phase)
    check_static_positive("thickness", thickness)
    if not 0 <= transition < 2:
        raise ValueError(f"transition must be in [0, 2), got {transition}")
    fov = 4.0 * thickness if fov is None else fov
    x = np.linspace(-fov / 2, fov / 2, n_positions)
    inner = np.abs(x) <= thickness / 2 * (1 - transition / 2)
    outer = np.abs(x) >= thickness / 2 * (1 + transition / 2)
    vout = _flip_value(kind, 0.0, phase)
    value = np.where(inner, vin, vout)
    weight = np.where(inner, 1.0, np.where(outer, stopband_weight, 0.0))
    rewind = 0.5 if kind in ("mxy", "mxy_abs") else 0.0
    return Target(
        kind,
        x,
        value,
        weight,
        off_resonance=off_resonance,
        b1_scale=b1_scale,
        rewind=rewind,
        flip_angle=flip_angle,
    )


def uniform_target(
    pulse, *, flip_angle=None, off_resonance=(0.0,), b1_scale=(1.0,), phase=0.0, kind=None
):
    """Non-selective target: the same rotation for every off-resonance and B1 scale.

    Args: as :func:`slice_target` (one position x = 0; use no gradient).
    """
    kind, flip_angle, v = _pulse_defaults(pulse, kind, flip_angle, phase)
    return Target(
        kind,
        [0.0],
        np.asarray([v]),
        None,
        off_resonance=off_resonance,
        b1_scale=b1_scale,
        flip_angle=flip_angle,
    )
