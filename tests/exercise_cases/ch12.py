"""Chapter 12 exercise answers (12a-12b): references, and wrong answers with their hint."""

import numpy as np


# -- reference solutions -------------------------------------------------------------------------
def grad_x_input(model, x, target):
    x = x.clone().requires_grad_(True)
    model(x)[:, target].sum().backward()
    return (x * x.grad).detach()


def integrated_gradients(f, f_grad, x, baseline, steps):
    g = np.mean([f_grad(baseline + k / steps * (x - baseline)) for k in range(1, steps + 1)], axis=0)
    attr = (x - baseline) * g
    return attr, attr.sum() - (f(x) - f(baseline))


def occlusion_drops(score, image, patch):
    h, w = image.shape
    full = score(image[None])[0]
    out = np.zeros((h // patch, w // patch))
    for i in range(h // patch):
        for j in range(w // patch):
            z = image.copy()
            z[i * patch : (i + 1) * patch, j * patch : (j + 1) * patch] = 0.0
            out[i, j] = full - score(z[None])[0]
    return out


def spearman(a, b):
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return np.corrcoef(ra, rb)[0, 1]


# -- typical wrong answers -----------------------------------------------------------------------
def _softmax_gxi(model, x, target):
    import torch

    x = x.clone().requires_grad_(True)
    torch.softmax(model(x), 1)[:, target].sum().backward()
    return (x * x.grad).detach()


def _plain_grad(model, x, target):
    x = x.clone().requires_grad_(True)
    model(x)[:, target].sum().backward()
    return x.grad


def _ig_no_multiply(f, f_grad, x, baseline, steps):
    attr, _ = integrated_gradients(f, f_grad, x, baseline, steps)
    return attr / (x - baseline), 0.0


def _ig_wrong_gap_sign(f, f_grad, x, baseline, steps):
    attr, gap = integrated_gradients(f, f_grad, x, baseline, steps)
    return attr, -gap


def _abs_gxi(model, x, target):
    return grad_x_input(model, x, target).abs()


def _ig_left_rule(f, f_grad, x, baseline, steps):
    g = np.mean([f_grad(baseline + k / steps * (x - baseline)) for k in range(steps)], axis=0)
    attr = (x - baseline) * g
    return attr, attr.sum() - (f(x) - f(baseline))


PASS = [
    ("ch12.grad_x_input", grad_x_input),
    ("ch12.integrated_gradients", integrated_gradients),
    ("ch12.occlusion_drops", occlusion_drops),
    ("ch12.spearman", spearman),
]

FAIL = [
    ("ch12.grad_x_input", _softmax_gxi, "softmax"),
    ("ch12.grad_x_input", _plain_grad, "plain gradient"),
    ("ch12.grad_x_input", _abs_gxi, "keep the sign"),
    ("ch12.integrated_gradients", _ig_no_multiply, "averaged gradient"),
    ("ch12.integrated_gradients", _ig_wrong_gap_sign, "wrong sign"),
    ("ch12.integrated_gradients", _ig_left_rule, "left rule"),
    ("ch12.occlusion_drops", lambda s, im, p: -occlusion_drops(s, im, p), "flipped"),
    ("ch12.occlusion_drops", lambda s, im, p: np.zeros((2, 2)), "shape"),
    ("ch12.spearman", lambda a, b: np.corrcoef(a, b)[0, 1], "Pearson"),
]
