"""Chapter 7 exercise answers (7a-7d): references, and wrong answers with their hint."""

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


def count_params(input_shape, layers, bias=True, in_channels=True, pooling=True):
    """The parameter count of a conv/pool/dense stack; a flag switched off is a typical mistake."""
    c, h, w = input_shape
    features, total = 0, 0
    for layer in layers:
        if layer[0] == "conv":
            _, out, k, p = layer
            total += out * ((c if in_channels else 1) * k * k + int(bias))
            c, h, w = out, h + 2 * p - k + 1, w + 2 * p - k + 1
        elif layer[0] == "pool" and pooling:
            h, w = h // layer[1], w // layer[1]
        elif layer[0] == "flatten":
            features = c * h * w
        elif layer[0] == "dense":
            total += layer[1] * (features + int(bias))
            features = layer[1]
    return total


def cnn_params(input_shape, layers):
    return count_params(input_shape, layers)


def keras_loss_for(output, labels):
    import keras

    from_logits = output == "logits"
    if labels == "integer":
        return keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    return keras.losses.CategoricalCrossentropy(from_logits=from_logits)


def receptive_field(layers):
    r, j, out = 1, 1, []
    for k, s, d in layers:
        r += d * (k - 1) * j
        j *= s
        out.append(r)
    return out


def fold_batchnorm(w, b, gamma, beta, mean, var, eps):
    scale = gamma / np.sqrt(var + eps)
    return w * scale[:, None, None, None], (b - mean) * scale + beta


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


def _always_sparse_from_logits(output, labels):
    import keras

    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def _right_labels_always_from_logits(output, labels):
    import keras

    cls = keras.losses.SparseCategoricalCrossentropy if labels == "integer" else keras.losses.CategoricalCrossentropy
    return cls(from_logits=True)


class _LossRaisingOnCall:
    def __call__(self, y, p):
        raise RuntimeError("bad loss")


def _rf_without_dilation(layers):
    r, j, out = 1, 1, []
    for k, s, _ in layers:
        r += (k - 1) * j
        j *= s
        out.append(r)
    return out


def _rf_jump_updated_first(layers):
    r, j, out = 1, 1, []
    for k, s, d in layers:
        j *= s
        r += d * (k - 1) * j
        out.append(r)
    return out


def _fold_no_eps(w, b, g, be, m, v, eps):
    return w * (g / np.sqrt(v))[:, None, None, None], b


def _fold_by_variance(w, b, g, be, m, v, eps):
    return w * (g / (v + eps))[:, None, None, None], b


def _fold_bias_without_beta(w, b, g, be, m, v, eps):
    return w * (g / np.sqrt(v + eps))[:, None, None, None], (b - m) * g / np.sqrt(v + eps)


def _fold_mean_after_scaling(w, b, g, be, m, v, eps):
    return w * (g / np.sqrt(v + eps))[:, None, None, None], b * g / np.sqrt(v + eps) + be - m


def _fold_not_broadcast(w, b, g, be, m, v, eps):
    return w * g / np.sqrt(v + eps), b


PASS = [
    ("ch07.output_size", output_size),
    ("ch07.conv1ch", conv1ch),
    ("ch07.maxpool_grad", maxpool_grad),
    ("ch07.conv_input_grad", conv_input_grad),
    ("ch07.cnn_params", cnn_params),
    ("ch07.keras_loss_for", keras_loss_for),
    ("ch07.receptive_field", receptive_field),
    ("ch07.fold_batchnorm", fold_batchnorm),
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
    ("ch07.cnn_params", lambda s, layers: count_params(s, layers, bias=False), "biases"),
    ("ch07.cnn_params", lambda s, layers: count_params(s, layers, in_channels=False), "all input channels"),
    ("ch07.cnn_params", lambda s, layers: count_params(s, layers, pooling=False), "Pooling has no parameters"),
    ("ch07.cnn_params", lambda s, layers: count_params(s, layers) + 1, "Track (C, H, W)"),
    ("ch07.keras_loss_for", _always_sparse_from_logits, "CategoricalCrossentropy"),
    ("ch07.keras_loss_for", _right_labels_always_from_logits, "softmax applied twice"),
    ("ch07.keras_loss_for", lambda output, labels: _LossRaisingOnCall(), "RuntimeError"),
    ("ch07.receptive_field", _rf_without_dilation, "dilation"),
    ("ch07.receptive_field", _rf_jump_updated_first, "old jump"),
    ("ch07.receptive_field", lambda layers: list(np.cumsum([d * (k - 1) for k, _, d in layers]) + 1), "running jump"),
    ("ch07.receptive_field", lambda layers: [5] * len(layers), "Start from r = 1"),
    ("ch07.fold_batchnorm", _fold_no_eps, "eps"),
    ("ch07.fold_batchnorm", _fold_by_variance, "standard deviation"),
    ("ch07.fold_batchnorm", _fold_bias_without_beta, "beta"),
    ("ch07.fold_batchnorm", _fold_mean_after_scaling, "before scaling"),
    ("ch07.fold_batchnorm", _fold_not_broadcast, "shape"),
]
