"""Analytic MACs/params (metrics.py) against torch's FlopCounterMode on the built module (verify.py)."""
from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from deepmad_pyomo.nn import models as registry
from deepmad_pyomo.nn.network import build_model
from deepmad_pyomo.nn.verify import CONVENTION, count_module, verify
from deepmad_pyomo.space.arch import Architecture, Block
from deepmad_pyomo.space.families import SUPER_BLOCK_TYPES

FAMILIES = ("k1kxk1", "kxkx", "k1dwk1", "k1dwsek1")


def family_net(btype: str, k: int = 3) -> Architecture:
    """Stem, a widening stride-2 super-block, a same-width stride-2 one, a stride-1 one, a 1x1 head."""
    return Architecture((Block("conv", 3, 16, k=3, s=2), Block(btype, 16, 24, k=k, s=2, btn=32, L=2),
                         Block(btype, 24, 24, k=k, s=2, btn=48, L=3), Block(btype, 24, 40, k=5, s=1, btn=40, L=2),
                         Block("conv", 40, 64, k=1)), resolution=64, num_classes=10)


def assert_exact(v) -> None:
    assert (v.macs_counted, v.params_counted) == (v.macs_analytic, v.params_analytic)
    assert v.match


@pytest.mark.parametrize("btype", FAMILIES)
@pytest.mark.parametrize("k", [1, 3, 7])
def test_every_family_matches_exactly(btype: str, k: int) -> None:
    assert_exact(verify(family_net(btype, k)))


def test_plain_convs_only() -> None:
    arch = Architecture((Block("conv", 3, 8, k=3, s=2), Block("conv", 8, 16, k=5, s=2), Block("conv", 16, 32, k=1)),
                        resolution=16, num_classes=5)
    assert_exact(verify(arch))


# Released structures: params without the classifier and conv MACs, in thousands (docs/counting.md).
RELEASED = {"deepmad-R18": (11_153, 1_810_902), "deepmad-R50": (24_208, 4_041_529),
            "deepmad-29M-224": (26_877, 4_321_977)}


@pytest.mark.parametrize("name", RELEASED)
def test_released_structures_at_224(name: str) -> None:
    arch = registry.get_architecture(name)
    v = verify(arch, resolution=224)
    assert_exact(v)
    c_last = arch.blocks[-1].c_out
    fc_params, fc_macs = c_last * 1000 + 1000, c_last * 1000
    assert (round((v.params_counted - fc_params) / 1e3), round((v.macs_counted - fc_macs) / 1e3)) == RELEASED[name]


def test_overrides() -> None:
    arch = family_net("k1dwsek1")
    v = verify(arch, resolution=128, num_classes=3)
    assert_exact(v)
    assert (v.resolution, v.num_classes) == (128, 3)
    assert v.macs_counted > verify(arch).macs_counted


def test_to_dict_names_convention() -> None:
    d = verify(family_net("kxkx")).to_dict()
    assert d["convention"] == CONVENTION
    assert "FlopCounterMode" in d["convention"] and "2 FLOPs per MAC" in d["convention"]
    assert {"macs_analytic", "macs_counted", "params_analytic", "params_counted", "match"} <= set(d)


# --- the check can fail ------------------------------------------------------------------------

def test_mismatch_is_detected() -> None:
    claimed = family_net("k1kxk1")
    other = claimed.with_(blocks=claimed.blocks[:-1] + (Block("conv", 40, 72, k=1),))  # a wider head
    with torch.device("meta"):
        model = build_model(other, num_classes=claimed.num_classes)
    v = verify(claimed, model=model)
    assert not v.match
    assert v.macs_counted > v.macs_analytic and v.params_counted > v.params_analytic


def test_classifier_size_mismatch_is_detected() -> None:
    arch = family_net("k1dwk1")
    with torch.device("meta"):
        model = build_model(arch, num_classes=11)
    v = verify(arch, model=model)  # analytic side uses arch.num_classes = 10
    assert not v.match and v.params_counted - v.params_analytic == 64 + 1


def test_counter_that_sees_no_conv_is_an_error() -> None:
    with torch.device("meta"):
        mlp = nn.Sequential(nn.Flatten(), nn.Linear(12, 4))
    with pytest.raises(RuntimeError, match="no convolution"):
        count_module(mlp, (1, 3, 2, 2))
    assert count_module(mlp, (1, 3, 2, 2), require_conv=False).macs == 12 * 4


def test_count_restores_training_mode() -> None:
    with torch.device("meta"):
        model = build_model(family_net("k1dwsek1"))
    count_module(model, (1, 3, 32, 32))
    assert model.training


# --- random architectures ----------------------------------------------------------------------

widths = st.integers(1, 24)
kernels = st.sampled_from([1, 3, 5, 7])
strides = st.sampled_from([1, 2])


@st.composite
def architectures(draw) -> Architecture:
    stem = Block("conv", 3, draw(widths), k=draw(kernels), s=draw(strides))
    blocks, c = [stem], stem.c_out
    for _ in range(draw(st.integers(1, 4))):
        c_out = draw(st.one_of(st.just(c), widths))  # often the same width: identity residuals
        blocks.append(Block(draw(st.sampled_from(SUPER_BLOCK_TYPES)), c, c_out, k=draw(kernels), s=draw(strides),
                            btn=draw(widths), L=draw(st.integers(1, 3))))
        c = c_out
    if draw(st.booleans()):
        blocks.append(Block("conv", c, draw(widths), k=1))
    n2 = sum(b.s == 2 for b in blocks)
    return Architecture(tuple(blocks), resolution=2 ** n2 * draw(st.sampled_from([1, 2, 3, 4])),
                        num_classes=draw(st.integers(1, 20)))


@settings(max_examples=40, deadline=None)
@given(architectures())
def test_random_architectures_match_exactly(arch: Architecture) -> None:
    assert_exact(verify(arch))


# --- the counter itself, on hand-built torchvision-equivalent ResNets (docs/counting.md) ----------

def conv_bn(c_in: int, c_out: int, k: int, s: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, k, s, padding=k // 2, bias=False), nn.BatchNorm2d(c_out)]


class TVBlock(nn.Module):
    """torchvision's BasicBlock (``bottleneck=False``) or Bottleneck (stride on the 3x3, v1.5)."""

    def __init__(self, c_in: int, planes: int, s: int, bottleneck: bool):
        super().__init__()
        c_out = planes * (4 if bottleneck else 1)
        if bottleneck:
            layers = [*conv_bn(c_in, planes, 1), nn.ReLU(), *conv_bn(planes, planes, 3, s), nn.ReLU(),
                      *conv_bn(planes, c_out, 1)]
        else:
            layers = [*conv_bn(c_in, planes, 3, s), nn.ReLU(), *conv_bn(planes, planes, 3)]
        self.body = nn.Sequential(*layers)
        self.downsample = nn.Sequential(*conv_bn(c_in, c_out, 1, s)) if s != 1 or c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.downsample(x))


def tv_resnet(depths: tuple[int, ...], bottleneck: bool) -> nn.Module:
    layers: list[nn.Module] = [*conv_bn(3, 64, 7, 2), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    c = 64
    for i, (planes, n) in enumerate(zip((64, 128, 256, 512), depths)):
        for j in range(n):
            layers.append(TVBlock(c, planes, 2 if i and not j else 1, bottleneck))
            c = planes * (4 if bottleneck else 1)
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 1000))


@pytest.mark.parametrize("depths, bottleneck, macs, params", [
    ((2, 2, 2, 2), False, 1_814_073_344, 11_689_512),
    ((3, 4, 6, 3), True, 4_089_184_256, 25_557_032),
], ids=["resnet18", "resnet50"])
def test_counter_on_torchvision_resnets(depths, bottleneck, macs, params) -> None:
    with torch.device("meta"):
        model = tv_resnet(depths, bottleneck)
    assert count_module(model, (1, 3, 224, 224)) == (macs, params)
