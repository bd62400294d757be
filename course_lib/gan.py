"""Helpers for generative adversarial networks: toy data, mode coverage, Fréchet distance (chapter 10).

Introduced in chapter 10, "Generative adversarial networks". NumPy only (no framework import):

- :func:`ring_of_gaussians` samples the classic 2-D test distribution, ``k`` Gaussians of
  standard deviation ``sd`` equally spaced on a circle;
- :func:`mode_stats` measures what a generator's samples cover: the share of *high-quality*
  samples (within ``3 sd`` of some mode centre) and the number of modes that receive at least
  ``min_share`` of the samples {Srivastava et al. 2017, VEEGAN};
- :func:`optimal_discriminator` and :func:`js_divergence` are the two quantities of the GAN
  analysis {Goodfellow et al. 2014}: ``D*(x) = p_data / (p_data + p_g)`` and, at ``D*``, the
  generator's objective ``2 JS(p_data, p_g) - log 4``;
- :func:`frechet_distance` is the Fréchet (2-Wasserstein) distance between two Gaussians,
  ``||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2)``; :func:`frechet_distance_samples`
  fits the two Gaussians to feature vectors first (the "FID" recipe {Heusel et al. 2017},
  here in any feature space);
- :func:`conv_transpose_output_size` is the output length of a transposed convolution
  {Dumoulin & Visin 2016}, the same formula as ``torch.nn.ConvTranspose2d``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "conv_transpose_output_size",
    "frechet_distance",
    "frechet_distance_samples",
    "js_divergence",
    "mode_stats",
    "optimal_discriminator",
    "ring_centers",
    "ring_of_gaussians",
]


def ring_centers(k: int = 8, radius: float = 2.0) -> np.ndarray:
    """The ``(k, 2)`` centres of ``k`` modes equally spaced on a circle of ``radius``.

    Introduced in chapter 10.
    """
    if int(k) != k or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if not radius > 0:
        raise ValueError(f"radius must be positive, got {radius!r}")
    angles = 2 * np.pi * np.arange(int(k)) / int(k)
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def ring_of_gaussians(
    n: int, k: int = 8, radius: float = 2.0, sd: float = 0.05, seed: int | np.random.Generator | None = 0
) -> np.ndarray:
    """``n`` samples ``(n, 2)`` float32 from ``k`` equally weighted Gaussians (sd ``sd``) on a ring.

    Introduced in chapter 10.
    """
    if int(n) != n or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    if not sd > 0:
        raise ValueError(f"sd must be positive, got {sd!r}")
    rng = np.random.default_rng(seed)
    centers = ring_centers(k, radius)
    which = rng.integers(0, len(centers), size=int(n))
    return (centers[which] + sd * rng.normal(size=(int(n), 2))).astype(np.float32)


def mode_stats(samples: Any, centers: Any, sd: float, n_sd: float = 3.0, min_share: float = 0.02) -> dict[str, Any]:
    """How well ``samples`` ``(n, d)`` cover the modes at ``centers`` ``(k, d)`` of standard deviation ``sd``.

    A sample is *high quality* if it lies within ``n_sd * sd`` of its nearest centre; a mode is
    *covered* if at least ``min_share`` of all samples are high-quality samples of that mode.
    Returns ``{"modes": int, "high_quality": float (share in [0, 1]), "counts": (k,) int array}``.

    Introduced in chapter 10.
    """
    x = np.asarray(samples, dtype=np.float64)
    c = np.asarray(centers, dtype=np.float64)
    if x.ndim != 2 or c.ndim != 2 or x.shape[1] != c.shape[1]:
        raise ValueError(f"samples (n, d) and centers (k, d) must agree in d, got {x.shape} and {c.shape}")
    if len(x) == 0:
        raise ValueError("samples is empty")
    if not sd > 0 or not n_sd > 0:
        raise ValueError(f"sd and n_sd must be positive, got {sd!r} and {n_sd!r}")
    if not 0 <= min_share <= 1:
        raise ValueError(f"min_share must lie in [0, 1], got {min_share!r}")
    dist = np.linalg.norm(x[:, None, :] - c[None, :, :], axis=2)  # (n, k)
    nearest = dist.argmin(axis=1)
    good = dist[np.arange(len(x)), nearest] <= n_sd * sd
    counts = np.bincount(nearest[good], minlength=len(c))
    covered = int(np.sum(counts >= max(min_share * len(x), 1e-12)))
    return {"modes": covered, "high_quality": float(good.mean()), "counts": counts}


def optimal_discriminator(p_data: Any, p_g: Any) -> np.ndarray:
    """``D*(x) = p_data(x) / (p_data(x) + p_g(x))`` for density values on a grid (same shape).

    Where both densities are zero ``D*`` is undefined; it is returned as 0.5 (any value is optimal).

    Introduced in chapter 10.
    """
    p, q = np.asarray(p_data, dtype=np.float64), np.asarray(p_g, dtype=np.float64)
    if p.shape != q.shape:
        raise ValueError(f"p_data and p_g must have the same shape, got {p.shape} and {q.shape}")
    if np.any(p < 0) or np.any(q < 0):
        raise ValueError("densities must be non-negative")
    total = p + q
    return np.divide(p, total, out=np.full(p.shape, 0.5), where=total > 0)


def js_divergence(p: Any, q: Any, dx: float) -> float:
    """Jensen-Shannon divergence (nats) of two densities sampled on a uniform grid of spacing ``dx``.

    ``JS = KL(p || m)/2 + KL(q || m)/2`` with ``m = (p + q)/2``, integrated with the rectangle
    rule; it lies in ``[0, log 2]``.

    Introduced in chapter 10.
    """
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape, got {p.shape} and {q.shape}")
    if not dx > 0:
        raise ValueError(f"dx must be positive, got {dx!r}")
    m = (p + q) / 2

    def kl(a: np.ndarray) -> float:
        mask = a > 0
        return float(np.sum(a[mask] * np.log(a[mask] / m[mask])) * dx)

    return 0.5 * kl(p) + 0.5 * kl(q)


def _sqrtm_psd(S: np.ndarray) -> np.ndarray:
    w, V = np.linalg.eigh((S + S.T) / 2)
    return (V * np.sqrt(np.clip(w, 0, None))) @ V.T


def frechet_distance(mu1: Any, cov1: Any, mu2: Any, cov2: Any) -> float:
    """Fréchet distance between ``N(mu1, cov1)`` and ``N(mu2, cov2)``: means ``(d,)``, covariances ``(d, d)``.

    ``||mu1 - mu2||^2 + tr(cov1) + tr(cov2) - 2 tr((cov1^1/2 cov2 cov1^1/2)^1/2)``; the matrix
    square roots are taken by symmetric eigendecomposition (covariances must be symmetric PSD).
    This is the *squared* 2-Wasserstein distance, the quantity FID reports.

    Introduced in chapter 10.
    """
    m1, m2 = np.atleast_1d(np.asarray(mu1, dtype=np.float64)), np.atleast_1d(np.asarray(mu2, dtype=np.float64))
    S1, S2 = np.atleast_2d(np.asarray(cov1, dtype=np.float64)), np.atleast_2d(np.asarray(cov2, dtype=np.float64))
    d = m1.shape[0]
    if m1.shape != (d,) or m2.shape != (d,) or S1.shape != (d, d) or S2.shape != (d, d):
        raise ValueError(
            f"expected means (d,) and covariances (d, d), got {m1.shape}, {S1.shape}, {m2.shape}, {S2.shape}"
        )
    r1 = _sqrtm_psd(S1)
    cross = np.linalg.eigvalsh(r1 @ S2 @ r1)
    tr_cross = float(np.sum(np.sqrt(np.clip(cross, 0, None))))
    value = float(np.sum((m1 - m2) ** 2) + np.trace(S1) + np.trace(S2) - 2 * tr_cross)
    return max(value, 0.0)


def frechet_distance_samples(x: Any, y: Any) -> float:
    """Fréchet distance between Gaussians fitted to feature vectors ``x`` ``(n, d)`` and ``y`` ``(m, d)``.

    Means and (unbiased) covariances are estimated from the samples, so even two samples of the
    same distribution give a positive value that shrinks as ``n`` grows: compare with a
    real-vs-real value computed with the same sample sizes.

    Introduced in chapter 10.
    """
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"x (n, d) and y (m, d) must agree in d, got {a.shape} and {b.shape}")
    if len(a) < 2 or len(b) < 2:
        raise ValueError("need at least two samples on each side to estimate a covariance")
    return frechet_distance(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))


def conv_transpose_output_size(
    n: int, kernel: int, stride: int = 1, padding: int = 0, output_padding: int = 0, dilation: int = 1
) -> int:
    """Output length of a transposed convolution along one axis (``torch.nn.ConvTranspose2d``'s formula).

    ``(n - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1``: the input
    length of the convolution whose gradient (adjoint) it is; ``output_padding < stride``
    chooses among the input lengths that the strided convolution maps to the same ``n``.

    Introduced in chapter 10.
    """
    for name, v, lo in (("n", n, 1), ("kernel", kernel, 1), ("stride", stride, 1), ("dilation", dilation, 1)):
        if int(v) != v or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    if int(padding) != padding or padding < 0:
        raise ValueError(f"padding must be a non-negative integer, got {padding!r}")
    if int(output_padding) != output_padding or not 0 <= output_padding < max(stride, dilation):
        raise ValueError(f"output_padding must be an integer in [0, max(stride, dilation)), got {output_padding!r}")
    out = (n - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1
    if out < 1:
        raise ValueError(f"these settings give an empty output ({out})")
    return int(out)
