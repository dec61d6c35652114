"""The input contract, walked as a table: every public entry point x every invalid class.

For each entry point (a row: the function, one valid set of arguments, and the kind of each
argument) every argument is replaced by each invalid value of its kind and the call is run
eagerly, under ``jax.jit`` and under ``jax.vmap`` (a batch of one valid and one invalid value,
or two invalid ones for the type/shape classes). The outcome is classified:

* ``raised``: ValueError / TypeError before tracing, or the ``eqx.error_if`` run-time error
  (eager, jit, vmap), whose message names the argument;
* ``limit``: the 1e+-300 classes only: a *checked* limit, a finite result that equals the
  row's stated limit (``LIMITS``): the analytic value, or the asymptotic power law against the
  same call at the moderate extreme 1e+-30 (a zero reference does not count); a finite result
  without a stated limit, or one that disagrees, is ``wrong``;
* ``nan`` (silent NaN/inf), ``wrong`` (a finite number for an invalid input), ``foreign``
  (any other exception, or an error that does not name the argument): failures.

``pytest -s tests/test_input_contract.py`` prints the table (entry points x classes).
Compiled functions are shared: one ``jax.jit`` per row, reused by every value class.
"""

from __future__ import annotations

import collections
import math
from pathlib import Path
from collections.abc import Callable

import equinox as eqx
import jax
import numpy as np
import pytest

from _contract_limits import LIMITS, Limit, P
from _contract_rows import Row
from _contract_rows_lattice import ROWS

from netmag_jax import dynamics as dyn
from netmag_jax import fit, statmech
from netmag_jax.constants import K_B

# --- invalid classes per argument kind --------------------------------------------------------
#: class name -> value from the valid value v (numpy array); "shape/type" classes first
_TYPE_CLASSES = ("complex", "empty")
_MAKERS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "zero": np.zeros_like,
    "neg": lambda v: -np.abs(v) - 1.0,
    "nan": lambda v: np.full_like(v, np.nan),
    "+inf": lambda v: np.full_like(v, np.inf),
    "-inf": lambda v: np.full_like(v, -np.inf),
    "1e300": lambda v: np.full_like(v, 1e300),
    "1e-300": lambda v: np.full_like(v, 1e-300),
    "complex": lambda v: v + 1j,
    "empty": lambda v: np.zeros((0,) + v.shape[1:]),
    "zero-norm": np.zeros_like,
    "non-unit": lambda v: 2.0 * v,
    "frac": lambda v: v + 0.5,  # a count that is not an integer
}
_KINDS = {
    "pos": ("zero", "neg", "nan", "+inf", "complex", "1e300", "1e-300"),
    "nonneg": ("neg", "nan", "+inf", "complex", "1e300"),
    "finite": ("nan", "+inf", "-inf", "complex", "1e300"),
    "cfinite": ("nan", "+inf"),  # complex allowed (signals, RF)
    "seq": ("empty", "nan", "+inf", "complex"),
    "cseq": ("empty", "nan", "+inf"),
    "unit": ("zero-norm", "non-unit", "nan", "complex"),
    "static_pos": ("zero", "neg", "nan", "+inf", "complex"),  # NumPy-side numbers
    "static_finite": ("nan", "+inf", "complex"),
    "count": ("zero", "neg", "nan", "+inf", "complex", "frac", "1e300"),  # sizes (static)
    "axis": ("zero-norm", "nan", "+inf", "complex", "1e300", "1e-300"),  # normalised direction
    "ising": ("zero", "nan", "complex", "non-unit"),  # spins of +-1
}
_LIMIT_CLASSES = ("1e300", "1e-300")
#: the moderate extreme a 1e+-300 result is compared with (continuity check)
_MODERATE = {"1e300": 1e30, "1e-300": 1e-30}


# --- running and classifying ----------------------------------------------------------------
_ACCEPTED = (ValueError, TypeError, RuntimeError)  # EquinoxRuntimeError, JaxRuntimeError
RESULTS: dict[tuple[str, str], collections.Counter] = collections.defaultdict(collections.Counter)
FAILURES: list[str] = []


def _leaves_finite(out) -> bool:
    leaves = [np.asarray(x) for x in jax.tree.leaves(out)]
    return all(np.all(np.isfinite(x)) for x in leaves if x.dtype != bool)


def _check_limit(out, ref, scales, spec: Limit) -> str | None:
    """None if every leaf of ``out`` equals its scale x the same leaf of ``ref`` (within
    ``spec``'s tolerances), else a description of the first disagreement."""
    leaves = jax.tree.leaves(out)
    for a, b, scale in zip(leaves, jax.tree.leaves(ref), scales, strict=True):
        a, b = np.asarray(a), np.broadcast_to(np.asarray(b), np.shape(a))
        if scale != 1.0 and np.any(b == 0):  # a power law with prefactor 0 checks nothing
            return "the moderate-extreme reference is 0: the power law cannot be checked"
        with np.errstate(all="ignore"):
            want = b * scale if b.dtype.kind in "fc" else b
        if not np.allclose(a, want, rtol=spec.rtol, atol=spec.atol):
            return f"got {a.ravel()[:3]}, limit {np.asarray(want).ravel()[:3]}"
    return None


def _classify(call, arg: str, cls: str, verify=None) -> str:
    """Outcome of ``call()``; ``verify(out)`` (1e+-300 classes) returns None when a finite
    result is the checked limit, else why it is wrong."""
    try:
        out = call()
        jax.block_until_ready(out)
    except _ACCEPTED as e:
        msg = str(e)
        named = arg in msg or (arg == "signal" and "induced_emf" in msg)
        return "raised" if named else f"foreign (error not naming {arg}: {msg[:120]!r})"
    except Exception as e:  # anything else is a foreign exception
        return f"foreign ({type(e).__name__}: {str(e)[:120]})"
    if not _leaves_finite(out):
        return "nan"
    if cls not in _LIMIT_CLASSES:
        return "wrong"
    if verify is None:
        return "wrong (finite, but the row states no limit to check it against)"
    why = verify(out)
    return "limit" if why is None else f"wrong ({why})"


def _traced_names(row: Row, args: dict) -> list[str]:
    return [k for k, v in args.items() if k not in row.static and not callable(v)]


def _invalid_values(row: Row):
    for arg, kind in row.kinds.items():
        v = np.asarray(row.args[arg])
        for cls in _KINDS[kind]:
            yield arg, cls, _MAKERS[cls](v if np.iscomplexobj(v) else v.astype(float))
        for cls, value in row.extra.get(arg, {}).items():
            yield arg, cls, np.full_like(v, value, dtype=float)


def _verifier(row: Row, arg: str, cls: str, valid: dict, names: list, jitted):
    """``verify(out)`` for a 1e+-300 class (None when the row states no limit): compares with
    the analytic limit or the same call at the moderate extreme (computed once, jitted)."""
    limits = LIMITS.get(row.name, {})
    spec = limits.get((arg, cls), limits.get(arg))
    if cls not in _LIMIT_CLASSES or spec is None:
        return None
    bad = np.full_like(np.asarray(valid[arg], dtype=float), float(cls))
    cache = []

    def reference():
        if not cache:
            if spec.value is not None:
                ref = spec.value({**valid, arg: bad})
                cache.append((ref, [1.0] * len(jax.tree.leaves(ref))))
            else:
                x = _MODERATE[cls]
                mod = {**valid, arg: np.full_like(bad, x)}
                traced = arg in names and row.jit
                ref = jitted(*[mod[k] for k in names]) if traced else row.fn(**mod)
                n = len(jax.tree.leaves(ref))
                powers = spec.power if isinstance(spec.power, tuple) else (spec.power,) * n
                decades = math.log10(float(cls) / x)
                with np.errstate(over="ignore", under="ignore"):
                    scales = [float(np.power(10.0, decades * p)) for p in powers]
                cache.append((ref, scales))
        return cache[0]

    def verify(out):
        try:
            ref, scale = reference()
        except Exception as e:  # the reference itself must be computable
            return f"reference failed: {type(e).__name__}: {str(e)[:80]}"
        return _check_limit(out, ref, scale, spec)

    return verify


def _run_row(row: Row) -> list[tuple[str, str, str, str]]:
    """Every (arg, class, mode) of one row -> outcome. One ``jax.jit`` and one
    ``jax.jit(jax.vmap)`` (over every traced argument) per row, shared by all value classes."""
    names = _traced_names(row, row.args)
    # traced arguments always as float64/complex128 NumPy arrays (one compile per row)
    valid = {k: (np.asarray(v, float) if k in names and not np.iscomplexobj(v) else v)
             for k, v in row.args.items()}  # fmt: skip

    def call(*xs):
        return row.fn(**{**valid, **dict(zip(names, xs, strict=True))})

    jitted, batched = jax.jit(call), jax.jit(jax.vmap(call))
    out = []
    for arg, cls, bad in _invalid_values(row):
        args = {**valid, arg: bad}
        traced = [args[k] for k in names]
        verify = _verifier(row, arg, cls, valid, names, jitted)
        if arg not in names:  # a static argument: eager, and a jit that closes over it
            closed = jax.jit(
                lambda *xs, a=args: row.fn(**{**a, **dict(zip(names, xs, strict=True))})
            )
            out.append((arg, cls, "eager", _classify(lambda a=args: row.fn(**a), arg, cls, verify)))
            out.append((arg, cls, "jit", _classify(lambda c=closed: c(*traced), arg, cls, verify)))
            continue
        second = (
            None if verify is None else (lambda o, v=verify: v(jax.tree.map(lambda y: y[1], o)))
        )
        out.append((arg, cls, "eager", _classify(lambda a=args: row.fn(**a), arg, cls, verify)))
        if row.jit:
            out.append((arg, cls, "jit", _classify(lambda t=traced: jitted(*t), arg, cls, verify)))
        if not row.vmap:
            continue
        # a batch of two: (valid, invalid) for value classes, (invalid, invalid) for the
        # type/shape classes (which cannot share a batch with a valid value)
        pair = (bad, bad) if cls in _TYPE_CLASSES else (valid[arg], bad)
        batch = [np.stack(pair) if k == arg else np.stack([valid[k]] * 2) for k in names]
        out.append((arg, cls, "vmap", _classify(lambda b=batch: batched(*b), arg, cls, second)))
    return out


@pytest.fixture(scope="module", autouse=True)
def _summary():
    """Print the entry-point x class table (with ``-s``) after the module's tests."""
    yield
    classes = [c for c in _MAKERS] + ["T2>2T1"]
    used = [c for c in classes if any((r.name, c) in RESULTS for r in ROWS)]
    total = collections.Counter()
    for counter in RESULTS.values():
        total.update(counter)
    print("\n\ninput contract: outcomes per entry point x invalid class (eager + jit + vmap)")
    print("r = raised with a clear error naming the argument, l = checked limit (1e+-300),")
    print("N = silent NaN/inf, W = wrong finite number, F = foreign exception\n")
    print(f"{'entry point':34s}" + "".join(f"{c:>10s}" for c in used))
    short = {"raised": "r", "limit": "l", "nan": "N", "wrong": "W", "foreign": "F"}
    for row in ROWS:
        cells = []
        for c in used:
            cnt = RESULTS.get((row.name, c))
            cells.append(
                "-" if not cnt else " ".join(f"{v}{short[k]}" for k, v in sorted(cnt.items()))
            )
        print(f"{row.name:34s}" + "".join(f"{x:>10s}" for x in cells))
    n = sum(total.values())
    counts = ", ".join(
        f"{label} {total[k]}"
        for k, label in (
            ("raised", "raised"),
            ("limit", "checked limit"),
            ("nan", "nan"),
            ("wrong", "wrong"),
            ("foreign", "foreign"),
        )
    )
    print(f"\n{len(ROWS)} entry points, {n} runs: {counts}")
    for f in FAILURES:
        print("FAIL", f)


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_input_contract(row: Row):
    """Every invalid input of this entry point raises a clear error naming the argument
    (eagerly, under jit, under vmap); the 1e+-300 classes may instead give a finite limit."""
    bad = []
    for arg, cls, mode, outcome in _run_row(row):
        kind = outcome.split(" ")[0]
        RESULTS[(row.name, cls)][kind] += 1
        if kind not in ("raised", "limit"):
            bad.append(f"{row.name}({arg}={cls}) [{mode}]: {outcome}")
    FAILURES.extend(bad)
    assert not bad, "\n".join(bad)


def test_table_covers_every_class():
    """The generator is not vacuous: every class of every kind is produced and used."""
    for kind, classes in _KINDS.items():
        for cls in classes:
            v = _MAKERS[cls](np.ones(3))
            assert v.dtype.kind in "fc"
            if cls == "empty":
                assert v.size == 0
            elif cls == "complex":
                assert np.iscomplexobj(v)
            else:
                assert not np.array_equal(v, np.ones(3)), (kind, cls)
    assert isinstance(eqx.Module, type) and len(ROWS) >= 40


def test_jit_on_models_pattern_in_readme():
    """The README documents jit on equinox models: ``jax.jit(model.method)`` fails with
    'unhashable type' (jit hashes the bound method, whose model holds arrays); the documented
    ``eqx.filter_jit(model.method)`` and the lambda closure work and equal the eager value, and
    filter_jit traces the model's arrays (a new g does not recompile)."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert "eqx.filter_jit(gd.moment)(5.0, 2.0)" in readme
    assert "jax.jit(lambda B, T: model.moment(B, T))" in readme
    gd = statmech.Paramagnet(J=3.5, g=2.0, n=3.0e28)
    with pytest.raises(TypeError, match="unhashable"):
        jax.jit(gd.moment)(5.0, 2.0)
    eager = gd.moment(5.0, 2.0)
    np.testing.assert_allclose(eqx.filter_jit(gd.moment)(5.0, 2.0), eager, rtol=1e-14)
    np.testing.assert_allclose(jax.jit(lambda B, T: gd.moment(B, T))(5.0, 2.0), eager, rtol=1e-14)

    traces = []

    @eqx.filter_jit
    def moment(model, B, T):
        traces.append(1)  # runs once per trace
        return model.moment(B, T)

    moment(gd, 5.0, 2.0)
    other = statmech.Paramagnet(J=3.5, g=2.1, n=3.0e28)
    np.testing.assert_allclose(moment(other, 5.0, 2.0), other.moment(5.0, 2.0), rtol=1e-14)
    assert len(traces) == 1


def test_limit_check_fails_on_a_wrong_finite_number(monkeypatch):
    """The 1e+-300 outcome "limit" is a checked limit: 1 - exp(-TR/T1) (rounds to 0 for
    TR << T1) is classified wrong against the analytic TR/T1 law, -expm1(-TR/T1) passes."""
    import jax.numpy as jnp

    law = {"TR": P(1, "1 - exp(-TR/T1) ~ TR/T1")}
    for name, fn, want in (
        ("naive 1 - E1", lambda TR, T1: 1.0 - jnp.exp(-TR / T1), "wrong"),
        ("expm1", lambda TR, T1: -jnp.expm1(-TR / T1), "limit"),
    ):
        monkeypatch.setitem(LIMITS, name, law)
        row = Row(name, fn, dict(TR=0.01, T1=1.0), dict(TR="pos"))
        got = {(cls, mode): o.split(" ")[0] for _, cls, mode, o in _run_row(row)}
        assert got[("1e-300", "eager")] == got[("1e-300", "jit")] == want
        assert got[("1e-300", "vmap")] == want
    # and a row without a stated limit cannot pass a finite 1e300 result
    monkeypatch.setitem(LIMITS, "unstated", {})
    row = Row("unstated", lambda x: x * 0.0, dict(x=1.0), dict(x="pos"))
    assert any(o.startswith("wrong") for _, cls, _, o in _run_row(row) if cls == "1e300")


def test_llg_step_stiffness_bound():
    """A macrospin relaxing in a constant field follows the exact solution
    tan(theta/2) = tan(theta0/2) exp(-alpha gamma' mu0 H t) at a stiffness
    s = gamma mu0 H dt / sqrt(1 + alpha^2) = 1.9 < LLG_MAX_STEP, and s = 2.5 is refused."""
    from netmag_jax import constants as C

    H, alpha, th0, n = 1e5, 0.1, 1.0, 200
    w = dyn.GAMMA_E * C.MU_0 * H
    m0 = np.array([np.sin(th0), 0.0, np.cos(th0)])
    dt = 1.9 * math.sqrt(1 + alpha**2) / w
    mz = float(dyn.llg(m0, np.array([0.0, 0.0, H]), dt, n, alpha=alpha).m[-1, 2])
    rate = alpha * w / (1 + alpha**2)
    th = 2 * np.arctan(np.tan(th0 / 2) * np.exp(-rate * n * dt))
    assert abs(mz - np.cos(th)) < 1e-6
    with pytest.raises(Exception, match="dt"):
        dyn.llg(m0, np.array([0.0, 0.0, H]), 2.5 * math.sqrt(1 + alpha**2) / w, 4, alpha=alpha)


def test_paramagnet_moment_at_large_and_small_x_under_jit():
    """g J B_J(x) under jit: saturation g J at x ~ 1e30 (ln Z by max-subtracted log-sum-exp
    gave NaN there: fused multiply-add), and the Curie law g^2 mu_B J (J+1) B / (3 k_B T) at
    x ~ 1e-30 (the derivative of ln Z lost it to round-off)."""
    from netmag_jax.constants import MU_B

    pm = statmech.Paramagnet(1.5, 2.0)
    moment = jax.jit(lambda B, T: pm.moment(B, T))
    np.testing.assert_allclose(moment(1e30, 2.0), 3.0, rtol=1e-15)
    curie = 2.0**2 * MU_B * 1.5 * 2.5 * 1.0 / (3 * K_B * 1e30)
    np.testing.assert_allclose(moment(1.0, 1e30), curie, rtol=1e-12)


def test_fit_models_are_documented_nan_adapters():
    """The fit model functions are exempt from value checks and say so in their docstring."""
    from netmag_jax.fit import _models

    names = [n for n in dir(_models) if not n.startswith("_") and callable(getattr(_models, n))]
    public = [n for n in names if getattr(fit, n, None) is getattr(_models, n)]
    assert len(public) >= 8
    for n in public:
        assert "NaN-in/NaN-out" in getattr(_models, n).__doc__, n


def test_special_functions_are_documented_nan_adapters():
    """bessel_ratio, log_i0 and rician_nll (the Rician cost inside the optimiser) are exempt
    from value checks, say so, and behave so: NaN in -> NaN out; at 1e+-300 the analytic
    limits R = I1/I0 -> 1 - 1/(2z) (z -> inf), -> z/2 (z -> 0) and log I0 -> |z| (to float64
    precision at 1e300: the -log(2 pi z)/2 term is 1e-298 of it), -> z^2/4 -> 0 (underflow)."""
    for fn in (fit.bessel_ratio, fit.log_i0, fit.rician_nll):
        assert "NaN-in/NaN-out" in fn.__doc__, fn.__name__
    assert np.isnan(fit.bessel_ratio(np.nan)) and np.isnan(fit.log_i0(np.nan))
    assert np.isnan(fit.rician_nll(np.nan, 1.0, 1.0)) and np.isnan(fit.rician_nll(1.0, 1.0, 0.0))
    assert float(fit.bessel_ratio(1e300)) == 1.0 and float(fit.bessel_ratio(-1e300)) == -1.0
    np.testing.assert_allclose(fit.bessel_ratio(1e-300), 0.5e-300, rtol=1e-14)
    np.testing.assert_allclose(fit.log_i0(1e300), 1e300, rtol=1e-14)
    assert float(fit.log_i0(1e-300)) == 0.0
