"""Chapter 11 exercise answers (11a-11b): references, and wrong answers with their hint."""

import numpy as np
import torch

from course_lib import transfer


# -- reference solutions -------------------------------------------------------------------------
def freeze_all_but_head(model, head):
    for p in model.parameters():
        p.requires_grad_(False)
    for p in getattr(model, head).parameters():
        p.requires_grad_(True)
    return model


def count_trainable(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def two_lr_groups(model, head, lr_backbone, lr_head):
    head_ids = {id(p) for p in getattr(model, head).parameters()}
    return [
        {"params": [p for p in model.parameters() if id(p) not in head_ids], "lr": lr_backbone},
        {"params": list(getattr(model, head).parameters()), "lr": lr_head},
    ]


def imagenet_input(images, size):
    return transfer.imagenet_preprocess(images, size)


def train_mode_frozen_bn(model, head):
    model.train()
    head_modules = set(getattr(model, head).modules())
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m not in head_modules:
            m.eval()
    return model


# -- typical wrong answers -----------------------------------------------------------------------
def _freeze_last_child(model, head):
    freeze_all_but_head(model, list(dict(model.named_children()))[-1])
    return model


def _freeze_inverted(model, head):
    for p in model.parameters():
        p.requires_grad_(True)
    for p in getattr(model, head).parameters():
        p.requires_grad_(False)
    return model


def _freeze_everything(model, head):
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def _freeze_no_return(model, head):
    freeze_all_but_head(model, head)


def _groups_swapped(model, head, lr_backbone, lr_head):
    return two_lr_groups(model, head, lr_head, lr_backbone)


def _groups_all_in_backbone(model, head, lr_backbone, lr_head):
    return [
        {"params": list(model.parameters()), "lr": lr_backbone},
        {"params": list(getattr(model, head).parameters()), "lr": lr_head},
    ]


def _groups_head_only(model, head, lr_backbone, lr_head):
    return [{"params": list(getattr(model, head).parameters()), "lr": lr_head}]


def _groups_no_lr(model, head, lr_backbone, lr_head):
    groups = two_lr_groups(model, head, lr_backbone, lr_head)
    del groups[1]["lr"]
    return groups


def _imagenet_no_resize(images, size):
    return transfer.imagenet_preprocess(images, images.shape[1])


def _imagenet_channel_last(images, size):
    return transfer.imagenet_preprocess(images, size).permute(0, 2, 3, 1)


def _imagenet_not_normalised(images, size):
    x = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))
    return torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)


def _imagenet_half(images, size):
    return (_imagenet_not_normalised(images, size) - 0.5) / 0.5


def _imagenet_swapped(images, size):
    mean = torch.tensor(transfer.IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(transfer.IMAGENET_STD).view(1, 3, 1, 1)
    return (_imagenet_not_normalised(images, size) - std) / mean


def _bn_train_only(model, head):
    return model.train()


def _bn_all_eval(model, head):
    model.train()
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.eval()
    return model


def _bn_backbone_eval(model, head):
    model.train()
    for name, child in model.named_children():
        if name != head:
            child.eval()
    return model


PASS = [
    ("ch11.freeze_all_but_head", freeze_all_but_head),
    ("ch11.count_trainable", count_trainable),
    ("ch11.count_trainable", lambda m: transfer.count_parameters(m, trainable_only=True)),
    ("ch11.two_lr_groups", two_lr_groups),
    ("ch11.two_lr_groups", lambda m, h, lb, lh: transfer.param_groups(m, h, lh, lb)),
    ("ch11.imagenet_input", imagenet_input),
    ("ch11.train_mode_frozen_bn", train_mode_frozen_bn),
]

FAIL = [
    ("ch11.freeze_all_but_head", _freeze_last_child, "wrong requires_grad"),
    ("ch11.freeze_all_but_head", _freeze_inverted, "inverted"),
    ("ch11.freeze_all_but_head", _freeze_everything, "switch the head's back on"),
    ("ch11.freeze_all_but_head", lambda m, h: m, "still requires a gradient"),
    ("ch11.freeze_all_but_head", _freeze_no_return, "return the model"),
    ("ch11.count_trainable", lambda m: sum(p.numel() for p in m.parameters()), "counted all"),
    ("ch11.count_trainable", lambda m: sum(1 for p in m.parameters() if p.requires_grad), "p.numel()"),
    ("ch11.count_trainable", lambda m: [p.numel() for p in m.parameters()], "one integer"),
    ("ch11.two_lr_groups", _groups_swapped, "swapped"),
    ("ch11.two_lr_groups", _groups_all_in_backbone, "exactly one group"),
    ("ch11.two_lr_groups", _groups_head_only, "in no group"),
    ("ch11.two_lr_groups", _groups_no_lr, "no 'lr' key"),
    ("ch11.two_lr_groups", lambda m, h, lb, lh: list(m.parameters()), "list of dicts"),
    ("ch11.imagenet_input", _imagenet_no_resize, "resize"),
    ("ch11.imagenet_input", _imagenet_channel_last, "channel-first"),
    ("ch11.imagenet_input", _imagenet_not_normalised, "still in [0, 1]"),
    ("ch11.imagenet_input", _imagenet_half, "not the ImageNet normalisation"),
    ("ch11.imagenet_input", _imagenet_swapped, "swapped"),
    ("ch11.train_mode_frozen_bn", _bn_train_only, "running statistics move"),
    ("ch11.train_mode_frozen_bn", _bn_all_eval, "head's batch-norm"),
    ("ch11.train_mode_frozen_bn", _bn_backbone_eval, "not the whole backbone"),
    ("ch11.train_mode_frozen_bn", lambda m, h: m.eval(), "training mode"),
]
