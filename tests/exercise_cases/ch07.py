"""Chapter 7 exercise answers: references, and wrong answers with their hint."""

import numpy as np


# -- reference solutions -------------------------------------------------------------------------
def output_size(H, k, p, s, d):
    return (H + 2 * p - d * (k - 1) - 1) // s + 1


def conv1ch(x, k, stride=1, dilation=1):
    kh, kw = k.shape
    Ho = (x.shape[0] - dilation * (kh - 1) - 1) // stride + 1
    Wo = (x.shape[1] - dilation * (kw - 1) - 1) // stride + 1
    out = np.zeros((Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            rows = slice(i * stride, i * stride + dilation * (kh - 1) + 1, dilation)
            cols = slice(j * stride, j * stride + dilation * (kw - 1) + 1, dilation)
            out[i, j] = np.sum(x[rows, cols] * k)
    return out


def maxpool_grad(x, grad_out, k):
    dx = np.zeros_like(x)
    for i in range(grad_out.shape[0]):
        for j in range(grad_out.shape[1]):
            win = x[i * k : (i + 1) * k, j * k : (j + 1) * k]
            m, n = np.unravel_index(np.argmax(win), win.shape)
            dx[i * k + m, j * k + n] += grad_out[i, j]
    return dx


def conv_input_grad(grad_out, k):
    kh, kw = k.shape
    padded = np.pad(grad_out, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
    return conv1ch(padded, k[::-1, ::-1])


# -- typical wrong answers -----------------------------------------------------------------------
def conv1ch_flipped(x, k, stride=1, dilation=1):
    return conv1ch(x, k[::-1, ::-1], stride, dilation)


def conv1ch_no_stride(x, k, stride=1, dilation=1):
    return conv1ch(x, k, 1, dilation)


def conv1ch_no_dilation(x, k, stride=1, dilation=1):
    return conv1ch(x, k, stride, 1)


def maxpool_grad_even(x, g, k):
    dx = np.zeros_like(x)
    h, w = g.shape[0] * k, g.shape[1] * k
    dx[:h, :w] = np.kron(g, np.ones((k, k))) / k**2
    return dx


def maxpool_grad_all_ties(x, g, k):
    dx = np.zeros_like(x)
    for i in range(g.shape[0]):
        for j in range(g.shape[1]):
            win = x[i * k : (i + 1) * k, j * k : (j + 1) * k]
            dx[i * k : (i + 1) * k, j * k : (j + 1) * k] += (win == win.max()) * g[i, j]
    return dx


def conv_input_grad_no_flip(g, k):
    kh, kw = k.shape
    return conv1ch(np.pad(g, ((kh - 1, kh - 1), (kw - 1, kw - 1))), k)


PASS = [
    ("ch07.output_size", output_size),
    ("ch07.conv1ch", conv1ch),
    ("ch07.maxpool_grad", maxpool_grad),
    ("ch07.conv_input_grad", conv_input_grad),
]

FAIL = [
    ("ch07.output_size", lambda H, k, p, s, d: (H + 2 * p - k) // s + 1, "dilation"),
    ("ch07.output_size", lambda H, k, p, s, d: (H + 2 * p - d * (k - 1) - 1) // s, "count the first position"),
    ("ch07.output_size", lambda H, k, p, s, d: (H + p - d * (k - 1) - 1) // s + 1, "both"),
    ("ch07.output_size", lambda H, k, p, s, d: -(-(H + 2 * p - d * (k - 1) - 1) // s) + 1, "round down"),
    ("ch07.output_size", lambda H, k, p, s, d: (H + 2 * p - d * (k - 1) - 1) / s + 1, "floor division"),
    ("ch07.conv1ch", conv1ch_flipped, "flipped the kernel"),
    ("ch07.conv1ch", conv1ch_no_stride, "ignored the stride"),
    ("ch07.conv1ch", conv1ch_no_dilation, "ignored the dilation"),
    ("ch07.maxpool_grad", maxpool_grad_even, "average pooling"),
    ("ch07.maxpool_grad", maxpool_grad_all_ties, "first one"),
    ("ch07.maxpool_grad", lambda x, g, k: maxpool_grad(x, np.ones_like(g), k), "upstream gradient"),
    ("ch07.conv_input_grad", conv_input_grad_no_flip, "flipped"),
    ("ch07.conv_input_grad", lambda g, k: conv1ch(g, k), "full"),
]
