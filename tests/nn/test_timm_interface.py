"""create_model and DeepMADNet follow timm's interface, checked against real torch."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from deepmad_pyomo.errors import DesignError
from deepmad_pyomo.nn.models import create_model, get_architecture
from deepmad_pyomo.nn.network import DeepMADNet, DropPath
from deepmad_pyomo.nn.verify import count_module, verify

NAME = "deepmad-R18"
R18_STAGES = [(32, 2, "stem"), (96, 4, "stages.0"), (384, 8, "stages.1"), (1024, 16, "stages.3"),
              (672, 32, "stages.4")]


def _x(c: int = 3, r: int = 64, n: int = 2) -> torch.Tensor:
    torch.manual_seed(0)
    return torch.randn(n, c, r, r)


def test_pretrained_is_refused_and_unknown_options_name_the_valid_ones() -> None:
    with pytest.raises(DesignError) as e:
        create_model(NAME, pretrained=True)
    assert (e.value.field, e.value.valid) == ("pretrained", "pretrained=False")
    assert "no pretrained weights" in e.value.problem
    with pytest.raises(DesignError) as e:
        create_model(NAME, drop_rate=0.2)
    assert e.value.field == "create_model.drop_rate"
    assert "features_only" in (e.value.valid or "") and "in_chans" in (e.value.valid or "")


def test_num_classes_and_num_classes_zero() -> None:
    m = create_model(NAME, num_classes=10).eval()
    assert isinstance(m, DeepMADNet) and m.num_classes == 10
    assert m(_x()).shape == (2, 10)
    m0 = create_model(NAME, num_classes=0).eval()
    assert isinstance(m0.get_classifier(), nn.Identity) and m0.num_classes == 0
    assert m0(_x()).shape == (2, m0.num_features) == (2, 672)
    assert m0.pretrained_cfg["num_classes"] == 0


def test_in_chans_sets_the_stem_input() -> None:
    m = create_model(NAME, in_chans=1, num_classes=5).eval()
    assert m.stem[0].in_channels == 1
    assert m(_x(c=1)).shape == (2, 5)
    assert m.pretrained_cfg["input_size"] == (1, 224, 224)
    with pytest.raises(DesignError):
        create_model(NAME, in_chans=0)


def test_forward_head_and_reset_classifier() -> None:
    m = create_model(NAME, num_classes=7).eval()
    x = _x()
    with torch.no_grad():
        feats = m.forward_features(x)
        assert feats.shape == (2, 672, 2, 2)
        pre = m.forward_head(feats, pre_logits=True)
        assert pre.shape == (2, 672)
        torch.testing.assert_close(m.forward_head(feats), m(x))
        torch.testing.assert_close(m.get_classifier()(pre), m(x))
    m.reset_classifier(3)
    assert isinstance(m.get_classifier(), nn.Linear) and m.get_classifier().out_features == 3
    assert m(x).shape == (2, 3) and m.num_classes == 3 == m.pretrained_cfg["num_classes"]
    m.reset_classifier(0)
    assert isinstance(m.get_classifier(), nn.Identity) and m(x).shape == (2, 672)
    mm = create_model(NAME, device="meta", dtype=torch.float16)
    mm.reset_classifier(4)
    w = mm.get_classifier().weight
    assert (w.device.type, w.dtype) == ("meta", torch.float16)


def test_pretrained_cfg_defaults() -> None:
    cfg = create_model(NAME, device="meta").pretrained_cfg
    assert cfg["input_size"] == (3, 224, 224)
    assert cfg["mean"] == (0.485, 0.456, 0.406) and cfg["std"] == (0.229, 0.224, 0.225)
    assert cfg["crop_pct"] == 0.875 and cfg["interpolation"] == "bicubic"
    assert cfg["num_classes"] == 1000 and cfg["license"] == "Apache-2.0"
    assert cfg["weights"] is None and "no pretrained weights" in cfg["notes"]


def test_feature_info_of_the_classifier_model() -> None:
    m = create_model(NAME, device="meta")
    assert [(d["num_chs"], d["reduction"], d["module"]) for d in m.feature_info] == R18_STAGES
    names = dict(m.named_modules())
    assert all(d["module"] in names for d in m.feature_info)


def test_features_only_returns_one_map_per_stage() -> None:
    m = create_model(NAME, features_only=True).eval()
    assert m.feature_info.channels() == [c for c, _, _ in R18_STAGES]
    assert m.feature_info.reduction() == [r for _, r, _ in R18_STAGES]
    with torch.no_grad():
        out = m(_x(r=64))
    assert isinstance(out, list) and len(out) == 5
    assert [tuple(o.shape) for o in out] == [(2, c, 64 // r, 64 // r) for c, r, _ in R18_STAGES]
    assert not any(isinstance(mod, nn.Linear) for mod in m.modules())


def test_features_only_out_indices() -> None:
    m = create_model(NAME, features_only=True, out_indices=(1, 3), in_chans=1).eval()
    assert m.feature_info.channels() == [96, 1024] and m.feature_info.reduction() == [4, 16]
    with torch.no_grad():
        out = m(_x(c=1, r=64))
    assert [tuple(o.shape) for o in out] == [(2, 96, 16, 16), (2, 1024, 4, 4)]
    assert "stages_4" not in m.blocks  # blocks past the last selected stage are dropped
    assert create_model(NAME, features_only=True, out_indices=(-1,), device="meta").feature_info.channels() == [672]
    for bad in ((5,), (3, 1)):
        with pytest.raises(DesignError) as e:
            create_model(NAME, features_only=True, out_indices=bad, device="meta")
        assert e.value.field == "out_indices"
    with pytest.raises(DesignError):
        create_model(NAME, out_indices=(1,))


def test_drop_path_module() -> None:
    dp = DropPath(0.5)
    x = torch.ones(64, 3, 2, 2)
    dp.train()
    torch.manual_seed(0)
    y = dp(x)
    per_sample = y.flatten(1)
    assert set(per_sample[:, 0].tolist()) == {0.0, 2.0}  # dropped, or kept and scaled by 1/(1-p)
    assert torch.all(per_sample == per_sample[:, :1])
    dp.eval()
    assert dp(x) is x


def test_drop_path_rate_is_linear_over_blocks_active_in_train_identity_in_eval() -> None:
    m = create_model(NAME, num_classes=4, drop_path_rate=0.2)
    rates = [mod.p for mod in m.modules() if isinstance(mod, DropPath)]
    n = sum(b.L for b in get_architecture(NAME).super_blocks)
    assert len(rates) == n - 1  # the first block's rate is 0: no DropPath there
    assert rates[-1] == pytest.approx(0.2)
    assert rates == sorted(rates)
    assert rates[0] == pytest.approx(0.2 / (n - 1))
    x = _x(n=4)
    ref = create_model(NAME, num_classes=4)
    ref.load_state_dict(m.state_dict())  # DropPath has no state: same weights load
    m.eval(); ref.eval()
    with torch.no_grad():
        torch.testing.assert_close(m(x), ref(x))
        m.train(); ref.train()
        torch.manual_seed(1)
        a = m(x)
        b = ref(x)
    assert not torch.allclose(a, b)
    assert create_model(NAME, device="meta").drop_path_rate == 0.0
    assert not any(isinstance(mod, DropPath) for mod in create_model(NAME, device="meta").modules())
    with pytest.raises(DesignError):
        create_model(NAME, drop_path_rate=1.0, device="meta")


@pytest.mark.parametrize("num_classes,in_chans", [(10, 1), (10, None), (0, None), (0, 1)])
def test_verification_stays_exact(num_classes: int, in_chans: int | None) -> None:
    arch = get_architecture(NAME)
    v = verify(arch, num_classes=num_classes, in_chans=in_chans)
    assert v.match and v.num_classes == num_classes
    # and the module create_model builds is the one verified
    m = create_model(NAME, num_classes=num_classes, in_chans=in_chans or 3, device="meta")
    counted = count_module(m, (1, in_chans or 3, 224, 224))
    assert (counted.macs, counted.params) == (v.macs_counted, v.params_counted)


def test_num_classes_zero_is_the_backbone_alone() -> None:
    arch = get_architecture(NAME)
    full, bare = verify(arch), verify(arch, num_classes=0)
    c = arch.blocks[-1].c_out
    assert full.params_analytic - bare.params_analytic == c * arch.num_classes + arch.num_classes
    assert full.macs_analytic - bare.macs_analytic == c * arch.num_classes
