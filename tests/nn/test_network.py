"""Decoding architectures into torch modules (network.py) and the model registry (registry.py)."""
from __future__ import annotations

import json
from collections import Counter

import pytest
import torch
from torch import nn

from deepmad_pyomo.errors import DesignError
from deepmad_pyomo.nn import models as registry
from deepmad_pyomo.nn.network import ConvBN, build_model
from deepmad_pyomo.space.arch import Architecture, Block
from deepmad_pyomo.space.metrics import inner_block

RELEASED = ("deepmad-R18", "deepmad-R50", "deepmad-29M-224")


def small(btype: str, head: bool = False) -> Architecture:
    """A small net of one family: a widening super-block at stride 2, then one that keeps its width."""
    blocks = [Block("conv", 3, 8, k=3, s=2), Block(btype, 8, 16, k=3, s=2, btn=12, L=2),
              Block(btype, 16, 16, k=5, s=2, btn=24, L=2)]
    if head:
        blocks.append(Block("conv", 16, 32, k=1))
    return Architecture(tuple(blocks), resolution=32, num_classes=7)


FAMILIES = ("k1kxk1", "kxkx", "k1dwk1", "k1dwsek1")


@pytest.mark.parametrize("btype", FAMILIES)
@pytest.mark.parametrize("head", [False, True])
def test_forward_shape(btype: str, head: bool) -> None:
    torch.manual_seed(0)
    model = build_model(small(btype, head))
    x = torch.randn(2, 3, 32, 32)
    out = model(x)  # training mode: BN on batch statistics
    assert out.shape == (2, 7)
    assert torch.isfinite(out).all()
    model.eval()
    with torch.no_grad():
        assert model(torch.randn(1, 3, 64, 64)).shape == (1, 7)  # any resolution: global pooling
    assert model.forward_features(x).shape == (2, 32 if head else 16, 4, 4)


def test_num_classes_override() -> None:
    assert build_model(small("k1kxk1"), num_classes=3).classifier.out_features == 3
    assert build_model(small("k1kxk1")).classifier.out_features == 7


def expected_weight_shapes(arch: Architecture) -> Counter:
    """``(out, in per group, k^2)`` of every conv that metrics.inner_block lists, with multiplicity."""
    shapes: Counter = Counter()
    r = float(arch.resolution)
    for b in arch.blocks:
        for first, times in ((True, 1), (False, b.L - 1)):
            for c in inner_block(b, r if first else r / b.s, first).convs:
                shapes[(c.cout, c.cin, c.k2)] += times
        r /= b.s
    return shapes


@pytest.mark.parametrize("btype", FAMILIES)
def test_convs_are_those_of_metrics(btype: str) -> None:
    arch = small(btype, head=True)
    with torch.device("meta"):
        model = build_model(arch)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    built = Counter((w.shape[0], w.shape[1], w.shape[2] * w.shape[3]) for w in (c.weight for c in convs))
    assert built == expected_weight_shapes(arch)
    assert all(c.bias is None for c in convs)
    # every conv sits in a ConvBN, directly followed by its BatchNorm2d
    conv_bn = [m for m in model.modules() if isinstance(m, ConvBN)]
    assert len(conv_bn) == len(convs)
    assert all(isinstance(m[0], nn.Conv2d) and isinstance(m[1], nn.BatchNorm2d) for m in conv_bn)


def test_depthwise_and_strides() -> None:
    with torch.device("meta"):
        model = build_model(small("k1dwsek1"))
    first = model.stages[0][0]
    assert first.conv2[0].groups == 12 and first.conv2[0].stride == (2, 2)
    assert first.shortcut is None  # width changes: no shortcut
    assert isinstance(model.stages[1][0].shortcut, nn.AvgPool2d)  # same width at stride 2
    assert isinstance(model.stages[1][1].shortcut, nn.Identity)
    assert first.se.gate[1][0].out_channels == Block("k1dwsek1", 8, 16, k=3, btn=12).se


def test_resnet_shortcuts() -> None:
    with torch.device("meta"):
        model = build_model(small("k1kxk1"))
    sc = model.stages[1][0].shortcut  # in == out, yet projected (first block of a super-block)
    assert isinstance(sc[0], nn.AvgPool2d) and isinstance(sc[1], ConvBN)
    assert isinstance(model.stages[1][1].shortcut, nn.Identity)
    names = dict(model.named_children())
    assert list(names) == ["stem", "stages", "head", "pool", "flatten", "classifier"]


# --- registry ---------------------------------------------------------------------------------

def test_list_models_has_released() -> None:
    names = registry.list_models()
    assert set(RELEASED) <= set(names)
    assert registry.list_models("deepmad-R*") == ["deepmad-R18", "deepmad-R50"]


@pytest.mark.parametrize("name", RELEASED)
def test_get_architecture_released(name: str) -> None:
    arch = registry.get_architecture(name)
    assert arch.name == name and arch.blocks[0].type == "conv"


def test_create_model() -> None:
    model = registry.create_model("deepmad-R18", num_classes=10, device="meta")
    assert model.classifier.out_features == 10
    assert model.classifier.weight.device.type == "meta"
    assert model.stem[0].out_channels == 32
    assert registry.create_model("deepmad-29M-224", device="meta", dtype=torch.float16).stem[0].weight.dtype \
        == torch.float16
    with pytest.raises(DesignError, match="pretrained"):
        registry.create_model("deepmad-R18", pretrained=True)


def test_unknown_model_lists_valid_names() -> None:
    with pytest.raises(DesignError) as err:
        registry.create_model("x")
    assert err.value.field == "model" and "unknown model 'x'" in err.value.problem
    assert all(name in err.value.valid for name in RELEASED)


def test_zoo_folders_from_env(tmp_path, monkeypatch) -> None:
    arch = small("k1dwk1").with_(name="tiny-dw")
    (tmp_path / "plain.json").write_text(arch.to_json())
    (tmp_path / "sub").mkdir()
    record = {"name": "tiny-res", "architecture": small("kxkx").to_dict(), "metrics": {}}
    (tmp_path / "sub" / "record.json").write_text(json.dumps(record))
    (tmp_path / "problem.json").write_text(json.dumps({"budgets": {"flops": 1e9}}))  # not a model
    (tmp_path / "broken.json").write_text("{")
    monkeypatch.setenv(registry.ENV_VAR, str(tmp_path))
    names = registry.list_models()
    assert {"tiny-dw", "tiny-res", *RELEASED} <= set(names)
    assert "problem" not in names and "broken" not in names
    assert registry.get_architecture("tiny-dw") == arch
    assert registry.create_model("tiny-res", device="meta").stages[0][0].conv1[0].kernel_size == (3, 3)
    monkeypatch.delenv(registry.ENV_VAR)
    assert "tiny-dw" not in registry.list_models()


def test_zoo_file_stem_names_and_duplicates(tmp_path, monkeypatch) -> None:
    (tmp_path / "anon.json").write_text(json.dumps({"blocks": small("kxkx").to_dict()["blocks"]}))
    (tmp_path / "clash.json").write_text(small("kxkx").with_(name="deepmad-R18").to_json())
    monkeypatch.setenv(registry.ENV_VAR, str(tmp_path))
    with pytest.warns(UserWarning, match="already registered"):
        names = registry.list_models()
    assert "anon" in names
    assert registry.get_architecture("deepmad-R18").blocks[0].c_out == 32  # the released one wins
    assert registry.get_architecture("anon").resolution == 224


@pytest.mark.parametrize("blocks,resolution,field", [
    ([Block("conv", 3, 16, 3, 1)] + [Block("k1kxk1", 16, 16, 3, 1, 8, 200)] * 4, 8, "architecture.layers"),
    ([Block("conv", 3, 16384, 31, 1), Block("conv", 16384, 16384, 31, 1)], 1, "architecture.params"),
    ([Block("conv", 3, 16384, 31, 1), Block("conv", 16384, 16384, 31, 1)], 4096, "architecture.macs"),
])
def test_too_large_to_build_is_refused_before_building(blocks, resolution, field) -> None:
    """Valid architectures beyond MAX_LAYERS, MAX_PARAMS or MAX_MACS: refused naming the limit, nothing built."""
    from deepmad_pyomo.nn.verify import verify

    arch = Architecture(tuple(blocks), resolution=resolution)
    for build in (build_model, verify):
        with pytest.raises(DesignError) as e:
            build(arch)
        assert e.value.field == field and "MAX_" in str(e.value) and "too large to build" in str(e.value)
