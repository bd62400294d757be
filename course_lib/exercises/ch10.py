"""Checkers for chapter 10, "Generative adversarial networks" (chapters/10a-10b)."""

from __future__ import annotations

from typing import Any

import numpy as np

from course_lib import gan
from course_lib.exercises._core import CheckFailed, call, expect_array, expect_equal, register, to_numpy


def _close(a: Any, b: Any, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    try:
        a = to_numpy(a)
    except CheckFailed:
        return False
    b = np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -a))


# ---------------------------------------------------------------------------- 10a
@register("ch10.optimal_discriminator")
def _optimal_discriminator(optimal_discriminator: Any) -> str:
    """``optimal_discriminator(p_data, p_g)`` -> ``D*`` (same shape): p_data / (p_data + p_g)."""
    x = np.linspace(-4, 4, 41)
    p = np.exp(-0.5 * (x - 1) ** 2) / np.sqrt(2 * np.pi)
    q = np.exp(-0.5 * ((x + 0.5) / 1.5) ** 2) / (1.5 * np.sqrt(2 * np.pi))
    got = call(optimal_discriminator, p.copy(), q.copy())
    if _close(got, q / (p + q)):
        raise CheckFailed(
            "you return p_g / (p_data + p_g): that is 1 - D*. The discriminator outputs the "
            "probability that x is REAL, so p_data goes in the numerator."
        )
    if _close(got, p / q):
        raise CheckFailed("you return the density ratio p_data / p_g; D* divides by the sum p_data + p_g.")
    expect_array(got, p / (p + q), rtol=1e-6, atol=1e-9, what="D* on a grid of two Gaussians")
    p2, q2 = np.array([0.0, 0.2, 0.0, 1.0]), np.array([0.0, 0.2, 0.5, 0.0])
    got2 = to_numpy(call(optimal_discriminator, p2.copy(), q2.copy()), "D* where the densities vanish")
    if got2.shape != (4,) or not np.all(np.isfinite(got2)):
        raise CheckFailed(
            "where p_data = p_g = 0 your D* is not a finite number (0/0); any value is optimal there: "
            "return 0.5, e.g. with np.divide(..., where=total > 0)."
        )
    expect_array(got2[1:], [0.5, 0.0, 1.0], what="D* where one density is zero")
    return "D*(x) = p_data / (p_data + p_g): 1/2 wherever the generator matches the data."


@register("ch10.nonsaturating_loss")
def _nonsaturating_loss(nonsaturating_loss: Any) -> str:
    """``nonsaturating_loss(logits)`` -> ``(loss, grad)``: mean of -log sigmoid(a) and its gradient (N,)."""
    rng = np.random.default_rng(0)
    for a in (rng.normal(size=7) * 3, np.array([-30.0, -800.0, 0.0, 5.0])):
        out = call(nonsaturating_loss, a.copy())
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise CheckFailed("return a pair (loss, grad): the mean loss (a number) and its gradient (N,).")
        loss, grad = out
        want_loss = float(np.mean(np.logaddexp(0.0, -a)))
        want_grad = -(1 - _sigmoid(a)) / len(a)
        sat_loss = float(np.mean(-np.logaddexp(0.0, a)))  # mean log(1 - sigmoid(a))
        if _close(loss, sat_loss, rtol=1e-5):
            raise CheckFailed(
                "this is the saturating loss mean log(1 - D(G(z))); the non-saturating one is "
                "mean -log D(G(z)) = mean softplus(-a)."
            )
        if _close(grad, -(1 - _sigmoid(a))):
            raise CheckFailed("your gradient is N times too large: the loss is a MEAN, so divide by N.")
        lv = to_numpy(loss, "the loss")
        if not np.all(np.isfinite(lv)) or not np.all(np.isfinite(to_numpy(grad, "the gradient"))):
            raise CheckFailed(
                "for a very negative logit (a = -800) your loss or gradient is not finite: compute "
                "-log sigmoid(a) as softplus(-a) = np.logaddexp(0, -a), never as -log(sigmoid(a))."
            )
        expect_array(lv.reshape(()), want_loss, rtol=1e-6, what="the mean non-saturating loss")
        expect_array(grad, want_grad, rtol=1e-6, atol=1e-12, what="dL/da")
    return "loss = mean softplus(-a), dL/da = -(1 - sigmoid(a))/N: close to -1/N when D rejects the fake."


def _diagnose_reference(counts: np.ndarray, n: int) -> str:
    if counts.sum() / n < 0.5:
        return "low quality"
    if np.any(counts < 0.02 * n):
        return "mode collapse"
    return "healthy"


@register("ch10.diagnose")
def _diagnose(diagnose: Any) -> str:
    """``diagnose(counts, n)`` -> "healthy" / "mode collapse" / "low quality"."""
    cases = [
        (np.array([120, 118, 125, 130, 119, 121, 117, 122]), 1000, "healthy"),
        (np.array([0, 0, 480, 0, 0, 0, 470, 0]), 1000, "mode collapse"),
        (np.array([20, 22, 18, 25, 21, 19, 23, 20]), 1000, "low quality"),
        (np.array([300, 0, 0, 0, 0, 0, 0, 0]), 1000, "low quality"),
        (np.array([140, 140, 140, 140, 140, 140, 10, 10]), 1000, "mode collapse"),
        (np.array([60, 60, 62, 61, 60, 59, 58, 60]), 500, "healthy"),
    ]
    for counts, n, want in cases:
        got = call(diagnose, counts.copy(), n)
        if want == "mode collapse" and got == "healthy":
            raise CheckFailed(
                f"counts {counts.tolist()} of n={n} are high quality but some modes get almost "
                "nothing: that is mode collapse. Check every mode against 2% of n."
            )
        if want == "low quality" and got == "mode collapse":
            raise CheckFailed(
                f"counts {counts.tolist()} of n={n}: fewer than half the samples are near any mode; "
                "test the high-quality share first, since empty modes mean little when most samples are junk."
            )
        expect_equal(got, want, what=f"diagnose(counts={counts.tolist()}, n={n})")
    return "quality first (share near a mode), then coverage (every mode gets its share)."


# ---------------------------------------------------------------------------- 10b
@register("ch10.convT_output_size")
def _convT_output_size(convT_output_size: Any) -> str:
    """``convT_output_size(n, kernel, stride, padding, output_padding)`` -> int."""
    for args in ((7, 4, 2, 1, 0), (4, 3, 1, 0, 0), (5, 3, 2, 1, 1), (1, 7, 1, 0, 0), (14, 5, 3, 2, 2)):
        got = call(convT_output_size, *args)
        want = gan.conv_transpose_output_size(*args)
        n, k, s, p, op = args
        if got == (n - k + 2 * p) // s + 1:
            raise CheckFailed(
                f"for {args} you return the output size of a CONVOLUTION; the transposed "
                "convolution maps the other way: (n - 1) * s - 2p + k + output_padding."
            )
        if got == want - op and op > 0:
            raise CheckFailed(f"for {args}: output_padding adds that many rows at the end; you forgot it.")
        expect_equal(got, want, what=f"convT_output_size{args}")
    return "(n - 1) s - 2p + k + output_padding, torch.nn.ConvTranspose2d's formula."


@register("ch10.frechet_gaussians")
def _frechet_gaussians(frechet_gaussians: Any) -> str:
    """``frechet_gaussians(mu1, S1, mu2, S2)`` -> float, the Fréchet distance of two Gaussians."""
    rng = np.random.default_rng(3)
    for d in (1, 3, 5):
        A, B = rng.normal(size=(d, d)), rng.normal(size=(d, d))
        S1, S2 = A @ A.T + 0.1 * np.eye(d), B @ B.T + 0.1 * np.eye(d)
        m1, m2 = rng.normal(size=d), rng.normal(size=d)
        got = call(frechet_gaussians, m1.copy(), S1.copy(), m2.copy(), S2.copy())
        want = gan.frechet_distance(m1, S1, m2, S2)
        if _close(got, float(np.sum((m1 - m2) ** 2))):
            raise CheckFailed("you return only the squared distance of the means; add the covariance term.")
        if d > 1 and _close(got, float(np.sum((m1 - m2) ** 2) + np.trace(S1 + S2 - 2 * np.sqrt(np.abs(S1 * S2))))):
            raise CheckFailed(
                "you take an elementwise square root; the trace term needs the MATRIX square root "
                "(S1^1/2 S2 S1^1/2)^1/2, e.g. by np.linalg.eigh."
            )
        if _close(got, np.sqrt(max(want, 0.0))):
            raise CheckFailed("you return the square root; the Fréchet distance used for FID is the squared one.")
        expect_array(
            np.asarray(to_numpy(got, "the distance")).reshape(()),
            want,
            rtol=1e-6,
            atol=1e-9,
            what=f"the Fréchet distance in {d} dimensions",
        )
    same = call(frechet_gaussians, np.zeros(2), np.eye(2), np.zeros(2), np.eye(2))
    expect_array(
        np.asarray(to_numpy(same, "d(N(0, I), N(0, I))")).reshape(()),
        0.0,
        atol=1e-8,
        what="the distance of a Gaussian to itself",
    )
    return "||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2); zero for identical Gaussians."
