"""The optimiser: minimise the design loss over the waveform coefficients with optax.

``optimize_pulse`` binds the :class:`Waveform` options to an initial pulse, forms one pytree
(target, parametrisation, loss options) and runs a short loop of jitted optax steps with
early stopping. The step is compiled once per shapes, optimiser object and static options:
a second design with the same settings and new numbers (target values, weights, B1 limit,
duration) reuses it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from numpy.typing import ArrayLike

from ..._checks import check_option, check_static_positive
from ..._dtypes import complex_dtype
from ...constants import GAMMA_1H
from ._export import pulseq_shape
from ._initial import initial_pulse
from ._loss import DesignLoss
from ._profile import max_flip_angle, simulate_pulse, target_error
from ._target import Target
from ._waveform import Parametrised, Waveform, parametrise


class Stopping(eqx.Module):
    """When :func:`optimize_pulse` stops (an options Module).

    Attributes:
        max_iter: iteration limit.
        tol: relative improvement of the best loss that resets the patience counter.
        patience: stop after this many iterations without such an improvement.
    """

    max_iter: int = eqx.field(static=True, default=300)
    tol: float = 1e-4
    patience: int = eqx.field(static=True, default=10)


class DesignResult(eqx.Module):
    """Outcome of :func:`optimize_pulse`.

    Attributes:
        rf: complex B1 [T], shape (n,); gradient: [T/m], shape (n,); dt: sample length [s].
        target: the :class:`Target`.
        loss_history: loss per iteration, shape (n_iter,).
        loss: final loss; target_error: weighted RMS target error sqrt(sum w|f-f*|^2/sum w),
            simulated with the exact step rule.
        energy: int |B1|^2 dt [T^2 s]; peak_b1: max |B1| [T]; max_slew: max |dG/dt| [T/m/s].
        n_iter: iterations run; converged: early-stopping criterion met; seconds: wall time.
        rule: the kernel's step rule during optimisation.
    """

    rf: jax.Array
    gradient: jax.Array
    dt: float
    target: Target
    loss_history: np.ndarray
    loss: float
    target_error: float
    energy: float
    peak_b1: float
    max_slew: float
    n_iter: int
    converged: bool
    seconds: float
    rule: str = eqx.field(static=True)

    @property
    def duration(self):
        """Pulse duration n dt [s]."""
        return self.dt * self.rf.shape[0]

    def profile(self, positions=None, off_resonance=None, b1_scale=None, rule="exact"):
        """Simulate the designed pulse (see :func:`simulate_pulse`) on the target's grid."""
        t = self.target
        return simulate_pulse(
            self.rf,
            self.gradient,
            self.dt,
            t.positions if positions is None else positions,
            t.off_resonance if off_resonance is None else off_resonance,
            t.b1_scale if b1_scale is None else b1_scale,
            rewind=t.rewind,
            rule=rule,
        )

    def pulseq_shape(self):
        """Pulseq-compatible shapes of the RF (see :func:`pulseq_shape`)."""
        return pulseq_shape(self.rf, self.dt)


class _Problem(eqx.Module):
    """Everything the loss needs, as one pytree (compiled steps are reused across calls)."""

    target: Target
    waveform: Parametrised
    loss: DesignLoss
    dt: jax.Array
    e_ref: jax.Array
    constant: bool = eqx.field(static=True)

    def __call__(self, params):
        rf, g = self.waveform(params)
        slew = self.waveform.optimize_gradient
        return self.loss(self.target, rf, g, self.dt, self.e_ref, constant=self.constant, slew=slew)


@eqx.filter_jit
def _step(problem, optimizer, params, state):
    """One optax step: (new params, new state, loss at params, |gradient| at params)."""
    if optax.tree_utils.tree_get(state, "value") is not None:  # line-search state caches them
        value, grad = optax.value_and_grad_from_state(problem)(params, state=state)
    else:
        value, grad = jax.value_and_grad(problem)(params)
    if isinstance(optimizer, optax.GradientTransformationExtraArgs):
        extra = {"value": value, "grad": grad, "value_fn": problem}
        updates, state = optimizer.update(grad, state, params, **extra)
    else:
        updates, state = optimizer.update(grad, state, params)
    return optax.apply_updates(params, updates), state, value, optax.tree_utils.tree_norm(grad)


_LBFGS = optax.lbfgs()  # the default optimiser: one object, so its compiled step is reused


def _check_feasible(target, b1_max, duration):
    """A pulse limited to B1max rotates by at most gamma s B1max T (ValueError otherwise)."""
    s_min = float(np.min(np.asarray(target.b1_scale)))
    need = target.required_flip_angle()
    can = max_flip_angle(b1_max, duration, s_min)
    if need > can * (1 + 1e-9):
        raise ValueError(
            f"infeasible constraints: the target needs a flip angle of {np.degrees(need):.1f}"
            f" deg, but |B1| <= {b1_max:.3g} T for {duration:.3g} s reaches at most "
            f"gamma s B1max T = {np.degrees(can):.1f} deg (B1 scale s = {s_min:g}); raise "
            f"b1_max to >= {need / (GAMMA_1H * s_min * duration):.3g} T or the duration to "
            f">= {need / (GAMMA_1H * s_min * b1_max):.3g} s"
        )


def _gradient_samples(gradient, n):
    """The gradient [T/m] as n finite samples (from a scalar or an (n,) array)."""
    g0 = np.asarray(gradient, float)
    if g0.ndim == 0:
        g0 = np.full(n, float(g0))
    if g0.shape != (n,):
        raise ValueError(f"gradient must be a scalar or have shape ({n},), got {g0.shape}")
    if not np.all(np.isfinite(g0)):
        raise ValueError("gradient must be finite")
    return g0


def _check_inputs(target, duration, n_samples, b1_max, optimizer, dtype):
    """Checks before tracing; returns (n, real dtype of the optimisation)."""
    if not isinstance(target, Target):
        raise TypeError("target must be a Target (see slice_target, uniform_target)")
    check_static_positive("duration", duration)
    check_static_positive("b1_max", b1_max)
    if int(n_samples) != n_samples or n_samples < 2:
        raise ValueError(f"n_samples must be an integer >= 2, got {n_samples}")
    if optimizer is not None and not (hasattr(optimizer, "init") and hasattr(optimizer, "update")):
        raise TypeError("optimizer must be an optax GradientTransformation, e.g. optax.lbfgs()")
    rdt = jnp.dtype(jnp.result_type(float) if dtype is None else dtype)
    check_option("dtype", rdt, (jnp.dtype(jnp.float32), jnp.dtype(jnp.float64)))
    _check_feasible(target, b1_max, duration)
    return int(n_samples), rdt


def _cast(target, rdt):
    """The target's arrays in the optimisation's precision (complex ones in its complex)."""
    cdt = complex_dtype(rdt)
    return jax.tree_util.tree_map(
        lambda v: v.astype(cdt if jnp.iscomplexobj(v) else rdt) if eqx.is_array(v) else v, target
    )


@eqx.filter_jit
def _initial_state(problem, optimizer, params):
    """optax state whose dtypes are those of the updated state (L-BFGS promotes a counter),
    so that the step compiles once; jitted, so a second design with the same settings
    traces nothing."""
    state = optimizer.init(params)
    after = eqx.filter_eval_shape(_step, problem, optimizer, params, state)[1]
    return jax.tree_util.tree_map(
        lambda x, a: jnp.asarray(x, a.dtype) if eqx.is_array(x) else x, state, after
    )


def _loop(problem, optimizer, params, stop, progress, callback):
    """Iterate ``_step`` until the best loss stalls: (best params, loss history, converged)."""
    state = _initial_state(problem, optimizer, params)
    history, best, best_params, since = [], np.inf, params, 0
    for it in range(stop.max_iter):
        new_params, new_state, value, gnorm = _step(problem, optimizer, params, state)
        value, gnorm = float(np.asarray(value)), float(np.asarray(gnorm))
        if not (np.isfinite(value) and np.isfinite(gnorm)):
            raise FloatingPointError(
                f"non-finite design loss or gradient at iteration {it} (loss={value}, "
                f"|grad|={gnorm}); check the target values, weights and b1_max/duration "
                f"for NaN/inf or extreme scales"
            )
        history.append(value)
        if callback is not None:
            callback(it, value)
        if progress and it % progress == 0:
            print(f"iter {it:5d}  loss {value:.6e}  |grad| {gnorm:.3e}")
        improved = value < best * (1 - stop.tol)
        since = 0 if improved else since + 1
        if value < best:
            best, best_params = value, params
        if since >= stop.patience or gnorm == 0.0:
            return best_params, history, True
        params, state = new_params, new_state
    return best_params, history, False


def optimize_pulse(
    target: Target,
    duration: float,
    n_samples: int = 256,
    *,
    b1_max: float,
    gradient=0.0,
    init: str | ArrayLike = "sinc",
    waveform: Waveform | None = None,
    loss: DesignLoss | None = None,
    optimizer: optax.GradientTransformation | None = None,
    stop: Stopping | None = None,
    key=None,
    progress: int = 0,
    callback: Callable | None = None,
    dtype=None,
) -> DesignResult:
    """Design an RF pulse (and optionally its gradient) that drives spins to ``target``.

    Minimises the :class:`DesignLoss` over the :class:`Waveform` coefficients with an optax
    optimiser, from a classical initial pulse (:func:`initial_pulse`), with early stopping
    (:class:`Stopping`). The peak |B1| < b1_max holds by construction (``Waveform``).

    Args:
        target: the :class:`Target` (positions [m], off-resonances [Hz], B1 scales).
        duration: pulse duration T [s]; the sample length is dt = T / n_samples.
        n_samples: number of RF samples n (>= 2).
        b1_max: peak B1 amplitude limit [T] (hard constraint through the parametrisation).
        gradient: slice gradient [T/m], scalar or shape (n,) (the initial value when the
            waveform optimises it).
        init: "sinc", "slr" (sigpy), "hard", "random" (needs ``key``), or a complex B1 array
            [T] (n,); :func:`initial_pulse` with ``tbw`` for other time-bandwidth products.
        waveform: :class:`Waveform` options (basis, real RF, gradient optimisation);
            default ``Waveform()`` (free complex samples, fixed gradient).
        loss: :class:`DesignLoss` options (energy, SAR and slew terms, step rule); default
            ``DesignLoss()`` (profile error only, hard-pulse rule).
        optimizer: an optax GradientTransformation, e.g. ``optax.adam(1e-2)``; default
            ``optax.lbfgs()`` (one shared object). Pass the same object to reuse the
            compiled step across calls.
        stop: :class:`Stopping` (max_iter, tol, patience); default ``Stopping()``.
        key: PRNG key for init="random" and ``Waveform.init_noise`` (same key, same pulse).
        progress: print the loss every ``progress`` iterations (0: silent).
        callback: called as callback(iteration, loss) every iteration.
        dtype: float32 or float64 for the optimisation (default: JAX's default float).

    Returns:
        :class:`DesignResult`; its target error is simulated with the exact step rule.

    Raises:
        ValueError: bad shapes/options, or infeasible constraints (the target flip angle
            exceeds gamma s_min B1max T).
        FloatingPointError: the loss or its gradient became NaN/inf.
    """
    n, rdt = _check_inputs(target, duration, n_samples, b1_max, optimizer, dtype)
    waveform = Waveform() if waveform is None else waveform
    g0 = _gradient_samples(gradient, n)
    k_init, k_noise = (None, None) if key is None else jax.random.split(key)
    rf0 = initial_pulse(init, target, n, duration, b1_max, key=k_init)
    pm, params = parametrise(waveform, rf0, g0, b1_max, k_noise, rdt)
    loss = DesignLoss() if loss is None else loss
    problem = _Problem(
        target=_cast(target, rdt),
        waveform=pm,
        loss=loss,
        dt=jnp.asarray(duration / n, rdt),
        e_ref=jnp.asarray(b1_max**2 * duration, rdt),
        constant=(not waveform.optimize_gradient) and bool(np.all(g0 == g0[0])),
    )
    optimizer = _LBFGS if optimizer is None else optimizer
    stop = Stopping() if stop is None else stop
    t0 = time.perf_counter()
    # optax's L-BFGS mixes int32/int64 counters: run the optimiser with standard promotion
    # (the loss itself is strict-promotion clean)
    with jax.numpy_dtype_promotion("standard"):
        best, history, converged = _loop(problem, optimizer, params, stop, progress, callback)
    seconds = time.perf_counter() - t0
    return _result(problem, best, target, duration / n, history, converged, seconds, loss.rule)


def _result(problem, params, target, dt, history, converged, seconds, rule):
    """The :class:`DesignResult` of the best parameters (dt [s] as a Python float)."""
    rf, g = problem.waveform(params)
    rf64 = rf.astype(jnp.complex128) if jax.config.read("jax_enable_x64") else rf
    return DesignResult(
        rf=rf,
        gradient=g,
        dt=dt,
        target=target,
        loss_history=np.asarray(history),
        loss=float(_loss(problem, params)),
        target_error=target_error(target, rf64, g.astype(rf64.real.dtype), dt, rule="exact"),
        energy=float(jnp.sum(jnp.abs(rf) ** 2) * dt),
        peak_b1=float(jnp.max(jnp.abs(rf))),
        max_slew=float(jnp.max(jnp.abs(jnp.diff(g)))) / dt,
        n_iter=len(history),
        converged=converged,
        seconds=seconds,
        rule=rule,
    )


@eqx.filter_jit
def _loss(problem, params):
    return problem(params)
