"""The course's trained digit CNN: a LeNet-style network for 1x28x28 images (chapter 7).

Introduced in chapter 7, "Convolutional networks" (section 7c trains it, 7d looks inside it);
later chapters (transfer learning, interpretability, generative models, deployment) load it
with :func:`load_digit_cnn` instead of training their own.

The architecture (:func:`digit_cnn`), after LeNet-5 {LeCun et al. 1998} with ReLU and max
pooling, for a batch of ``N`` images in PyTorch's NCHW layout::

    x        (N, 1, 28, 28)   normalised pixels: (x - mean) / std, training-set statistics
    conv1    (N, 6, 28, 28)   6 filters 1x5x5, padding 2      ->  6*1*5*5 + 6   =    156 params
    relu1, pool1 (2x2 max)    (N, 6, 14, 14)
    conv2    (N, 16, 10, 10)  16 filters 6x5x5, no padding    -> 16*6*5*5 + 16  =  2,416
    relu2, pool2 (2x2 max)    (N, 16, 5, 5)
    flatten  (N, 400)         channel-major: index c*25 + h*5 + w
    fc1      (N, 120)  + relu3                                 -> 400*120 + 120  = 48,120
    fc2      (N, 84)   + relu4                                 -> 120*84 + 84    = 10,164
    fc3      (N, 10)   logits (no softmax: pair with a from-logits cross-entropy) ->  850
                                                                          total  61,706

:func:`digit_cnn_keras` builds the same network in Keras (NHWC input ``(N, 28, 28, 1)``, the
same 61,706 parameters) and :func:`keras_weights_from_torch` maps trained PyTorch weights onto
it: conv kernels OIHW -> HWIO, dense kernels transposed, and the rows of ``fc1`` permuted
because Keras flattens ``(5, 5, 16)`` channel-last (index ``h*80 + w*16 + c``).

**Why shipped weights and not a training call.** Training takes about 10 s of CPU, but CPU
kernels are only bit-reproducible on the same machine and library versions, and later chapters
compare saliency maps, quantized outputs and exported models *to the same network*. So the
trained weights ship with ``course_lib`` (``course_lib/weights/digit_cnn.npz``, ~250 KB,
float32, plain NumPy arrays: no pickle, readable without PyTorch) together with the
normalisation statistics and the accuracies measured when they were made.
``scripts/train_digit_cnn.py`` reproduces the file with :func:`train_digit_cnn`;
``tests/test_models.py`` checks that the file fits :func:`digit_cnn` exactly and still reaches
its recorded held-out accuracy on the offline data.

The data are :func:`course_lib.data.load_mnist_subset` with ``images=True``: its fixed split of
3,000 training, 1,000 validation and 1,000 test images. Epochs were chosen on validation
accuracy; the test accuracy was measured once.

PyTorch and Keras are imported inside the functions, so ``import course_lib.models`` does not
load either framework.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from course_lib.data import Splits, load_mnist_subset

WEIGHTS_PATH = Path(__file__).resolve().parent / "weights" / "digit_cnn.npz"
"""Where the trained digit CNN lives (package data)."""

IMAGE_SHAPE = (1, 28, 28)
N_CLASSES = 10
LAYER_NAMES = ("conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "flatten", "fc1", "relu3", "fc2", "relu4", "fc3")
"""The names of :func:`digit_cnn`'s modules, in order (``model.conv1``, ``model.pool2``, ...)."""


def _check_channels(channels: Any, hidden: Any) -> tuple[tuple[int, int], tuple[int, int]]:
    for name, value in (("channels", channels), ("hidden", hidden)):
        if (
            not isinstance(value, (tuple, list))
            or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value)
        ):
            raise ValueError(f"{name} must be a pair of positive integers such as (6, 16), got {value!r}")
    return (int(channels[0]), int(channels[1])), (int(hidden[0]), int(hidden[1]))


def digit_cnn_param_count(channels: tuple[int, int] = (6, 16), hidden: tuple[int, int] = (120, 84)) -> int:
    """The number of parameters of :func:`digit_cnn` with these widths (61,706 by default).

    Each conv layer has ``out * in * 5 * 5 + out`` parameters, each dense layer
    ``in * out + out``; the flattened feature vector has ``channels[1] * 5 * 5`` entries.

    Introduced in chapter 7.
    """
    (c1, c2), (h1, h2) = _check_channels(channels, hidden)
    conv = (c1 * 1 * 25 + c1) + (c2 * c1 * 25 + c2)
    dense = (c2 * 25 * h1 + h1) + (h1 * h2 + h2) + (h2 * N_CLASSES + N_CLASSES)
    return conv + dense


def digit_cnn(channels: tuple[int, int] = (6, 16), hidden: tuple[int, int] = (120, 84), seed: int | None = 0) -> Any:
    """The LeNet-style CNN as a ``torch.nn.Sequential`` with named layers (see the module doc).

    Input ``(N, 1, 28, 28)`` float32 (normalised), output ``(N, 10)`` logits. ``channels`` are
    the widths of the two conv layers, ``hidden`` those of the two hidden dense layers.
    ``seed`` seeds PyTorch's default initialisation (``None``: leave the global RNG alone).

    Introduced in chapter 7.
    """
    import torch
    from torch import nn

    (c1, c2), (h1, h2) = _check_channels(channels, hidden)
    if seed is not None:
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
        torch.manual_seed(seed)
    modules = [
        nn.Conv2d(1, c1, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(c2 * 25, h1),
        nn.ReLU(),
        nn.Linear(h1, h2),
        nn.ReLU(),
        nn.Linear(h2, N_CLASSES),
    ]
    return nn.Sequential(OrderedDict(zip(LAYER_NAMES, modules)))


def digit_cnn_keras(
    channels: tuple[int, int] = (6, 16), hidden: tuple[int, int] = (120, 84), seed: int | None = 0
) -> Any:
    """The same network in Keras: input ``(N, 28, 28, 1)`` (NHWC), output ``(N, 10)`` logits.

    ``padding="same"`` with a 5x5 kernel and stride 1 pads 2 on every side, like PyTorch's
    ``padding=2``. Layer names match :data:`LAYER_NAMES` (the ReLUs are fused into the layers).

    Introduced in chapter 7.
    """
    import keras
    from keras import layers

    (c1, c2), (h1, h2) = _check_channels(channels, hidden)
    if seed is not None:
        keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(c1, 5, padding="same", activation="relu", name="conv1"),
            layers.MaxPooling2D(2, name="pool1"),
            layers.Conv2D(c2, 5, activation="relu", name="conv2"),
            layers.MaxPooling2D(2, name="pool2"),
            layers.Flatten(name="flatten"),
            layers.Dense(h1, activation="relu", name="fc1"),
            layers.Dense(h2, activation="relu", name="fc2"),
            layers.Dense(N_CLASSES, name="fc3"),
        ],
        name="digit_cnn",
    )


def _state_arrays(model_or_state: Any) -> dict[str, np.ndarray]:
    state = model_or_state.state_dict() if hasattr(model_or_state, "state_dict") else model_or_state
    return {k: (v.detach().cpu().numpy() if hasattr(v, "detach") else np.asarray(v)) for k, v in state.items()}


def keras_weights_from_torch(model_or_state: Any) -> list[np.ndarray]:
    """PyTorch :func:`digit_cnn` weights as the list :func:`digit_cnn_keras`'s ``set_weights`` takes.

    Conv kernels ``(O, I, kh, kw)`` -> ``(kh, kw, I, O)``; dense kernels ``(out, in)`` ->
    ``(in, out)``; ``fc1``'s input index ``c*25 + h*5 + w`` (PyTorch flattens NCHW) is reordered
    to ``h*80 + w*16 + c`` (Keras flattens NHWC). Accepts a module or a state dict.

    Introduced in chapter 7.
    """
    s = _state_arrays(model_or_state)
    needed = [f"{n}.{p}" for n in ("conv1", "conv2", "fc1", "fc2", "fc3") for p in ("weight", "bias")]
    missing = [k for k in needed if k not in s]
    if missing:
        raise ValueError(f"not a digit_cnn state dict: missing {missing}; build the model with digit_cnn()")
    c2 = s["conv2.weight"].shape[0]
    h1 = s["fc1.weight"].shape[0]
    fc1 = s["fc1.weight"].reshape(h1, c2, 5, 5).transpose(2, 3, 1, 0).reshape(25 * c2, h1)
    return [
        s["conv1.weight"].transpose(2, 3, 1, 0),
        s["conv1.bias"],
        s["conv2.weight"].transpose(2, 3, 1, 0),
        s["conv2.bias"],
        fc1,
        s["fc1.bias"],
        s["fc2.weight"].T,
        s["fc2.bias"],
        s["fc3.weight"].T,
        s["fc3.bias"],
    ]


@dataclass
class TrainedCNN:
    """A trained digit CNN with everything needed to use it correctly.

    ``model``: the network in evaluation mode (``torch.nn.Module``, or a ``keras.Model``);
    ``mean``/``std``: the training-pixel statistics every input must be normalised with;
    ``data``: the split it was trained on (images ``(n, 28, 28)`` in [0, 1]);
    ``info``: how it was trained and its measured accuracies (``val_acc``, ``test_acc``, ...).

    Introduced in chapter 7.
    """

    model: Any
    mean: float
    std: float
    data: Splits
    framework: str
    info: dict[str, Any] = field(default_factory=dict)

    def preprocess(self, images: Any) -> Any:
        """Images in [0, 1], ``(N, 28, 28)`` or ``(N, 1, 28, 28)`` -> the model's normalised input.

        Returns a float32 ``torch.Tensor`` ``(N, 1, 28, 28)`` for PyTorch or a NumPy array
        ``(N, 28, 28, 1)`` for Keras.
        """
        x = np.asarray(images, dtype=np.float32)
        if x.ndim == 4 and x.shape[1] == 1:
            x = x[:, 0]
        elif x.ndim == 4 and x.shape[-1] == 1:
            x = x[..., 0]
        if x.ndim != 3 or x.shape[1:] != (28, 28):
            raise ValueError(
                f"images must have shape (N, 28, 28) or (N, 1, 28, 28), got {np.shape(images)}; "
                "for one image use images[None]"
            )
        if x.min() < -1e-6 or x.max() > 1 + 1e-6:
            raise ValueError(
                "images must be raw pixels in [0, 1] (as course_lib.data gives them); "
                "they look normalised already: do not normalise twice"
            )
        x = (x - self.mean) / self.std
        if self.framework == "torch":
            import torch

            return torch.from_numpy(x[:, None].copy())
        return x[..., None]

    def predict_logits(self, images: Any, batch_size: int = 500) -> np.ndarray:
        """Logits ``(N, 10)`` as a NumPy array for raw images in [0, 1] (see :meth:`preprocess`)."""
        x = self.preprocess(images)
        if self.framework == "torch":
            import torch

            with torch.no_grad():
                return np.concatenate([self.model(x[i : i + batch_size]).numpy() for i in range(0, len(x), batch_size)])
        return np.asarray(self.model.predict(x, batch_size=batch_size, verbose=0))

    def accuracy(self, images: Any, labels: Any) -> float:
        """Fraction of ``images`` whose predicted class equals ``labels`` ``(N,)``."""
        labels = np.asarray(labels)
        return float((self.predict_logits(images).argmax(1) == labels).mean())


def load_digit_cnn(framework: str = "torch", path: str | Path | None = None) -> TrainedCNN:
    """The trained digit CNN, in evaluation mode, with its preprocessing and its data split.

    ``framework="torch"`` gives :func:`digit_cnn` (a ``torch.nn.Module``), ``"keras"`` gives
    :func:`digit_cnn_keras` with the same weights (outputs agree to ~1e-5). ``path`` overrides
    the shipped :data:`WEIGHTS_PATH` (e.g. a file written by ``scripts/train_digit_cnn.py``).

    Introduced in chapter 7.
    """
    if framework not in ("torch", "keras"):
        raise ValueError(f"framework must be 'torch' or 'keras', got {framework!r}")
    path = Path(path) if path is not None else WEIGHTS_PATH
    if not path.is_file():
        raise ValueError(f"no weights at {path}; run `python scripts/train_digit_cnn.py` to create them")
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    state = {k[len("state/") :]: v for k, v in arrays.items() if k.startswith("state/")}
    meta = {k[len("meta/") :]: v.item() for k, v in arrays.items() if k.startswith("meta/")}
    channels = (int(meta["c1"]), int(meta["c2"]))
    hidden = (int(meta["h1"]), int(meta["h2"]))
    if framework == "torch":
        import torch

        model = digit_cnn(channels, hidden, seed=None)
        model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=True)
        model.eval()
    else:
        model = digit_cnn_keras(channels, hidden, seed=None)
        model.set_weights(keras_weights_from_torch(state))
    return TrainedCNN(
        model=model,
        mean=float(meta["mean"]),
        std=float(meta["std"]),
        data=load_mnist_subset(images=True),
        framework=framework,
        info=meta,
    )


def normalisation_stats(images: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of all training pixels (two floats): what inputs are scaled by.

    Introduced in chapter 7.
    """
    x = np.asarray(images, dtype=np.float64)
    if x.size == 0:
        raise ValueError("images is empty; pass the training images")
    return float(x.mean()), float(x.std())


def train_digit_cnn(
    epochs: int = 12,
    seed: int = 0,
    lr: float = 1e-3,
    batch_size: int = 32,
    progress: Callable[[Any], Any] | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Train :func:`digit_cnn` on the offline MNIST subset's training split, as shipped.

    Adam (``lr``), mini-batches of ``batch_size`` in a seeded order, cross-entropy on logits,
    for ``epochs`` epochs; the weights of the epoch with the best *validation* accuracy are kept
    (early stopping on validation), and the test accuracy is measured once, at the end.
    ``progress`` wraps the epoch iterator (e.g. ``tqdm``). Returns ``(model, info)`` with the
    model in evaluation mode and ``info`` holding the normalisation statistics, the
    per-epoch validation accuracies and the final validation and test accuracies.

    Introduced in chapter 7.
    """
    import torch
    from torch.nn import functional as F

    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    s = load_mnist_subset(images=True)
    mean, std = normalisation_stats(s.X_train)

    def prep(X: np.ndarray) -> Any:
        return torch.from_numpy(((X - mean) / std).astype(np.float32)[:, None])

    X, y = prep(s.X_train), torch.from_numpy(s.y_train)
    Xv, yv = prep(s.X_val), torch.from_numpy(s.y_val)
    model = digit_cnn(seed=seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    best_acc, best_state, best_epoch, val_accs = -1.0, None, 0, []
    epoch_iter = range(1, epochs + 1)
    for epoch in progress(epoch_iter) if progress else epoch_iter:
        model.train()
        perm = torch.randperm(len(X), generator=gen)
        for i in range(0, len(X), batch_size):
            idx = perm[i : i + batch_size]
            loss = F.cross_entropy(model(X[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            acc = float((model(Xv).argmax(1) == yv).float().mean())
        val_accs.append(acc)
        if acc > best_acc:
            best_acc, best_epoch = acc, epoch
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    model.eval()
    with torch.no_grad():
        test_acc = float((model(prep(s.X_test)).argmax(1) == torch.from_numpy(s.y_test)).float().mean())
    info = {
        "mean": mean,
        "std": std,
        "epochs": epochs,
        "best_epoch": best_epoch,
        "seed": seed,
        "lr": lr,
        "batch_size": batch_size,
        "val_acc": best_acc,
        "test_acc": test_acc,
        "val_accs": val_accs,
    }
    return model, info


def save_digit_cnn(model: Any, info: dict[str, Any], path: str | Path = WEIGHTS_PATH) -> Path:
    """Write ``model``'s weights and ``info``'s scalars to ``path`` as a plain ``.npz``.

    Introduced in chapter 7.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = _state_arrays(model)
    c1, c2 = state["conv1.weight"].shape[0], state["conv2.weight"].shape[0]
    h1, h2 = state["fc1.weight"].shape[0], state["fc2.weight"].shape[0]
    meta = {
        "c1": c1,
        "c2": c2,
        "h1": h1,
        "h2": h2,
        **{k: v for k, v in info.items() if isinstance(v, (int, float, str))},
    }
    arrays: dict[str, Any] = {f"state/{k}": v.astype(np.float32) for k, v in state.items()}
    arrays.update({f"meta/{k}": np.asarray(v) for k, v in meta.items()})
    np.savez_compressed(path, **arrays)
    return path
