"""The models in timm's own registry, checked against the real timm package.

timm imports torchvision, and torchvision's wheels on PyPI are built for PyPI's (CUDA) torch: beside the
CPU-only torch build they do not import. Where timm does not import these tests are skipped, unless
``DEEPMAD_REQUIRE_TIMM=1`` (``.ci/run`` runs them in a virtual environment of PyPI's torch, torchvision and
timm with it set, so that there they fail instead).
"""
from __future__ import annotations

import os

import pytest
import torch

try:
    import timm
    import timm.data
    import timm.optim
except Exception as e:  # noqa: BLE001 - ImportError, or torchvision's RuntimeError beside a CPU-only torch
    if os.environ.get("DEEPMAD_REQUIRE_TIMM"):
        raise
    pytest.skip(f"timm does not import here ({type(e).__name__}: {e})", allow_module_level=True)

import deepmad_pyomo.timm as dm_timm
from deepmad_pyomo.errors import DesignError
from deepmad_pyomo.nn.models import get_architecture, hub_names, list_models
from deepmad_pyomo.nn.network import DeepMADFeatures, DeepMADNet
from deepmad_pyomo.nn.verify import count_module, verify


def test_every_model_is_in_timms_registry() -> None:
    names = hub_names()
    assert len(names) == len(list_models()) >= 30
    assert sorted(names) == sorted(timm.list_models("deepmad_*")) == dm_timm.register()  # again: nothing new
    assert {"deepmad_r18", "deepmad_r50", "deepmad_imagenet_k1dwk1_0p4g_224"} <= set(names)
    cfg = timm.models.get_pretrained_cfg("deepmad_imagenet_k1kxk1_3g_288")
    assert cfg.input_size == (3, 288, 288) and cfg.first_conv == "stem.0" and cfg.url is None
    assert not timm.list_models("deepmad_*", pretrained=True)


@pytest.mark.parametrize("ident", ["deepmad_r18", "deepmad_imagenet_k1dwsek1_0p4g_224"])
def test_create_model_builds_the_architecture_and_counts_stay_exact(ident: str) -> None:
    arch = get_architecture(hub_names()[ident])
    m = timm.create_model(ident, num_classes=10, device="meta")
    assert isinstance(m, DeepMADNet) and m.num_classes == 10
    v = verify(arch, num_classes=10, model=m)
    assert v.match, v
    # num_classes=0: the backbone alone, and its counts are the analytic ones without a classifier
    bare = timm.create_model(ident, num_classes=0, device="meta")
    assert isinstance(bare.get_classifier(), torch.nn.Identity)
    assert verify(arch, num_classes=0, model=bare).match
    assert count_module(bare, (1, 3, arch.resolution, arch.resolution)).params < v.params_counted


def test_features_only_with_out_indices_through_timm() -> None:
    m = timm.create_model("deepmad_r18", features_only=True, out_indices=(1, 2, 3, 4)).eval()
    assert isinstance(m, DeepMADFeatures)
    assert m.feature_info.reduction() == [4, 8, 16, 32]
    with torch.no_grad():
        maps = m(torch.randn(1, 3, 64, 64))
    assert [t.shape[1] for t in maps] == m.feature_info.channels()
    assert [64 // t.shape[-1] for t in maps] == [4, 8, 16, 32]


def test_timm_options_reach_the_model_and_pretrained_is_refused() -> None:
    m = timm.create_model("deepmad_r18", in_chans=1, drop_path_rate=0.1, num_classes=5,
                          pretrained_cfg_overlay={"crop_pct": 1.0})
    assert m.stem[0].in_channels == 1 and m.pretrained_cfg["crop_pct"] == 1.0
    data = timm.data.resolve_data_config(model=m)
    assert data["input_size"] == (1, 224, 224) and data["interpolation"] == "bicubic"
    with pytest.raises(DesignError, match="no pretrained weights"):
        timm.create_model("deepmad_r18", pretrained=True)
    with pytest.raises(DesignError, match="global_pool"):
        timm.create_model("deepmad_r18", global_pool="max")


@pytest.fixture
def one_thread():
    """One torch thread: a small network's training steps on 2 busy cores are many times faster so."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_a_few_sgd_steps_with_timms_optimizer(one_thread: None) -> None:
    torch.manual_seed(0)
    m = timm.create_model("deepmad_imagenet_k1dwk1_0p4g_224", num_classes=3).train()
    opt = timm.optim.create_optimizer_v2(m, opt="sgd", lr=0.02, momentum=0.9, weight_decay=1e-4)
    x, y = torch.randn(8, 3, 32, 32), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    losses = []
    for _ in range(8):
        loss = torch.nn.functional.cross_entropy(m(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses  # it fits the batch
