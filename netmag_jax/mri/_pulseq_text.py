r"""Text level of the Pulseq reader: lines, numbers, ids, compressed shapes, the signature.

A file is UTF-8 (a byte-order mark is accepted); ``#`` starts a comment. Every error is a
``ValueError`` naming the file and line.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np

from ._pulseq_checks import MAX_SAMPLES


class _Lines:
    """Non-empty, comment-stripped lines of a file with their numbers; the signed text."""

    def __init__(self, path, data=None):
        self.path = str(path)
        if data is None:
            data = Path(path).read_bytes()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            line = data[: e.start].count(b"\n") + 1
            raise ValueError(f"{path}:{line}: not UTF-8 text ({e.reason})") from None
        self.text = text
        self.items = []
        for i, raw in enumerate(text.splitlines(), start=1):
            line = raw.split("#", 1)[0].strip()
            if line:
                self.items.append((i, line))

    def error(self, lineno, msg):
        return ValueError(f"{self.path}:{lineno}: {msg}")

    def check_signature(self, signature):
        """Compare the declared md5 with that of the text before ``\\n[SIGNATURE]``."""
        if signature is None:
            return
        kind, digest, lineno = signature
        if kind.lower() != "md5":
            raise self.error(lineno, f"unsupported signature type {kind!r} (md5 is checked)")
        cut = self.text.find("\n[SIGNATURE]")
        actual = hashlib.md5(self.text[: max(cut, 0)].encode("utf-8")).hexdigest()
        if actual != digest.lower():
            raise self.error(
                lineno,
                f"md5 signature mismatch: the file declares {digest}, its content hashes to "
                f"{actual} (edited after writing?); pass check_signature=False to read it anyway",
            )


def _numbers(src, lineno, line, n_allowed, kinds=None):
    parts = line.split()
    if len(parts) not in n_allowed:
        raise src.error(
            lineno,
            f"expected {' or '.join(map(str, n_allowed))} fields, got {len(parts)}: {line!r}",
        )
    out = []
    for j, p in enumerate(parts):
        try:
            v = float(p)
        except ValueError:
            if kinds is not None and j in kinds:
                out.append(p)
                continue
            raise src.error(lineno, f"not a number: {p!r}") from None
        if not math.isfinite(v):
            raise src.error(lineno, f"not a finite number: {p!r}")
        out.append(v)
    return out


def _int_id(src, lineno, v, what="id", low=0):
    if v != int(v) or v < low or v > 2**53:
        raise src.error(lineno, f"{what} must be an integer in [{low}, 2**53], got {v}")
    return int(v)


def decompress_shape(values, num_samples):
    """Undo Pulseq shape compression: run-length coded derivative -> samples.

    A repeated value ``v v c`` stands for ``c + 2`` copies of v; the decoded derivative is
    summed cumulatively. If ``len(values) == num_samples`` the shape is stored uncompressed.
    Every run is checked against ``num_samples`` before it is expanded (memory is bounded
    by the declared size), and the decoded samples must be finite.
    """
    vals = np.asarray(values, dtype=float)
    if not 1 <= num_samples <= MAX_SAMPLES:
        raise ValueError(f"num_samples must be in [1, {MAX_SAMPLES}], got {num_samples}")
    if len(vals) == num_samples:
        return vals.copy()
    out = np.empty(num_samples)
    n = i = 0
    while i < len(vals):
        if i + 1 < len(vals) and vals[i] == vals[i + 1]:
            if i + 2 >= len(vals):
                raise ValueError("compressed shape ends inside a run")
            c = vals[i + 2]
            if c != int(c) or c < 0 or n + c + 2 > num_samples:
                raise ValueError(
                    f"run-length count {c:g} is not an integer in [0, {num_samples - n - 2}]"
                )
            out[n : n + int(c) + 2] = vals[i]
            n += int(c) + 2
            i += 3
        else:
            if n >= num_samples:
                raise ValueError(f"shape decodes to more than {num_samples} samples")
            out[n] = vals[i]
            n += 1
            i += 1
    if n != num_samples:
        raise ValueError(f"shape decodes to {n} samples, expected {num_samples}")
    with np.errstate(over="ignore", invalid="ignore"):
        samples = np.cumsum(out)
    if not np.all(np.isfinite(samples)):
        raise ValueError("shape decodes to non-finite samples")
    return samples
