"""Checkers for chapter 11, "Transfer learning and fine-tuning" (chapters/11a-11b).

PyTorch is imported inside the checkers (``import course_lib.exercises`` loads no framework).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np

from course_lib import transfer
from course_lib.exercises._core import CheckFailed, call, expect_array, register, to_numpy


def _small_model(with_bn: bool = True, seed: int = 0) -> Any:
    """conv -> (bn) -> relu -> pool -> flatten -> fc, with the head named ``fc``."""
    import torch

    torch.manual_seed(seed)
    nn = torch.nn
    layers: list[tuple[str, Any]] = [("conv", nn.Conv2d(3, 4, 3, padding=1))]
    if with_bn:
        layers.append(("bn", nn.BatchNorm2d(4)))
    layers += [
        ("relu", nn.ReLU()),
        ("pool", nn.AdaptiveAvgPool2d(2)),
        ("flatten", nn.Flatten()),
        ("fc", nn.Linear(16, 3)),
    ]
    return nn.Sequential(OrderedDict(layers))


def _two_heads_model() -> Any:
    """A model whose head is not its last child, to catch answers that assume it is."""
    import torch

    torch.manual_seed(1)
    nn = torch.nn
    return nn.Sequential(
        OrderedDict([("body", nn.Linear(5, 6)), ("classifier", nn.Linear(6, 2)), ("extra", nn.Linear(2, 2))])
    )


# ---------------------------------------------------------------------------- 11a
@register("ch11.freeze_all_but_head")
def _freeze_all_but_head(freeze_all_but_head: Any) -> str:
    """``freeze_all_but_head(model, head)`` -> the model, only the child ``head`` trainable."""
    for make, head in ((_small_model, "fc"), (_two_heads_model, "classifier")):
        model = make()
        if head == "classifier":
            for p in model.classifier.parameters():  # a head frozen beforehand must come back
                p.requires_grad_(False)
        got = call(freeze_all_but_head, model, head)
        if got is not model:
            raise CheckFailed("return the model you were given (after changing its parameters in place).")
        head_ids = {id(p) for p in getattr(model, head).parameters()}
        flags = [(name, p.requires_grad, id(p) in head_ids) for name, p in model.named_parameters()]
        if all(not rg for _, rg, _ in flags):
            raise CheckFailed(f"every parameter is frozen, the head {head!r} too: switch the head's back on.")
        if all(rg for _, rg, _ in flags):
            raise CheckFailed(
                "every parameter still requires a gradient: call p.requires_grad_(False) on the backbone's."
            )
        if all(rg != in_head for _, rg, in_head in flags):
            raise CheckFailed(f"inverted: you froze the head {head!r} and left the backbone trainable.")
        wrong = [name for name, rg, in_head in flags if rg != in_head]
        if wrong:
            raise CheckFailed(
                f"with head={head!r}, these parameters have the wrong requires_grad: {wrong}. "
                "Use the child module named by `head` (getattr(model, head)), not the last layer."
            )
    return "requires_grad is False for the backbone and True for the head."


@register("ch11.count_trainable")
def _count_trainable(count_trainable: Any) -> str:
    """``count_trainable(model)`` -> int, scalar parameters with ``requires_grad``."""
    for frozen in (False, True):
        model = _small_model()
        if frozen:
            transfer.freeze(model)
            for p in model.fc.parameters():
                p.requires_grad_(True)
        got = call(count_trainable, model)
        want = transfer.count_parameters(model, trainable_only=True)
        value = to_numpy(got, "count_trainable(model)")
        if value.shape != ():
            raise CheckFailed("return one integer: the number of trainable scalar parameters.")
        if frozen and float(value) == transfer.count_parameters(model):
            raise CheckFailed(
                f"you counted all {int(value)} parameters; only those with p.requires_grad are trained ({want} here)."
            )
        if float(value) == sum(1 for p in model.parameters() if p.requires_grad or not frozen):
            raise CheckFailed("you counted parameter tensors; count their scalar entries with p.numel().")
        expect_array(value, np.array(want), what="the number of trainable parameters")
    return "sum(p.numel() for p in model.parameters() if p.requires_grad)."


@register("ch11.two_lr_groups")
def _two_lr_groups(two_lr_groups: Any) -> str:
    """``two_lr_groups(model, head, lr_backbone, lr_head)`` -> two parameter groups for torch.optim."""
    import torch

    for make, head in ((_small_model, "fc"), (_two_heads_model, "classifier")):
        model = make()
        got = call(two_lr_groups, model, head, 1e-4, 1e-2)
        if not isinstance(got, (list, tuple)) or not all(isinstance(g, dict) for g in got):
            raise CheckFailed(
                f"return a list of dicts such as [{{'params': [...], 'lr': 1e-4}}, ...], got {type(got).__name__}."
            )
        try:
            opt = torch.optim.SGD(list(got), lr=0.5)
        except (ValueError, TypeError, KeyError) as err:
            raise CheckFailed(
                f"torch.optim.SGD rejects your groups ({err}); a parameter must be in exactly one group."
            ) from None
        head_ids = {id(p) for p in getattr(model, head).parameters()}
        lr_of: dict[int, float] = {}
        for group in opt.param_groups:
            for p in group["params"]:
                lr_of[id(p)] = group["lr"]
        missing = [name for name, p in model.named_parameters() if id(p) not in lr_of]
        if missing:
            raise CheckFailed(f"these parameters are in no group, so they would never be trained: {missing}.")
        if any(lr == 0.5 for lr in lr_of.values()):
            raise CheckFailed(
                "a group has no 'lr' key, so it falls back to the optimizer's default: give each group its lr."
            )
        head_lrs = {lr_of[i] for i in head_ids}
        body_lrs = {lr for i, lr in lr_of.items() if i not in head_ids}
        if head_lrs == {1e-4} and body_lrs == {1e-2}:
            raise CheckFailed("the rates are swapped: the backbone gets lr_backbone (small), the head lr_head.")
        if head_lrs != {1e-2} or body_lrs != {1e-4}:
            raise CheckFailed(
                f"with head={head!r}: head parameters got lr {sorted(head_lrs)}, the others {sorted(body_lrs)}; "
                "expected 0.01 for the head's and 0.0001 for every other parameter."
            )
    return "each parameter in exactly one group, the backbone at lr_backbone, the head at lr_head."


# ---------------------------------------------------------------------------- 11b
@register("ch11.imagenet_input")
def _imagenet_input(imagenet_input: Any) -> str:
    """``imagenet_input(images, size)``: (N, H, W, 3) in [0, 1] -> (N, 3, size, size), ImageNet-normalised."""
    import torch

    rng = np.random.default_rng(0)
    for n, h, size in ((2, 32, 64), (3, 8, 8), (1, 16, 40)):
        images = rng.uniform(size=(n, h, h, 3)).astype(np.float32)
        got = call(imagenet_input, images.copy(), size)
        want = transfer.imagenet_preprocess(images, size).numpy()
        arr = to_numpy(got, "imagenet_input(images, size)")
        if arr.shape == (n, h, h, 3) or arr.shape == (n, 3, h, h) and h != size:
            raise CheckFailed(f"the output is {arr.shape}: resize the images to size x size = {size} x {size}.")
        if arr.shape == (n, size, size, 3):
            raise CheckFailed("PyTorch wants channel-first (N, 3, H, W): transpose before (or after) resizing.")
        if arr.shape != want.shape:
            raise CheckFailed(f"expected shape {want.shape}, got {arr.shape}.")
        mean = torch.tensor(transfer.IMAGENET_MEAN).view(1, 3, 1, 1).numpy()
        std = torch.tensor(transfer.IMAGENET_STD).view(1, 3, 1, 1).numpy()
        raw = want * std + mean
        if np.allclose(arr, raw, atol=1e-4):
            raise CheckFailed(
                "the values are still in [0, 1]: subtract IMAGENET_MEAN and divide by IMAGENET_STD per channel."
            )
        if np.allclose(arr, (raw - std) / mean, atol=1e-4):
            raise CheckFailed("mean and std are swapped: (x - mean) / std with mean (0.485, 0.456, 0.406).")
        if np.allclose(arr, (raw - 0.5) / 0.5, atol=1e-4):
            raise CheckFailed("(x - 0.5) / 0.5 is not the ImageNet normalisation: use the per-channel mean and std.")
        expect_array(arr, want, rtol=1e-3, atol=2e-3, what=f"the preprocessed batch for size={size}")
    return "resized (bilinear, antialiased), channel-first, (x - mean) / std with ImageNet's statistics."


def _bn_modes(model: Any) -> list[tuple[str, bool]]:
    import torch

    return [(n, m.training) for n, m in model.named_modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]


@register("ch11.train_mode_frozen_bn")
def _train_mode_frozen_bn(train_mode_frozen_bn: Any) -> str:
    """``train_mode_frozen_bn(model, head)``: training mode, batch-norm layers outside the head in eval mode."""
    import torch

    model = _small_model()
    model.fc = torch.nn.Sequential(torch.nn.Linear(16, 16), torch.nn.BatchNorm1d(16), torch.nn.Linear(16, 3))
    model.eval()
    got = call(train_mode_frozen_bn, model, "fc")
    if got is not model:
        raise CheckFailed("return the model you were given (after setting the modes in place).")
    if not model.training or not model.fc.training:
        raise CheckFailed("the model (and its head) must end in training mode: call model.train() first.")
    modes = dict(_bn_modes(model))
    if modes["bn"]:
        raise CheckFailed(
            "the backbone's batch-norm layer is in training mode, so its running statistics move "
            "although it is frozen: put it in eval mode *after* model.train()."
        )
    if not modes["fc.1"]:
        raise CheckFailed("the head's batch-norm layer is in eval mode; only the frozen backbone's should be.")
    if not model.conv.training:
        raise CheckFailed("switch only the batch-norm layers to eval mode, not the whole backbone.")
    return "training mode everywhere except the frozen backbone's batch-norm layers."
