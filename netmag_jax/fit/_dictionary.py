"""Dictionary matching (MR fingerprinting style) by normalised inner products, chunked."""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jax import lax

from .. import _checks


class MatchResult(eqx.Module):
    """Best dictionary entry per voxel.

    Leading shape ``...`` = voxel shape.

    Attributes:
        params: (..., k) parameters of the matched entry.
        index: (...) int, row of the dictionary.
        scale: (...) proton-density-like scale s = <d, y> / <d, d> (so y ~ s d), complex
            for complex data.
        correlation: (...) |<d, y>| / (|d| |y|) in [0, 1]; NaN for all-zero or non-finite
            voxels (which are also ``matched`` False).
        matched: (...) bool.
    """

    params: jax.Array
    index: jax.Array
    scale: jax.Array
    correlation: jax.Array
    matched: jax.Array


def dictionary_match(dictionary, params, Y, *, chunk_size: int = 4096) -> MatchResult:
    r"""Match each voxel's signal to the dictionary entry with the largest normalised overlap.

    .. math::
        \hat n = \arg\max_n \frac{|\langle d_n, y\rangle|}{\|d_n\|\,\|y\|},\qquad
        s = \frac{\langle d_{\hat n}, y\rangle}{\|d_{\hat n}\|^2}

    with :math:`\langle a, b\rangle = \sum_t a_t^* b_t`. Voxels are processed in chunks of
    ``chunk_size`` (memory: chunk_size x n_entries overlaps at a time).

    Args:
        dictionary: (D, m) simulated signals (real or complex), e.g. from the MRI engine.
        params: (D, k) parameters of each entry (e.g. T1 [s], T2 [s], B1).
        Y: (..., m) measured signals; an all-zero or non-finite voxel is not an error but
            unmatched (``matched`` False, NaN scale and correlation), as outside a mask.
        chunk_size: voxels per chunk.
    Returns:
        MatchResult.
    Raises:
        ValueError: shape mismatches, an empty dictionary, an all-zero / non-finite dictionary
            row or non-finite params (under jit / vmap: the ``eqx.error_if`` run-time error).
        TypeError: complex params.
    """
    dictionary = jnp.asarray(dictionary)
    params = jnp.asarray(params)
    Y = jnp.asarray(Y)
    if dictionary.ndim != 2:
        raise ValueError(f"dictionary must have shape (D, m), got {dictionary.shape}")
    _checks.check_nonempty("dictionary", dictionary)
    if params.ndim == 1:
        params = params[:, None]
    if params.ndim != 2 or params.shape[0] != dictionary.shape[0]:
        raise ValueError(f"params must have shape ({dictionary.shape[0]}, k), got {params.shape}")
    if Y.ndim < 1 or Y.shape[-1] != dictionary.shape[1]:
        raise ValueError(f"Y must have shape (..., {dictionary.shape[1]}), got {Y.shape}")
    if chunk_size < 1:
        raise ValueError("chunk_size must be >= 1")
    dnorm, params = _checked(dictionary, params)
    dtype = _common_dtype(dictionary, Y)
    Dn = (dictionary / dnorm[:, None]).astype(dtype)
    vox = Y.shape[:-1]
    V = math.prod(vox)
    m = Y.shape[-1]
    C = min(int(chunk_size), max(V, 1))
    n_chunks = max(-(-V // C), 1)
    Yf = Y.reshape(V, m).astype(dtype)
    pad = n_chunks * C - V
    if pad:
        Yf = jnp.concatenate([Yf, jnp.zeros((pad, m), dtype)])
    idx, ov, ynorm = _match_chunks(Dn, Yf.reshape(n_chunks, C, m))
    idx, ov, ynorm = (a.reshape(-1)[:V].reshape(vox) for a in (idx, ov, ynorm))
    good = jnp.isfinite(ynorm) & (ynorm > 0)
    corr = jnp.where(good, jnp.abs(ov) / jnp.where(good, ynorm, 1.0), jnp.nan)
    scale = ov / dnorm[idx].astype(ov.dtype)
    scale = jnp.where(good, scale, jnp.nan)
    return MatchResult(params[idx], idx, scale, corr.real if jnp.iscomplexobj(corr) else corr, good)


def _checked(dictionary, params):
    """(row norms of ``dictionary``, ``params``) after the value checks: every dictionary row
    finite and non-zero, every parameter real and finite. Concrete inputs raise ValueError
    before anything is compiled; traced ones (jit, vmap) through ``eqx.error_if``."""
    _checks.check_real("params", params)
    dnorm = jnp.sqrt(jnp.sum(jnp.abs(dictionary) ** 2, axis=1))
    rows_ok, params_ok = jnp.isfinite(dnorm) & (dnorm > 0), jnp.isfinite(params)
    rows_msg = "every dictionary row must be finite and non-zero"
    params_msg = "params must be finite (got NaN or inf)"
    if _checks.is_concrete(rows_ok) and not bool(jnp.all(rows_ok)):
        raise ValueError(rows_msg)
    if _checks.is_concrete(params_ok) and not bool(jnp.all(params_ok)):
        raise ValueError(params_msg)
    return _checks.require(dnorm, rows_ok, rows_msg), _checks.require(params, params_ok, params_msg)


def _common_dtype(*arrays):
    """Widest float precision of the inputs, complex if any input is complex (explicit, so it
    works under strict dtype promotion)."""
    prec = [
        jnp.finfo(a.dtype).dtype
        if jnp.issubdtype(a.dtype, jnp.inexact)
        else jnp.dtype(jnp.result_type(float))
        for a in arrays
    ]
    base = max(prec, key=lambda d: d.itemsize)
    if any(jnp.iscomplexobj(a) for a in arrays):
        return jnp.dtype(jnp.complex128 if base.itemsize == 8 else jnp.complex64)
    return base


@jax.jit
def _match_chunks(Dn, Yc):
    def one_chunk(Y):
        ov = Y @ jnp.conj(Dn).T  # <d_n, y> = sum_t conj(d_t) y_t, shape (C, D)
        best = jnp.argmax(jnp.abs(ov), axis=1)
        ynorm = jnp.sqrt(jnp.sum(jnp.abs(Y) ** 2, axis=1))
        return best, jnp.take_along_axis(ov, best[:, None], axis=1)[:, 0], ynorm

    return lax.map(one_chunk, Yc)
