"""Chapter 10 exercise answers (10a-10b): references, and wrong answers with their hint."""

import numpy as np

from course_lib import gan


def optimal_discriminator(p_data, p_g):
    total = p_data + p_g
    return np.divide(p_data, total, out=np.full(total.shape, 0.5), where=total > 0)


def nonsaturating_loss(a):
    s = np.exp(-np.logaddexp(0.0, -a))
    return float(np.mean(np.logaddexp(0.0, -a))), -(1 - s) / len(a)


def _ns_naive(a):
    s = 1 / (1 + np.exp(-a))
    return float(np.mean(-np.log(s))), -(1 - s) / len(a)


def _saturating(a):
    s = np.exp(-np.logaddexp(0.0, -a))
    return float(np.mean(-np.logaddexp(0.0, a))), -s / len(a)


def diagnose(counts, n):
    if counts.sum() / n < 0.5:
        return "low quality"
    if np.any(counts < 0.02 * n):
        return "mode collapse"
    return "healthy"


def _diagnose_coverage_first(counts, n):
    if np.any(counts < 0.02 * n):
        return "mode collapse"
    if counts.sum() / n < 0.5:
        return "low quality"
    return "healthy"


def convT_output_size(n, k, s, p, op):
    return (n - 1) * s - 2 * p + k + op


def frechet_gaussians(m1, S1, m2, S2):
    return gan.frechet_distance(m1, S1, m2, S2)


def _frechet_elementwise(m1, S1, m2, S2):
    return float(np.sum((m1 - m2) ** 2) + np.trace(S1 + S2 - 2 * np.sqrt(np.abs(S1 * S2))))


PASS = [
    ("ch10.optimal_discriminator", optimal_discriminator),
    ("ch10.nonsaturating_loss", nonsaturating_loss),
    ("ch10.diagnose", diagnose),
    ("ch10.convT_output_size", convT_output_size),
    ("ch10.frechet_gaussians", frechet_gaussians),
]

FAIL = [
    ("ch10.optimal_discriminator", lambda p, q: q / (p + q), "1 - D*"),
    ("ch10.optimal_discriminator", lambda p, q: p / q, "density ratio"),
    ("ch10.optimal_discriminator", lambda p, q: p / (p + q), "0/0"),
    ("ch10.nonsaturating_loss", _saturating, "saturating loss"),
    ("ch10.nonsaturating_loss", lambda a: (nonsaturating_loss(a)[0], nonsaturating_loss(a)[1] * len(a)), "N times"),
    ("ch10.nonsaturating_loss", _ns_naive, "softplus(-a)"),
    ("ch10.nonsaturating_loss", lambda a: nonsaturating_loss(a)[0], "pair"),
    ("ch10.diagnose", lambda counts, n: "healthy", "mode collapse"),
    ("ch10.diagnose", _diagnose_coverage_first, "high-quality share first"),
    ("ch10.convT_output_size", lambda n, k, s, p, op: (n - k + 2 * p) // s + 1, "CONVOLUTION"),
    ("ch10.convT_output_size", lambda n, k, s, p, op: (n - 1) * s - 2 * p + k, "output_padding"),
    ("ch10.frechet_gaussians", lambda m1, S1, m2, S2: float(np.sum((m1 - m2) ** 2)), "covariance term"),
    ("ch10.frechet_gaussians", _frechet_elementwise, "MATRIX square root"),
    ("ch10.frechet_gaussians", lambda m1, S1, m2, S2: np.sqrt(frechet_gaussians(m1, S1, m2, S2)), "square root"),
]
