"""Checkers for chapter 12, "Interpretability" (chapters/12a_attributions, 12b_sanity_faithfulness)."""

from __future__ import annotations

from typing import Any

import numpy as np

from course_lib.exercises._core import CheckFailed, call, expect_array, register, to_numpy


# ---------------------------------------------------------------------------- 12a
def _tiny_cnn(seed: int) -> Any:
    import torch
    from torch import nn

    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 6 * 6, 4)).eval()


def _grad(model: Any, x: Any, target: int, softmax: bool = False) -> np.ndarray:
    import torch

    x = x.clone().requires_grad_(True)
    out = model(x)
    if softmax:
        out = torch.softmax(out, dim=1)
    out[:, target].sum().backward()
    return x.grad.numpy()


@register("ch12.grad_x_input")
def _grad_x_input(grad_x_input: Any) -> str:
    """``grad_x_input(model, x, target)``: ``x * d logit_target / d x`` for a batch ``x`` (N, 1, H, W)."""
    import torch

    for seed, target in ((0, 1), (1, 3)):
        model = _tiny_cnn(seed)
        x = torch.randn(2, 1, 6, 6, generator=torch.Generator().manual_seed(seed))
        got = to_numpy(call(grad_x_input, model, x.clone(), target), "grad_x_input(model, x, target)")
        xn = x.numpy()
        want = xn * _grad(model, x, target)
        if got.shape == want.shape and not np.allclose(got, want, rtol=1e-4, atol=1e-6):
            if np.allclose(got, xn * _grad(model, x, target, softmax=True), rtol=1e-4, atol=1e-6):
                raise CheckFailed(
                    "you differentiated the softmax probability; attribute the logit "
                    "(model(x)[:, target]) instead: the softmax couples every class and saturates."
                )
            if np.allclose(got, _grad(model, x, target), rtol=1e-4, atol=1e-6):
                raise CheckFailed("that is the plain gradient: multiply it by the input x, element by element.")
            if np.allclose(got, np.abs(xn * _grad(model, x, target)), rtol=1e-4, atol=1e-6):
                raise CheckFailed("keep the sign: gradient x input is signed (no absolute value).")
        expect_array(got, want, rtol=1e-4, atol=1e-6, what=f"grad_x_input (target={target})")
    return "x times the gradient of the target logit, for every image of the batch."


def _ig_reference(f_grad: Any, x: np.ndarray, baseline: np.ndarray, steps: int) -> np.ndarray:
    alphas = np.arange(1, steps + 1) / steps
    g = np.mean([f_grad(baseline + a * (x - baseline)) for a in alphas], axis=0)
    return (x - baseline) * g


@register("ch12.integrated_gradients")
def _integrated_gradients(integrated_gradients: Any) -> str:
    """``integrated_gradients(f, f_grad, x, baseline, steps)`` -> ``(attributions, gap)`` (right Riemann rule)."""
    rng = np.random.default_rng(0)
    w = rng.normal(size=5)

    def f(z: np.ndarray) -> float:
        return float(np.sum(np.tanh(w * z)) + 0.5 * z[0] * z[1])

    def f_grad(z: np.ndarray) -> np.ndarray:
        g = w * (1.0 - np.tanh(w * z) ** 2)
        g[0] += 0.5 * z[1]
        g[1] += 0.5 * z[0]
        return g

    for steps in (4, 50):
        x, base = rng.normal(size=5) * 2, rng.normal(size=5) * 0.1
        got = call(integrated_gradients, f, f_grad, x.copy(), base.copy(), steps)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise CheckFailed(f"return a pair (attributions, gap), got {type(got).__name__}.")
        attr = to_numpy(got[0], "the attributions")
        want = _ig_reference(f_grad, x, base, steps)
        if attr.shape == want.shape and not np.allclose(attr, want, rtol=1e-6, atol=1e-9):
            left = _ig_reference(f_grad, x, base, steps) + (x - base) * (f_grad(base) - f_grad(x)) / steps
            if np.allclose(attr, left, rtol=1e-6, atol=1e-9):
                raise CheckFailed(
                    "you used alpha = 0, ..., (steps-1)/steps (left rule); use alpha_k = k/steps, k = 1..steps."
                )
            if np.allclose(attr, want / (x - base), rtol=1e-6, atol=1e-9):
                raise CheckFailed("that is the averaged gradient: multiply it by (x - baseline).")
        expect_array(attr, want, rtol=1e-6, atol=1e-9, what=f"the attributions with steps={steps}")
        gap = to_numpy(got[1], "the gap")
        want_gap = float(want.sum() - (f(x) - f(base)))
        if gap.shape != ():
            raise CheckFailed(f"the gap should be one number, got shape {gap.shape}.")
        if np.isclose(float(gap), -want_gap, rtol=1e-6, atol=1e-9) and abs(want_gap) > 1e-9:
            raise CheckFailed("the gap has the wrong sign: compute sum(attributions) - (f(x) - f(baseline)).")
        expect_array(gap, want_gap, rtol=1e-6, atol=1e-9, what=f"the completeness gap with steps={steps}")
    return "right-Riemann integrated gradients; the completeness gap shrinks as steps grows."


# ---------------------------------------------------------------------------- 12b
def _occlusion_reference(score: Any, image: np.ndarray, patch: int) -> np.ndarray:
    h, w = image.shape
    full = score(image[None])[0]
    out = np.zeros((h // patch, w // patch))
    for i in range(h // patch):
        for j in range(w // patch):
            z = image.copy()
            z[i * patch : (i + 1) * patch, j * patch : (j + 1) * patch] = 0.0
            out[i, j] = full - score(z[None])[0]
    return out


@register("ch12.occlusion_drops")
def _occlusion_drops(occlusion_drops: Any) -> str:
    """``occlusion_drops(score, image, patch)``: ``(H/patch, W/patch)`` score drops, non-overlapping patches."""
    rng = np.random.default_rng(2)
    for size, patch in ((8, 2), (12, 4), (6, 3)):
        w = rng.normal(size=(size, size))

        def score(images: np.ndarray, w: np.ndarray = w) -> np.ndarray:
            return np.tanh((np.asarray(images) * w).sum(axis=(1, 2)) / 4)

        image = rng.random((size, size))
        got = to_numpy(call(occlusion_drops, score, image.copy(), patch), f"occlusion_drops(score, image, {patch})")
        want = _occlusion_reference(score, image, patch)
        if got.shape != want.shape:
            raise CheckFailed(
                f"for a {size}x{size} image and patch {patch}, return one drop per patch: shape "
                f"{want.shape}, got {got.shape}."
            )
        if np.allclose(got, -want, rtol=1e-6, atol=1e-9):
            raise CheckFailed("the sign is flipped: the drop is score(original) - score(occluded).")
        expect_array(got, want, rtol=1e-6, atol=1e-9, what=f"the drops with patch {patch}")
    return "one score drop per patch: large where the patch mattered."


def _spearman_reference(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


@register("ch12.spearman")
def _spearman(spearman: Any) -> str:
    """``spearman(a, b)``: Spearman rank correlation of two 1-D arrays without ties."""
    rng = np.random.default_rng(3)
    cases = [(x := rng.normal(size=50), np.exp(3 * x)), (rng.normal(size=30), rng.normal(size=30))]
    x = rng.normal(size=40)
    cases.append((x, -(x**3) + 0.1 * rng.normal(size=40)))
    for a, b in cases:
        got = to_numpy(call(spearman, a.copy(), b.copy()), "spearman(a, b)")
        if got.shape != ():
            raise CheckFailed(f"return one number, got shape {got.shape}.")
        want = _spearman_reference(a, b)
        if not np.isclose(float(got), want, atol=1e-9) and np.isclose(float(got), np.corrcoef(a, b)[0, 1]):
            raise CheckFailed(
                "that is Pearson's correlation of the values; Spearman's is Pearson's correlation of "
                "their ranks (np.argsort(np.argsort(a)))."
            )
        expect_array(got, want, rtol=1e-9, atol=1e-9, what="the rank correlation")
    return "rank correlation: 1 for any increasing relation, -1 for any decreasing one."
