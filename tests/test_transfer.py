"""course_lib.transfer: freezing, parameter groups, the strategies, ImageNet preprocessing, ResNet-18."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib import models, transfer


def _five_class_cnn():
    net = models.digit_cnn(seed=0)
    net.fc3 = torch.nn.Linear(84, 5)
    return net


def test_count_parameters_all_and_trainable():
    net = models.digit_cnn(seed=0)
    assert transfer.count_parameters(net) == models.digit_cnn_param_count() == 61_706
    transfer.freeze(net)
    assert transfer.count_parameters(net, trainable_only=True) == 0
    transfer.unfreeze(net.fc3)
    assert transfer.count_parameters(net, trainable_only=True) == 84 * 10 + 10


def test_freeze_keeps_batchnorm_statistics_fixed_in_train_mode():
    model = transfer.resnet18(num_classes=10, seed=0)
    transfer.freeze(model.layer1)
    model.train()  # switches every layer to training mode ...
    assert model.layer1[0].bn1.training
    assert transfer.set_batchnorm_eval(model.layer1) == 4  # 2 blocks x 2 BN (layer1 has no downsampling)
    before = model.layer1[0].bn1.running_mean.clone()
    model(torch.randn(2, 3, 64, 64))
    assert torch.equal(model.layer1[0].bn1.running_mean, before)
    assert not torch.equal(model.bn1.running_mean, torch.zeros(64))  # the unfrozen stem's BN did update


def test_param_groups_rates_and_membership():
    net = _five_class_cnn()
    groups = transfer.param_groups(net, "fc3", lr_head=1e-2, lr_backbone=1e-3)
    assert [g["name"] for g in groups] == ["backbone", "head"]
    assert [g["lr"] for g in groups] == [1e-3, 1e-2]
    ids = [id(p) for g in groups for p in g["params"]]
    assert len(ids) == len(set(ids)) == len(list(net.parameters()))
    torch.optim.Adam(groups)  # accepted: no parameter twice


def test_param_groups_errors():
    net = _five_class_cnn()
    with pytest.raises(ValueError, match="no child module named 'head'"):
        transfer.param_groups(net, "head", 1e-3)
    transfer.freeze(net)
    with pytest.raises(ValueError, match="freeze the head too"):
        transfer.param_groups(net, "fc3", 1e-3)
    with pytest.raises(ValueError):
        transfer.param_groups(_five_class_cnn(), "fc3", -1.0)


@pytest.mark.parametrize(
    "strategy, trainable, lrs",
    [
        ("scratch", 61_706 - 850 + 425, [1e-3, 1e-3]),
        ("fine-tuning", 61_706 - 850 + 425, [1e-3, 1e-3]),
        ("feature extraction", 425, [1e-3]),
        ("discriminative LR", 61_706 - 850 + 425, [1e-4, 1e-3]),
    ],
)
def test_prepare_strategy(strategy, trainable, lrs):
    net = _five_class_cnn()
    groups = transfer.prepare_strategy(net, strategy, head="fc3", lr=1e-3, factor=0.1)
    assert transfer.count_parameters(net, trainable_only=True) == trainable
    np.testing.assert_allclose([g["lr"] for g in groups], lrs)


def test_prepare_strategy_undoes_an_earlier_freeze_and_rejects_unknown():
    net = _five_class_cnn()
    transfer.prepare_strategy(net, "feature extraction", "fc3", 1e-3)
    transfer.prepare_strategy(net, "fine-tuning", "fc3", 1e-3)
    assert transfer.count_parameters(net, trainable_only=True) == transfer.count_parameters(net)
    with pytest.raises(ValueError, match="strategy must be one of"):
        transfer.prepare_strategy(net, "linear probe", "fc3", 1e-3)


def test_imagenet_preprocess_shapes_and_statistics():
    images = np.full((2, 32, 32, 3), 0.5, dtype=np.float32)
    x = transfer.imagenet_preprocess(images, size=64)
    assert x.shape == (2, 3, 64, 64) and x.dtype == torch.float32
    want = (0.5 - np.array(transfer.IMAGENET_MEAN)) / np.array(transfer.IMAGENET_STD)
    np.testing.assert_allclose(x.mean(dim=(0, 2, 3)).numpy(), want, rtol=1e-5)
    same = transfer.imagenet_preprocess(images, size=32)  # no resize when the size already matches
    assert same.shape == (2, 3, 32, 32)


@pytest.mark.parametrize("bad", [np.zeros((2, 32, 32)), np.zeros((2, 3, 32, 32)), np.full((1, 4, 4, 3), 255.0)])
def test_imagenet_preprocess_rejects(bad):
    with pytest.raises(ValueError):
        transfer.imagenet_preprocess(bad)


def test_resnet18_matches_torchvision_count_and_shapes():
    model = transfer.resnet18()
    assert transfer.count_parameters(model) == 11_689_512  # torchvision.models.resnet18()
    assert len(model.state_dict()) == 122  # the same state-dict keys as torchvision (incl. BN buffers)
    assert "layer2.0.downsample.1.running_var" in model.state_dict()
    shapes = transfer.stage_shapes(
        model, (1, 3, 224, 224), names=("maxpool", "layer1", "layer2", "layer3", "layer4", "fc")
    )
    assert shapes == {
        "maxpool": (1, 64, 56, 56),
        "layer1": (1, 64, 56, 56),
        "layer2": (1, 128, 28, 28),
        "layer3": (1, 256, 14, 14),
        "layer4": (1, 512, 7, 7),
        "fc": (1, 1000),
    }
    assert model.training  # stage_shapes restored the mode


def test_resnet18_small_head_and_seed():
    a, b = transfer.resnet18(num_classes=10, seed=3), transfer.resnet18(num_classes=10, seed=3)
    assert torch.equal(a.conv1.weight, b.conv1.weight)
    assert transfer.count_parameters(a) == 11_689_512 - 512 * 990 - 990
    with pytest.raises(ValueError):
        transfer.resnet18(num_classes=0)


def test_freeze_rejects_non_modules():
    for fn in (transfer.freeze, transfer.unfreeze, transfer.count_parameters):
        with pytest.raises(ValueError, match="torch.nn.Module"):
            fn([1, 2, 3])
