"""Every registered model (:func:`deepmad_pyomo.nn.models.list_models`) in timm's registry, through timm's own
``register_model``, by its :func:`~deepmad_pyomo.nn.models.hub_name`. Importing this module registers them::

    import timm
    import deepmad_pyomo.timm  # noqa: F401

    model = timm.create_model("deepmad_r18", num_classes=10, drop_path_rate=0.1)
    backbone = timm.create_model("deepmad_r50", features_only=True, out_indices=(1, 2, 3, 4))
    timm.list_models("deepmad_*")

timm passes its options through to :func:`~deepmad_pyomo.nn.models.create_model` (``num_classes``,
``in_chans``, ``drop_path_rate``, ``features_only``, ``out_indices``, ``device``, ``dtype``); ``pretrained=True``
is refused, as no weights are published. Each model's ``pretrained_cfg`` (input size, mean, std, crop) is
registered too, so ``timm.models.get_pretrained_cfg(name)`` and ``timm.data.resolve_data_config`` know it.
Needs timm (``pip install 'deepmad-pyomo[timm]'``) and a torchvision that imports beside your torch.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from .errors import DesignError
from .extras import Extra, install_command, missing
from .nn.models import entrypoint, get_architecture, hub_names

default_cfgs: dict[str, dict[str, Any]] = {}  # read by timm's register_model: the cfg of each name it registers


def _timm() -> Any:
    """The timm package; a :class:`DesignError` (one line) when it is missing or does not import."""
    try:
        import timm
    except ImportError as e:
        raise missing(Extra.TIMM, "timm registration", e) from None
    except Exception as e:  # noqa: BLE001 - e.g. a torchvision build that does not match torch
        raise DesignError("timm registration", f"timm does not import here ({type(e).__name__}: {e})",
                          f"timm with a torchvision built for torch's build ({install_command(Extra.TIMM)})") from None
    return timm


def _cfg(name: str, fields: set[str]) -> dict[str, Any]:
    """The model's ``pretrained_cfg`` as timm's ``PretrainedCfg`` takes it (its fields only)."""
    from .nn.network import default_cfg

    arch = get_architecture(name)
    cfg = default_cfg(arch, arch.num_classes)
    cfg["notes"] = (cfg["notes"],)
    return {k: v for k, v in cfg.items() if k in fields}


def register() -> list[str]:
    """Register every model not yet in timm's registry (call again after adding zoo files and
    :func:`~deepmad_pyomo.nn.models.refresh`); returns the timm names of all of them, sorted."""
    timm = _timm()
    from timm.models import PretrainedCfg, register_model

    fields = {f.name for f in dataclasses.fields(PretrainedCfg)}
    names = hub_names()
    for ident, name in names.items():
        if timm.models.is_model(ident):
            continue
        default_cfgs[ident] = _cfg(name, fields)
        fn = entrypoint(name)
        fn.__module__ = __name__
        globals()[ident] = fn  # like timm's model modules: the entry point is an attribute of its module
        register_model(fn)  # also adds ident to __all__
    return sorted(names)


__all__ = ["default_cfgs", "register"]
register()
