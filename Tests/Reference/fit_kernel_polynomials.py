#!/usr/bin/env python3
"""Fits the polynomials of Sources/CKernels/Activations.c (vectorised erf and exp) and reports their error.

Least squares on Chebyshev nodes (close to minimax) against mpmath at 30 digits; the coefficients are then rounded
to float32, as the C code holds them, and evaluated with float32 Horner steps (each FMA rounded once) to report
the worst error in float ulps on a dense grid. Deterministic (no random numbers), offline. Prints C-ready
coefficients, highest degree first, which are the ones pasted into Activations.c.
Run from the repository root: python3 Tests/Reference/fit_kernel_polynomials.py
(The Swift tests, Tests/TensorsTests/CKernelsTests.swift, check the C kernels over a sweep of every float.)
"""
import platform

import mpmath as mp
import numpy as np

mp.mp.dps = 30
NODES = 400  # Chebyshev nodes per fit: far more than coefficients, so the fit is a near-minimax smooth one
GRID = 20001  # evaluation points per piece for the reported error

# (name, lower, upper, degree): erf(a) = a + a·A(a²) below 1, then centred polynomials in a − centre.
ERF_SMALL = ("A", 0.0, 1.0, 6)
ERF_PIECES = [("B1", 1.0, 2.25, 9), ("B2", 2.25, 3.92, 8)]
EXP = ("exp", -float(mp.log(2) / 2), float(mp.log(2) / 2), 6)


def chebyshev_nodes(lo: float, hi: float, n: int) -> np.ndarray:
    k = np.arange(n)
    return (lo + hi) / 2 + (hi - lo) / 2 * np.cos(np.pi * (k + 0.5) / n)


def horner32(coefficients: np.ndarray, t: np.ndarray) -> np.ndarray:
    """float32 Horner with each step rounded once (an FMA)."""
    acc = np.full(t.shape, np.float32(coefficients[0]), dtype=np.float32)
    for c in coefficients[1:]:
        acc = (acc.astype(np.float64) * t.astype(np.float64) + np.float64(np.float32(c))).astype(np.float32)
    return acc


def ulps(got: np.ndarray, reference: np.ndarray) -> float:
    spacing = np.spacing(np.abs(reference.astype(np.float32))).astype(np.float64)
    return float(np.max(np.abs(got.astype(np.float64) - reference) / spacing))


def fit_erf_small(lo: float, hi: float, degree: int) -> np.ndarray:
    a = chebyshev_nodes(lo, hi, NODES)
    target = np.array([float(mp.erf(v) / v - 1) for v in a])
    weight = np.array([float(v / mp.erf(v)) for v in a])  # relative error of a·(1 + A)
    coefficients, *_ = np.linalg.lstsq(np.vander(a * a, degree + 1) * weight[:, None], target * weight, rcond=None)
    return coefficients.astype(np.float32)


def fit_centred(f, lo: float, hi: float, degree: int, relative: bool) -> tuple[np.ndarray, float]:
    x = chebyshev_nodes(lo, hi, NODES)
    centre = (lo + hi) / 2
    y = np.array([float(f(v)) for v in x])
    v = np.vander(x - centre, degree + 1)
    if relative:
        v, rhs = v / y[:, None], np.ones_like(y)
    else:
        rhs = y
    coefficients, *_ = np.linalg.lstsq(v, rhs, rcond=None)
    return coefficients.astype(np.float32), centre


def main() -> None:
    print(f"python {platform.python_version()}, numpy {np.__version__}, mpmath {mp.__version__}")
    name, lo, hi, degree = ERF_SMALL
    c = fit_erf_small(lo, hi, degree)
    a = np.linspace(1e-5, hi, GRID, endpoint=False).astype(np.float32)
    got = (horner32(c, (a * a).astype(np.float32)).astype(np.float64) * a + a).astype(np.float32)
    reference = np.array([float(mp.erf(float(v))) for v in a])
    print(f"erf {name} [{lo}, {hi}) degree {degree}: worst {ulps(got, reference):.3f} ulp")
    print("   ", ", ".join(f"{float(v)!r}f" for v in c))
    for name, lo, hi, degree in ERF_PIECES:
        c, centre = fit_centred(mp.erf, lo, hi, degree, relative=False)
        a = np.linspace(lo, hi, GRID).astype(np.float32)
        got = horner32(c, (a - np.float32(centre)).astype(np.float32))
        reference = np.array([float(mp.erf(float(v))) for v in a])
        print(f"erf {name} [{lo}, {hi}) centre {centre} degree {degree}: worst {ulps(got, reference):.3f} ulp")
        print("   ", ", ".join(f"{float(v)!r}f" for v in c))
    cutoff = mp.findroot(lambda x: mp.erfc(x) - mp.mpf(2) ** -25, 3.9)
    print(f"erf rounds to 1 in float from a = {float(cutoff):.7f} (erfc = 2^-25)")

    name, lo, hi, degree = EXP
    c, _ = fit_centred(mp.exp, lo, hi, degree, relative=True)
    print(f"exp on [{lo:.6f}, {hi:.6f}] degree {degree}:")
    print("   ", ", ".join(f"{float(v)!r}f" for v in c))
    ln2_hi = np.float32(0.693145751953125)  # ln 2 with its low mantissa bits zero, so n·ln2_hi is exact
    print(f"ln2 = {float(ln2_hi)!r}f + {float(np.float32(mp.log(2) - float(ln2_hi)))!r}f; "
          f"1/ln2 = {float(np.float32(1 / mp.log(2)))!r}f")


if __name__ == "__main__":
    main()
