"""Layers from scratch in NumPy, each with a forward and a backward pass (chapter 6).

Introduced in chapter 6, "Training practice and regularization":

- activation functions and their derivatives (:func:`sigmoid`, :func:`tanh`, :func:`relu`,
  :func:`leaky_relu`, :func:`gelu` and the matching ``*_grad``), all elementwise, any shape;
- :class:`Dropout`: inverted dropout with a training and an evaluation mode;
- :class:`BatchNorm1d`: batch normalization of ``(N, D)`` inputs with batch statistics in
  training and running statistics at inference, following either PyTorch's or Keras's
  convention for the running averages (see the class docstring).

Everything is NumPy only; the unit tests (``tests/test_layers.py``) check each piece against
PyTorch and Keras.
"""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np

# The activations' one home is course_lib.activations (chapter 2 introduces sigmoid, tanh and
# ReLU); chapter 6 reads them as ``layers.sigmoid``, ``layers.activation("gelu")``..., so they
# are re-exported here (``name as name``: an explicit re-export).
from course_lib.activations import ACTIVATIONS as ACTIVATIONS
from course_lib.activations import activation as activation
from course_lib.activations import as_float_array
from course_lib.activations import gelu as gelu
from course_lib.activations import gelu_grad as gelu_grad
from course_lib.activations import leaky_relu as leaky_relu
from course_lib.activations import leaky_relu_grad as leaky_relu_grad
from course_lib.activations import relu as relu
from course_lib.activations import relu_grad as relu_grad
from course_lib.activations import sigmoid as sigmoid
from course_lib.activations import sigmoid_grad as sigmoid_grad
from course_lib.activations import tanh as tanh
from course_lib.activations import tanh_grad as tanh_grad
from course_lib.init import make_rng
from course_lib.validation import one_of, positive_int, real

# ----------------------------------------------------------------------------------------------
# The training/evaluation switch that Dropout and BatchNorm1d share
# ----------------------------------------------------------------------------------------------

_LayerT = TypeVar("_LayerT", bound="Layer")


class Layer:
    """A layer whose behaviour depends on the mode, as ``torch.nn.Module``: :meth:`train` / :meth:`eval`.

    Introduced in chapter 6. Keras passes ``training=True/False`` at each call instead (``fit``
    does it for you); the layers here accept that too, as the ``training`` argument of ``forward``.
    """

    training: bool = True

    def train(self: _LayerT) -> _LayerT:
        """Switch to training mode (random masks, batch statistics); returns ``self``."""
        self.training = True
        return self

    def eval(self: _LayerT) -> _LayerT:
        """Switch to evaluation mode (identity, running statistics; nothing updated); returns ``self``."""
        self.training = False
        return self


# ----------------------------------------------------------------------------------------------
# Dropout
# ----------------------------------------------------------------------------------------------


class Dropout(Layer):
    """Inverted dropout (Srivastava et al., 2014), as ``torch.nn.Dropout`` and ``keras.layers.Dropout``.

    In training mode each entry is zeroed with probability ``rate`` and the survivors are
    multiplied by ``1 / (1 - rate)``, so the expected output equals the input; in evaluation
    mode the layer is the identity. ``rate`` is the probability to *drop* (PyTorch's ``p``,
    Keras's ``rate``). Inputs have any shape; the mask has the same shape.

    PyTorch switches mode on the module (``model.train()`` / ``model.eval()``); Keras passes
    ``training=True/False`` at each call (``fit`` does it for you). Here: :meth:`train`,
    :meth:`eval`, or the ``training`` argument of :meth:`forward`.

    Introduced in chapter 6.
    """

    def __init__(self, rate: float = 0.5, rng: np.random.Generator | int | None = None) -> None:
        self.rate = real(
            "rate",
            rate,
            low=0.0,
            high=1.0,
            high_open=True,
            hint="rate is the probability to drop an entry (PyTorch's p, Keras's rate).",
        )
        self.rng = make_rng(rng)
        self.training = True
        self.mask: np.ndarray | None = None

    def forward(self, x: Any, training: bool | None = None) -> np.ndarray:
        """``x`` (any shape) -> same shape. ``training`` overrides the layer's mode for this call."""
        x = as_float_array(x)
        training = self.training if training is None else bool(training)
        if not training or self.rate == 0.0:
            self.mask = np.ones_like(x)
            return x.copy()
        keep = 1.0 - self.rate
        self.mask = (self.rng.random(x.shape) < keep).astype(x.dtype) / keep
        return x * self.mask

    __call__ = forward

    def backward(self, grad_out: Any) -> np.ndarray:
        """Gradient with respect to the input: ``grad_out * mask`` (the mask of the last forward)."""
        if self.mask is None:
            raise ValueError("call forward() before backward(): the mask comes from the forward pass")
        grad_out = as_float_array(grad_out, "grad_out")
        if grad_out.shape != self.mask.shape:
            raise ValueError(f"grad_out has shape {grad_out.shape}, the last forward input had {self.mask.shape}")
        return grad_out * self.mask


# ----------------------------------------------------------------------------------------------
# Batch normalization
# ----------------------------------------------------------------------------------------------

CONVENTIONS = {
    # convention: (default momentum, default eps, unbiased running variance)
    "torch": (0.1, 1e-5, True),
    "keras": (0.99, 1e-3, False),
}


class BatchNorm1d(Layer):
    """Batch normalization of ``(N, D)`` inputs (Ioffe and Szegedy, 2015), forward and backward.

    Training mode normalizes each feature with the *batch* mean and (biased) variance,
    ``y = gamma * (x - mean) / sqrt(var + eps) + beta``, and updates running averages of the
    statistics; evaluation mode uses the running averages instead, so a prediction does not
    depend on the other examples in the batch.

    **Momentum conventions.** The two frameworks use the word "momentum" for opposite weights:

    - ``convention="torch"`` (``torch.nn.BatchNorm1d``): ``momentum`` is the weight of the *new*
      batch statistic, ``running = (1 - momentum) * running + momentum * batch``, default 0.1;
      ``eps`` default 1e-5; the running variance stores the *unbiased* batch variance
      (times ``N / (N - 1)``).
    - ``convention="keras"`` (``keras.layers.BatchNormalization``): ``momentum`` is the weight of
      the *old* running value, ``running = momentum * running + (1 - momentum) * batch``,
      default 0.99; ``eps`` (Keras's ``epsilon``) default 1e-3; the running variance stores the
      *biased* batch variance.

    So PyTorch's ``momentum=0.1`` corresponds to Keras's ``momentum=0.9``. ``momentum`` and
    ``eps`` left as ``None`` take the convention's default. Parameters: ``gamma`` and ``beta``
    ``(D,)``; after :meth:`backward`, their gradients are in ``dgamma`` and ``dbeta``.

    Introduced in chapter 6.
    """

    def __init__(
        self, num_features: int, momentum: float | None = None, eps: float | None = None, convention: str = "torch"
    ) -> None:
        one_of("convention", convention, tuple(CONVENTIONS))
        self.num_features = positive_int("num_features", num_features, hint="It is the D of (N, D) inputs.")
        default_m, default_eps, unbiased = CONVENTIONS[convention]
        self.convention = convention
        self.momentum = real(
            "momentum",
            default_m if momentum is None else momentum,
            low=0.0,
            high=1.0,
            hint="PyTorch's 0.1 is Keras's 0.9: see the class docstring.",
        )
        self.eps = real(
            "eps",
            default_eps if eps is None else eps,
            low=0.0,
            low_open=True,
            hint="Typical values are 1e-5 (PyTorch) or 1e-3 (Keras).",
        )
        self.unbiased_running_var = unbiased
        self.gamma = np.ones(self.num_features)
        self.beta = np.zeros(self.num_features)
        self.running_mean = np.zeros(self.num_features)
        self.running_var = np.ones(self.num_features)
        self.training = True
        self.dgamma: np.ndarray | None = None
        self.dbeta: np.ndarray | None = None
        self._cache: tuple[Any, ...] | None = None

    @property
    def new_weight(self) -> float:
        """The weight of the new batch statistic in the running average, in either convention."""
        return self.momentum if self.convention == "torch" else 1.0 - self.momentum

    def _check_input(self, x: Any) -> np.ndarray:
        x = as_float_array(x)
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm1d expects inputs of shape (N, {self.num_features}), got {x.shape}")
        return x

    def forward(self, x: Any, training: bool | None = None) -> np.ndarray:
        """``x`` ``(N, D)`` -> ``(N, D)``. ``training`` overrides the layer's mode for this call."""
        x = self._check_input(x)
        training = self.training if training is None else bool(training)
        if training:
            n = x.shape[0]
            if n < 2:
                raise ValueError("batch normalization in training mode needs a batch of at least 2 examples")
            mean = x.mean(axis=0)  # (D,)
            var = x.var(axis=0)  # (D,) biased: used to normalize
            stored_var = var * n / (n - 1) if self.unbiased_running_var else var
            w = self.new_weight
            self.running_mean = (1.0 - w) * self.running_mean + w * mean
            self.running_var = (1.0 - w) * self.running_var + w * stored_var
        else:
            mean, var = self.running_mean, self.running_var
        inv_std = 1.0 / np.sqrt(var + self.eps)  # (D,)
        x_hat = (x - mean) * inv_std  # (N, D)
        self._cache = (x_hat, inv_std, training)
        return self.gamma * x_hat + self.beta

    __call__ = forward

    def backward(self, grad_out: Any) -> np.ndarray:
        """Gradient with respect to the input ``(N, D)``; stores ``dgamma`` and ``dbeta`` ``(D,)``.

        In training mode the batch statistics depend on every input, which gives
        ``dx = inv_std / N * (N g - sum(g) - x_hat * sum(g * x_hat))`` with ``g = gamma * grad_out``.
        """
        if self._cache is None:
            raise ValueError("call forward() before backward()")
        x_hat, inv_std, training = self._cache
        grad_out = as_float_array(grad_out, "grad_out")
        if grad_out.shape != x_hat.shape:
            raise ValueError(f"grad_out has shape {grad_out.shape}, the last forward output had {x_hat.shape}")
        self.dgamma = (grad_out * x_hat).sum(axis=0)
        self.dbeta = grad_out.sum(axis=0)
        g = grad_out * self.gamma  # dL/dx_hat, (N, D)
        if not training:
            return g * inv_std
        n = g.shape[0]
        return inv_std / n * (n * g - g.sum(axis=0) - x_hat * (g * x_hat).sum(axis=0))
