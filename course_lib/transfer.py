"""Transfer learning in PyTorch: freezing, parameter groups, a plain ResNet-18 (chapter 11).

Introduced in chapter 11, "Transfer learning and fine-tuning" (11a measures what transfers on
digits; 11b fine-tunes a ResNet). The four strategies of 11a, for a network split into a
*backbone* (every module but the last) and a *head* (the last, replaced for the new task):

==================  ==============================  =========================================
strategy            trainable                       optimizer
==================  ==============================  =========================================
scratch             all, fresh initialisation       one learning rate ``lr``
feature extraction  the head only (backbone frozen)  the head's parameters only
fine-tuning         all, pretrained initialisation   one learning rate ``lr``
discriminative LR   all, pretrained initialisation   backbone ``lr * factor``, head ``lr``
==================  ==============================  =========================================

Freezing means ``p.requires_grad_(False)`` for the parameters *and* keeping the frozen
batch-norm layers in evaluation mode (``module.eval()``), otherwise their running statistics
still move in ``model.train()`` mode (:func:`freeze`, :func:`set_batchnorm_eval`).

:func:`resnet18` is the ResNet-18 of He et al. (2016) written with ``torch.nn`` only (the same
module names and parameter count as ``torchvision.models.resnet18``: 11,689,512 parameters
for 1,000 classes), so that torchvision's state dict loads into it unchanged. For a 224x224
input the stages give::

    stem   conv 7x7/2 + BN + ReLU (N, 64, 112, 112), max pool 3x3/2 -> (N, 64, 56, 56)
    layer1 2 basic blocks                                             (N, 64, 56, 56)
    layer2 2 basic blocks, the first with stride 2                    (N, 128, 28, 28)
    layer3                                                            (N, 256, 14, 14)
    layer4                                                            (N, 512, 7, 7)
    avgpool (N, 512, 1, 1), flatten, fc                               (N, num_classes)

PyTorch is imported inside the functions, so ``import course_lib.transfer`` loads no framework.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from course_lib.validation import positive_float, positive_int

IMAGENET_MEAN = (0.485, 0.456, 0.406)
"""Per-channel (R, G, B) mean of ImageNet pixels in [0, 1]: the inputs torchvision's and
Keras's pretrained ImageNet networks expect are ``(x - mean) / std``."""
IMAGENET_STD = (0.229, 0.224, 0.225)
"""Per-channel standard deviation of ImageNet pixels in [0, 1] (see :data:`IMAGENET_MEAN`)."""

STRATEGIES = ("scratch", "feature extraction", "fine-tuning", "discriminative LR")
"""The four ways of using a pretrained network compared in chapter 11a."""


def count_parameters(model: Any, trainable_only: bool = False) -> int:
    """The number of scalar parameters of a ``torch.nn.Module`` (only ``requires_grad`` ones if asked).

    Shared parameters are counted once, as ``sum(p.numel() for p in model.parameters())`` does.

    Introduced in chapter 11.
    """
    if not hasattr(model, "parameters"):
        raise ValueError(f"count_parameters expects a torch.nn.Module, got {type(model).__name__}")
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only))


def set_batchnorm_eval(module: Any) -> int:
    """Put every batch-norm layer inside ``module`` in evaluation mode; return how many there are.

    Call it *after* every ``model.train()``: ``train()`` switches them back. In evaluation
    mode a batch-norm layer normalises with its stored running statistics and does not update
    them; in training mode it uses the batch statistics and updates the running ones, whether
    or not its weight and bias require gradients.

    Introduced in chapter 11.
    """
    import torch

    count = 0
    for m in module.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.eval()
            count += 1
    return count


def freeze(module: Any, batchnorm_eval: bool = True) -> Any:
    """Freeze ``module`` in place: no parameter requires a gradient; batch-norm layers in eval mode.

    Returns the module (so ``freeze(model.backbone)`` can be chained). ``batchnorm_eval=False``
    only switches the gradients off (the running statistics then still move in training mode).

    Introduced in chapter 11.
    """
    if not hasattr(module, "parameters"):
        raise ValueError(f"freeze expects a torch.nn.Module, got {type(module).__name__}")
    for p in module.parameters():
        p.requires_grad_(False)
    if batchnorm_eval:
        set_batchnorm_eval(module)
    return module


def unfreeze(module: Any) -> Any:
    """Make every parameter of ``module`` trainable again (``requires_grad_(True)``); returns it.

    Introduced in chapter 11.
    """
    if not hasattr(module, "parameters"):
        raise ValueError(f"unfreeze expects a torch.nn.Module, got {type(module).__name__}")
    for p in module.parameters():
        p.requires_grad_(True)
    return module


def _split_names(model: Any, head: str) -> tuple[list[Any], list[Any]]:
    names = [name for name, _ in model.named_children()]
    if head not in names:
        raise ValueError(f"the model has no child module named {head!r}; its children are {names}")
    head_params = [p for p in getattr(model, head).parameters() if p.requires_grad]
    head_ids = {id(p) for p in head_params}
    backbone = [p for p in model.parameters() if p.requires_grad and id(p) not in head_ids]
    return backbone, head_params


def param_groups(model: Any, head: str, lr_head: float, lr_backbone: float | None = None) -> list[dict[str, Any]]:
    """Optimizer parameter groups: the child module ``head`` at ``lr_head``, the rest at ``lr_backbone``.

    Only parameters with ``requires_grad`` are included, so a frozen backbone contributes no
    group. ``lr_backbone=None`` means the backbone is not trained at all (feature extraction).
    Pass the result to any ``torch.optim`` optimizer: ``torch.optim.Adam(param_groups(...))``.

    Introduced in chapter 11.
    """
    positive_float("lr_head", lr_head)
    backbone, head_params = _split_names(model, head)
    if not head_params:
        raise ValueError(f"no trainable parameter in {head!r}: did you freeze the head too?")
    groups: list[dict[str, Any]] = []
    if lr_backbone is not None and backbone:
        positive_float("lr_backbone", lr_backbone)
        groups.append({"params": backbone, "lr": float(lr_backbone), "name": "backbone"})
    groups.append({"params": head_params, "lr": float(lr_head), "name": "head"})
    return groups


def prepare_strategy(model: Any, strategy: str, head: str, lr: float, factor: float = 0.1) -> list[dict[str, Any]]:
    """Set ``requires_grad`` for one of :data:`STRATEGIES` and return the optimizer's groups.

    ``"scratch"`` and ``"fine-tuning"``: everything at ``lr`` (the caller decides whether the
    weights are fresh or pretrained); ``"feature extraction"``: every child but ``head`` frozen,
    the head at ``lr``; ``"discriminative LR"``: the backbone at ``lr * factor``, the head at ``lr``.

    Introduced in chapter 11.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    positive_float("factor", factor)
    unfreeze(model)
    if strategy == "feature extraction":
        for name, child in model.named_children():
            if name != head:
                freeze(child)
        return param_groups(model, head, lr)
    if strategy == "discriminative LR":
        return param_groups(model, head, lr, lr * factor)
    return param_groups(model, head, lr, lr)


def imagenet_preprocess(images: Any, size: int = 224) -> Any:
    """Images ``(N, H, W, 3)`` in [0, 1] (NumPy, channel-last) -> ``(N, 3, size, size)`` float32 tensor.

    Bilinear resize to ``size`` x ``size`` (``antialias=True``, as torchvision's ``Resize``), then
    ``(x - IMAGENET_MEAN) / IMAGENET_STD`` per channel: what an ImageNet-pretrained network expects.

    Introduced in chapter 11.
    """
    import torch

    positive_int("size", size)
    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 4 or x.shape[-1] != 3:
        raise ValueError(f"images must be (N, H, W, 3), channel-last RGB, got shape {x.shape}")
    if x.size and (x.min() < -1e-6 or x.max() > 1 + 1e-6):
        raise ValueError("images must be scaled to [0, 1] (divide uint8 pixels by 255) before normalising")
    t = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    if t.shape[-2:] != (size, size):
        t = torch.nn.functional.interpolate(t, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (t - mean) / std


def _basic_block(torch: Any, c_in: int, c_out: int, stride: int) -> Any:
    nn = torch.nn

    class BasicBlock(nn.Module):  # type: ignore[name-defined]
        """Two 3x3 convolutions with batch norm; the input is added back (projected if needed)."""

        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(c_out)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(c_out)
            self.downsample = None
            if stride != 1 or c_in != c_out:  # 1x1 projection so the shortcut has the output's shape
                self.downsample = nn.Sequential(
                    nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out)
                )

        def forward(self, x: Any) -> Any:
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.relu(out + identity)  # the residual connection: F(x) + x

    return BasicBlock()


def resnet18(num_classes: int = 1000, seed: int | None = 0) -> Any:
    """ResNet-18 (He et al. 2016) in plain ``torch.nn``, torchvision's module names and initialisation.

    Input ``(N, 3, H, W)`` normalised with :data:`IMAGENET_MEAN`/:data:`IMAGENET_STD` (224x224
    for ImageNet weights), output ``(N, num_classes)`` logits. Children, in order: ``conv1``,
    ``bn1``, ``relu``, ``maxpool``, ``layer1``-``layer4``, ``avgpool``, ``fc`` (the head).
    11,689,512 parameters for 1,000 classes. ``seed`` seeds the initialisation (``None``: leave
    the global RNG alone).

    Introduced in chapter 11.
    """
    import torch

    positive_int("num_classes", num_classes)
    nn = torch.nn
    if seed is not None:
        torch.manual_seed(seed)

    def stage(c_in: int, c_out: int, stride: int) -> Any:
        return nn.Sequential(_basic_block(torch, c_in, c_out, stride), _basic_block(torch, c_out, c_out, 1))

    class ResNet18(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
            self.layer1 = stage(64, 64, 1)
            self.layer2 = stage(64, 128, 2)
            self.layer3 = stage(128, 256, 2)
            self.layer4 = stage(256, 512, 2)
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(512, num_classes)
            for m in self.modules():  # torchvision's initialisation
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

        def forward(self, x: Any) -> Any:
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return ResNet18()


def stage_shapes(
    model: Any, input_shape: Sequence[int] = (1, 3, 224, 224), names: Iterable[str] | None = None
) -> dict[str, tuple[int, ...]]:
    """Output shape of each named child of ``model`` for a zero input of ``input_shape`` (eval mode, no grad).

    ``names`` restricts the result (default: every child). The model's mode is restored.

    Introduced in chapter 11.
    """
    import torch

    wanted = set(names) if names is not None else None
    shapes: dict[str, tuple[int, ...]] = {}
    hooks = [
        child.register_forward_hook(lambda _m, _i, out, n=name: shapes.__setitem__(n, tuple(out.shape)))
        for name, child in model.named_children()
        if wanted is None or name in wanted
    ]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(*input_shape))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return shapes
