r"""Seeded mutation fuzzing of the Pulseq reader (parse and step-grid conversion only).

Each case takes one seed file and applies 1-3 mutations: delete, duplicate or swap lines,
replace a token by an adversarial value (NaN, inf, 1e300, -1, 1e9, huge integers, text),
truncate, flip a byte, insert a byte-order mark or a section header. The reader must either
read the result or raise ``ValueError`` naming the file and the line; any other exception
is a *foreign* exception and a bug. Used by the CI test (10^4 cases) and
``benchmarks/fuzz_pulseq.py`` (10^5 and more).
"""

from __future__ import annotations

import re

import numpy as np

from ._pulseq import parse_pulseq_bytes
from ._pulseq_convert import sequence_arrays

TOKENS = (
    "nan", "inf", "-inf", "1e300", "-1e300", "1e9", "1e18", "-1", "0", "-0", "1e-300", "0.5",
    "-1.5", "99999999999999999999", "x", "", "[", "]", "e", "shape_id", "num_samples",
    "[RF]", "[BLOCKS]", "extension", "LABELSET", "ROTATIONS", "1e6", "2", "3", "-2",
)  # fmt: skip
SECTIONS = (b"[RF]", b"[SHAPES]", b"[BLOCKS]", b"[EXTENSIONS]", b"[SIGNATURE]", b"[FOO]")


def _mutate_lines(lines, rng):
    op = int(rng.integers(6))
    i = int(rng.integers(len(lines)))
    if op == 0:
        del lines[i]
    elif op == 1:
        lines.insert(i, lines[i])
    elif op == 2:
        j = int(rng.integers(len(lines)))
        lines[i], lines[j] = lines[j], lines[i]
    elif op == 3:
        parts = lines[i].split()
        tok = TOKENS[int(rng.integers(len(TOKENS)))].encode()
        if parts:
            parts[int(rng.integers(len(parts)))] = tok
        else:
            parts = [tok]
        lines[i] = b" ".join(parts)
    elif op == 4:
        lines.insert(i, SECTIONS[int(rng.integers(len(SECTIONS)))])
    else:
        parts = lines[i].split()
        if parts:
            k = int(rng.integers(len(parts)))
            try:
                v = float(parts[k]) * float(10.0 ** int(rng.integers(-3, 12)))
                parts[k] = repr(v).encode()
            except ValueError:
                pass
            lines[i] = b" ".join(parts)
    return lines


def mutate(data: bytes, rng) -> bytes:
    """One fuzz case: 1-3 random mutations of the file content ``data``."""
    for _ in range(int(rng.integers(1, 4))):
        kind = rng.random()
        if kind < 0.8:
            lines = data.split(b"\n") or [b""]
            data = b"\n".join(_mutate_lines(lines, rng) or [b""])
        elif kind < 0.88:
            data = data[: int(rng.integers(len(data) + 1))]
        elif kind < 0.96 and data:
            i = int(rng.integers(len(data)))
            data = data[:i] + bytes([int(rng.integers(256))]) + data[i + 1 :]
        else:
            data = b"\xef\xbb\xbf" + data
    return data


def check_case(data: bytes, name="fuzz.seq", check_signature=False):
    """Read ``data`` (parse, then the step grid): "read", "rejected" (a ``ValueError`` naming
    ``file:line``) or the foreign exception (anything else, or a ``ValueError`` without them).
    """
    try:
        pf = parse_pulseq_bytes(data, name, check_signature)
        sequence_arrays(pf, max_steps=1 << 20)
    except ValueError as e:
        return "rejected" if re.match(re.escape(name) + r":\d+: ", str(e)) else e
    except Exception as e:  # noqa: BLE001 - catching everything is the point of the fuzzer
        return e
    return "read"


def fuzz(seeds, n_cases, seed=0):
    """Run ``n_cases`` mutations of the seed contents ``seeds`` (list of bytes).

    Returns:
        (number of cases read, number rejected cleanly, [(case bytes, foreign exception)]).
    """
    rng = np.random.default_rng(seed)
    counts = {"read": 0, "rejected": 0}
    foreign = []
    for case in range(n_cases):
        data = mutate(seeds[case % len(seeds)], rng)
        out = check_case(data)
        if isinstance(out, str):
            counts[out] += 1
        else:
            foreign.append((data, out))
    return counts["read"], counts["rejected"], foreign
