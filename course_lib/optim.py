"""From-scratch optimizers over a list of NumPy arrays (chapter 5, "Gradient descent and its variants").

Each optimizer holds a list of parameter arrays and updates them **in place** when you call
``step(grads)`` with one gradient array per parameter (same shapes)::

    W, b = np.zeros((3, 2)), np.zeros(2)
    opt = Adam([W, b], lr=1e-3)
    for _ in range(100):
        opt.step([dW, db])          # W and b change in place

Names, hyperparameters and defaults are those of :mod:`torch.optim` (``SGD``, ``Adagrad``,
``RMSprop``, ``Adam``, ``AdamW``) and the updates reproduce PyTorch's step for step
(``tests/test_optim.py``). The learning rate is the attribute ``opt.lr``: change it between
steps to follow a schedule (:mod:`course_lib.schedules`).

``variant="keras"`` switches to the formulas of ``tf.keras.optimizers`` where they differ from
PyTorch's (chapter 5 shows each difference):

- **weight decay** is *decoupled* in every Keras optimizer: ``p <- p - lr * wd * p`` before the
  update (PyTorch's ``SGD``/``Adagrad``/``RMSprop``/``Adam`` add ``wd * p`` to the gradient, an
  L2 penalty; only ``AdamW`` decouples);
- **Adam/AdamW**: Keras adds ``eps`` to ``sqrt(v)`` and folds both bias corrections into the
  step size, ``p <- p - lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)`` ("epsilon hat" of
  Kingma & Ba, section 2); PyTorch uses ``m_hat / (sqrt(v_hat) + eps)``;
- **Adagrad/RMSprop**: Keras puts ``eps`` inside the square root, ``g / sqrt(v + eps)``;
- **SGD/RMSprop with momentum**: Keras keeps the learning rate *inside* the velocity
  (``m <- mu m - lr g``; ``p <- p + m``), PyTorch outside (``b <- mu b + g``; ``p <- p - lr b``).
  The two agree while ``lr`` is constant and differ when a schedule changes it.

Keras' *defaults* also differ (``Adagrad`` starts its accumulator at 0.1, ``RMSprop`` uses
``rho=0.9``, most use ``epsilon=1e-7``): pass them explicitly; ``variant`` changes formulas only.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from course_lib.validation import non_negative_float, real

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "VARIANTS"]

VARIANTS = ("torch", "keras")


class Optimizer:
    """Base class: holds ``params`` (a list of float NumPy arrays) and a per-array state.

    Subclasses implement ``_update(i, p, g)``, which changes ``p`` in place using
    ``self.state[i]`` (a dict) and ``self.t``, the number of steps taken so far (1 at the first).

    Introduced in chapter 5.
    """

    def __init__(
        self, params: Sequence[np.ndarray], lr: float, weight_decay: float = 0.0, variant: str = "torch"
    ) -> None:
        if isinstance(params, np.ndarray) or not isinstance(params, (list, tuple)):
            raise ValueError(
                "params must be a list of NumPy arrays, e.g. [W, b] (wrap a single "
                f"array as [W]), got {type(params).__name__}"
            )
        if len(params) == 0:
            raise ValueError("params is an empty list: pass the arrays to optimize, e.g. [W, b]")
        for i, p in enumerate(params):
            if not isinstance(p, np.ndarray):
                raise ValueError(
                    f"params[{i}] must be a NumPy array, got {type(p).__name__}; "
                    "convert it with np.asarray(..., dtype=float) and keep a reference to it"
                )
            if not np.issubdtype(p.dtype, np.floating):
                raise ValueError(
                    f"params[{i}] has dtype {p.dtype}; in-place updates need a float array (use p.astype(np.float64))"
                )
            if not p.flags.writeable:
                raise ValueError(f"params[{i}] is read-only; pass a writeable copy (p.copy())")
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
        self.params = list(params)
        self.lr = non_negative_float("lr", lr, hint="A learning rate is a non-negative step size such as 0.01.")
        self.weight_decay = non_negative_float("weight_decay", weight_decay)
        self.variant = variant
        self.t = 0
        self.state: list[dict[str, Any]] = [{} for _ in self.params]

    @property
    def lr(self) -> float:
        """The learning rate used by the next ``step``; assign to it to follow a schedule."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = non_negative_float("lr", value, hint="A learning rate is a non-negative step size such as 0.01.")

    def _check_grads(self, grads: Sequence[np.ndarray]) -> list[np.ndarray]:
        if isinstance(grads, np.ndarray) or not isinstance(grads, (list, tuple)):
            raise ValueError(
                "grads must be a list with one gradient array per parameter, in the order "
                f"of params, got {type(grads).__name__}"
            )
        if len(grads) != len(self.params):
            raise ValueError(
                f"got {len(grads)} gradients for {len(self.params)} parameters; pass one "
                "gradient per parameter, in the same order as params"
            )
        out = []
        for i, (p, g) in enumerate(zip(self.params, grads)):
            g = np.asarray(g, dtype=p.dtype)
            if g.shape != p.shape:
                raise ValueError(
                    f"grads[{i}] has shape {g.shape} but params[{i}] has shape {p.shape}; "
                    "each gradient must have the shape of its parameter"
                )
            out.append(g)
        return out

    def _decoupled_decay(self) -> bool:
        """Whether weight decay shrinks the weights directly (AdamW, Keras) or joins the gradient (L2)."""
        return self.variant == "keras"

    def step(self, grads: Sequence[np.ndarray]) -> None:
        """Take one step: update every array of ``params`` in place from ``grads`` (same shapes)."""
        grads = self._check_grads(grads)
        self.t += 1
        for i, (p, g) in enumerate(zip(self.params, grads)):
            if self.weight_decay:
                if self._decoupled_decay():
                    p -= self.lr * self.weight_decay * p  # decoupled: p <- (1 - lr wd) p
                else:
                    g = g + self.weight_decay * p  # L2 penalty wd/2 |p|^2 in the loss
            self._update(i, p, g)

    def _update(self, i: int, p: np.ndarray, g: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        # The hyperparameters are the constructor's arguments, each stored under its own name.
        names = [n for n in inspect.signature(type(self).__init__).parameters if n not in ("self", "params")]
        hp = ", ".join(f"{n}={getattr(self, n)!r}" for n in names)
        return f"{type(self).__name__}({len(self.params)} arrays, {hp})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional (heavy-ball or Nesterov) momentum, as ``torch.optim.SGD``.

    PyTorch's form (``variant="torch"``), with ``b`` a buffer shaped like the parameter::

        b <- g                                  at the first step
        b <- momentum * b + (1 - dampening) * g  afterwards
        d <- g + momentum * b  if nesterov else b
        p <- p - lr * d

    ``variant="keras"`` keeps ``lr`` inside the velocity, ``m <- momentum * m - lr * g`` and
    ``p <- p + m`` (or ``p <- p + momentum * m - lr * g`` with Nesterov), as ``tf.keras.optimizers.SGD``.

    Introduced in chapter 5.
    """

    def __init__(
        self,
        params: Sequence[np.ndarray],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        variant: str = "torch",
    ) -> None:
        super().__init__(params, lr, weight_decay, variant)
        self.momentum = non_negative_float("momentum", momentum, hint="Typical values are 0 (none) to 0.99.")
        self.dampening = real("dampening", dampening, low=0.0, high=1.0)
        self.nesterov = bool(nesterov)
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError(
                "nesterov=True needs momentum > 0 and dampening = 0; set momentum (e.g. 0.9) or use nesterov=False"
            )
        if variant == "keras" and self.dampening != 0:
            raise ValueError("Keras' SGD has no dampening; use dampening=0 with variant='keras'")

    def _update(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        mu, st = self.momentum, self.state[i]
        if mu == 0:
            p -= self.lr * g
        elif self.variant == "keras":
            m = st.setdefault("velocity", np.zeros_like(p))
            m *= mu
            m -= self.lr * g
            p += mu * m - self.lr * g if self.nesterov else m
        else:
            if "momentum_buffer" not in st:
                st["momentum_buffer"] = g.copy()
            else:
                b = st["momentum_buffer"]
                b *= mu
                b += (1 - self.dampening) * g
            b = st["momentum_buffer"]
            p -= self.lr * (g + mu * b if self.nesterov else b)


class Adagrad(Optimizer):
    """AdaGrad (Duchi et al., 2011), as ``torch.optim.Adagrad``::

        s <- s + g * g                        (s starts at initial_accumulator_value)
        p <- p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)

    ``variant="keras"`` uses ``g / sqrt(s + eps)`` as ``tf.keras.optimizers.Adagrad`` (whose
    defaults are ``initial_accumulator_value=0.1``, ``epsilon=1e-7``).

    Introduced in chapter 5.
    """

    def __init__(
        self,
        params: Sequence[np.ndarray],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        variant: str = "torch",
    ) -> None:
        super().__init__(params, lr, weight_decay, variant)
        self.lr_decay = non_negative_float("lr_decay", lr_decay)
        self.initial_accumulator_value = non_negative_float("initial_accumulator_value", initial_accumulator_value)
        self.eps = non_negative_float("eps", eps, hint="eps only guards against division by zero; use e.g. 1e-10.")
        for i, p in enumerate(self.params):
            self.state[i]["sum"] = np.full_like(p, self.initial_accumulator_value)

    def _update(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        s = self.state[i]["sum"]
        s += g * g
        clr = self.lr / (1 + (self.t - 1) * self.lr_decay)
        denom = np.sqrt(s + self.eps) if self.variant == "keras" else np.sqrt(s) + self.eps
        p -= clr * g / denom


class RMSprop(Optimizer):
    """RMSProp (Tieleman & Hinton, 2012), as ``torch.optim.RMSprop``::

        v <- alpha * v + (1 - alpha) * g * g
        centered:  a <- alpha * a + (1 - alpha) * g ;  r = sqrt(v - a * a) + eps   else  r = sqrt(v) + eps
        momentum > 0:  b <- momentum * b + g / r ;  p <- p - lr * b      else  p <- p - lr * g / r

    ``variant="keras"`` (``tf.keras.optimizers.RMSprop``, where ``alpha`` is called ``rho`` and
    defaults to 0.9): ``r = sqrt(v + eps)`` (or ``sqrt(v - a*a + eps)``) and the momentum buffer
    holds ``lr * g / r``.

    Introduced in chapter 5.
    """

    def __init__(
        self,
        params: Sequence[np.ndarray],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        variant: str = "torch",
    ) -> None:
        super().__init__(params, lr, weight_decay, variant)
        self.alpha = real(
            "alpha", alpha, low=0.0, high=1.0, hint="alpha is the decay of the running average of g^2, e.g. 0.99."
        )
        self.eps = non_negative_float("eps", eps, hint="eps only guards against division by zero; use e.g. 1e-8.")
        self.momentum = non_negative_float("momentum", momentum)
        self.centered = bool(centered)
        for i, p in enumerate(self.params):
            self.state[i]["square_avg"] = np.zeros_like(p)
            if self.centered:
                self.state[i]["grad_avg"] = np.zeros_like(p)
            if self.momentum > 0:
                self.state[i]["momentum_buffer"] = np.zeros_like(p)

    def _update(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        st, a = self.state[i], self.alpha
        v = st["square_avg"]
        v *= a
        v += (1 - a) * g * g
        var = v
        if self.centered:
            ga = st["grad_avg"]
            ga *= a
            ga += (1 - a) * g
            var = v - ga * ga
        if self.variant == "keras":
            step = self.lr * g / np.sqrt(var + self.eps)
        else:
            step = g / (np.sqrt(var) + self.eps)
        if self.momentum > 0:
            b = st["momentum_buffer"]
            b *= self.momentum
            b += step
            step = b
        p -= step if self.variant == "keras" else self.lr * step


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with bias correction, as ``torch.optim.Adam``::

        m <- b1 * m + (1 - b1) * g            v <- b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1^t)                 v_hat = v / (1 - b2^t)   (amsgrad: running max of v)
        p <- p - lr * m_hat / (sqrt(v_hat) + eps)

    ``weight_decay`` adds ``weight_decay * p`` to the gradient (an L2 penalty, *not* AdamW).
    ``variant="keras"``: ``p <- p - lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)`` and
    decoupled weight decay, as ``tf.keras.optimizers.Adam``.

    Introduced in chapter 5.
    """

    def __init__(
        self,
        params: Sequence[np.ndarray],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        variant: str = "torch",
    ) -> None:
        super().__init__(params, lr, weight_decay, variant)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2) such as (0.9, 0.999), got {betas!r}")
        hint = "Each beta is a decay rate in [0, 1), e.g. betas=(0.9, 0.999)."
        self.betas = (
            real("betas[0]", betas[0], low=0.0, high=1.0, high_open=True, hint=hint),
            real("betas[1]", betas[1], low=0.0, high=1.0, high_open=True, hint=hint),
        )
        self.eps = non_negative_float("eps", eps, hint="eps only guards against division by zero; use e.g. 1e-8.")
        self.amsgrad = bool(amsgrad)
        for i, p in enumerate(self.params):
            self.state[i]["exp_avg"] = np.zeros_like(p)
            self.state[i]["exp_avg_sq"] = np.zeros_like(p)
            if self.amsgrad:
                self.state[i]["max_exp_avg_sq"] = np.zeros_like(p)

    def _update(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        (b1, b2), st, t = self.betas, self.state[i], self.t
        m, v = st["exp_avg"], st["exp_avg_sq"]
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * g * g
        if self.amsgrad:
            np.maximum(st["max_exp_avg_sq"], v, out=st["max_exp_avg_sq"])
            v = st["max_exp_avg_sq"]
        bc1, bc2 = 1 - b1**t, 1 - b2**t
        if self.variant == "keras":
            p -= m * (self.lr * math.sqrt(bc2) / bc1) / (np.sqrt(v) + self.eps)
        else:
            p -= (self.lr / bc1) * m / (np.sqrt(v) / math.sqrt(bc2) + self.eps)


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter, 2019), as ``torch.optim.AdamW``: Adam plus *decoupled* weight decay::

        p <- p - lr * weight_decay * p,   then the Adam update of p (the gradient is not changed)

    ``variant="keras"`` uses Keras' Adam update (see :class:`Adam`), as ``tf.keras.optimizers.AdamW``
    (whose default ``weight_decay`` is 0.004 and ``epsilon`` 1e-7).

    Introduced in chapter 5.
    """

    def __init__(
        self,
        params: Sequence[np.ndarray],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        variant: str = "torch",
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, variant)

    def _decoupled_decay(self) -> bool:
        return True
