"""Named architectures and ``create_model(name)``, in the manner of timm.

Two sources, scanned lazily on first use:

- the released DeepMAD structures shipped in ``deepmad_pyomo/space/released/`` (``deepmad-R18``, ...;
  :data:`deepmad_pyomo.space.released.RELEASED`);
- the model zoo: ``*.json`` files under every folder of the ``DEEPMAD_MODELS`` environment variable
  (``os.pathsep``-separated), the repository's ``models/`` folder (a checkout or an editable install) and
  ``<prefix>/share/deepmad-pyomo/models`` (where ``pip install .`` puts the committed zoo). A file holds an architecture
  (:meth:`Architecture.to_dict`) or a record whose ``architecture`` key holds one; its name is the
  record's ``name``, else the architecture's, else the file stem. Other JSON files are ignored.

The first source to claim a name keeps it (released first, then ``DEEPMAD_MODELS``, then ``models/``,
then the installed zoo).
"""
from __future__ import annotations

import contextlib
import fnmatch
import os
import re
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from ..errors import DesignError
from ..fileio import read_json_or_none
from ..space.blocks import Architecture
from ..space.released import RELEASED

if TYPE_CHECKING:
    from torch import nn

ENV_VAR = "DEEPMAD_MODELS"
_REPO_MODELS = Path(__file__).resolve().parents[2] / "models"  # a checkout (or an editable install)
_INSTALLED_MODELS = Path(sys.prefix) / "share" / "deepmad-pyomo" / "models"  # where a wheel puts the zoo

Loader = Callable[[], Architecture]
_registry: tuple[tuple[Path, ...], dict[str, Loader]] | None = None  # (folders scanned, names)


def zoo_folders() -> list[Path]:
    """The folders scanned for ``*.json`` architectures, in priority order."""
    extra = [Path(p) for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p]
    return extra + [_REPO_MODELS, _INSTALLED_MODELS]


def _zoo_entry(path: Path) -> tuple[str, dict[str, Any]] | None:
    """``(name, architecture dict)`` of a zoo file, or ``None`` when it holds no architecture."""
    data = read_json_or_none(path)
    if not isinstance(data, dict):
        return None
    arch = data.get("architecture", data)
    if isinstance(arch, list):  # a bare block list
        arch = {"blocks": arch}
    if not isinstance(arch, dict) or "blocks" not in arch:
        return None
    return str(data.get("name") or arch.get("name") or path.stem), arch


def _zoo(name: str, arch: dict[str, Any], path: Path) -> Loader:
    """Builds the zoo architecture on demand; its errors name the file."""
    def load() -> Architecture:
        try:
            return Architecture.from_dict(arch, name=name)
        except DesignError as e:
            raise DesignError(f"{path}: {e.field}", e.problem, e.valid) from None
    return load


def _scan(folders: tuple[Path, ...]) -> dict[str, Loader]:
    """Every name registered: the released structures first, then the zoo folders in order."""
    found: dict[str, Loader] = {name: r.load for name, r in RELEASED.items()}
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*.json")):
            entry = _zoo_entry(path)
            if entry is None:
                continue
            name, arch = entry
            if name in found:
                warnings.warn(f"{path}: model name {name!r} already registered; file ignored", stacklevel=3)
                continue
            found[name] = _zoo(name, arch, path)
    return found


def _models() -> dict[str, Loader]:
    """The registered names, scanned once per set of zoo folders."""
    global _registry
    folders = tuple(zoo_folders())
    if _registry is None or _registry[0] != folders:
        _registry = folders, _scan(folders)
    return _registry[1]


def refresh() -> None:
    """Forget the scanned names: the next call rescans (after files were added to a zoo folder)."""
    global _registry
    _registry = None


def list_models(pattern: str | None = None) -> list[str]:
    """Sorted registered names, optionally filtered by a shell-style ``pattern`` (``'deepmad-R*'``)."""
    names = sorted(_models())
    return fnmatch.filter(names, pattern) if pattern else names


def get_architecture(name: str) -> Architecture:
    """The architecture registered as ``name``."""
    models = _models()
    if name not in models:
        raise DesignError("model", f"unknown model {name!r}", ", ".join(sorted(models)))
    return models[name]()


CREATE_OPTIONS = ("pretrained", "num_classes", "in_chans", "drop_path_rate", "features_only", "out_indices",
                  "device", "dtype")


def create_model(name: str, pretrained: bool = False, num_classes: int | None = None, in_chans: int = 3,
                 drop_path_rate: float = 0.0, features_only: bool = False, out_indices: Sequence[int] | None = None,
                 device: Any = None, dtype: Any = None, **kwargs: Any) -> nn.Module:
    """Build the registered architecture ``name`` as a ``torch.nn.Module``, with timm's options.

    - ``pretrained``: no weights are published; ``True`` raises :class:`DesignError`.
    - ``num_classes``: classifier outputs (default the architecture's); ``0``: no classifier, ``forward``
      returns the pooled features.
    - ``in_chans``: input channels of the stem conv.
    - ``drop_path_rate``: stochastic depth on residual blocks, linear from 0 to this rate over the blocks.
    - ``features_only``: a :class:`~deepmad_pyomo.nn.network.DeepMADFeatures` returning one feature map
      per stage (``out_indices`` selects which, default all) with its ``feature_info``.
    - ``device`` (where the weights are created, e.g. ``'meta'``) and ``dtype``.
    """
    import torch

    from .network import DeepMADFeatures, build_model, with_in_chans

    if kwargs:
        raise DesignError(f"create_model.{min(kwargs)}", "unknown option", ", ".join(CREATE_OPTIONS))
    if pretrained:
        raise DesignError("pretrained", "no pretrained weights are published for deepmad-pyomo models",
                          "pretrained=False")
    if out_indices is not None and not features_only:
        raise DesignError("out_indices", "only used with features_only=True", "features_only=True")
    arch = with_in_chans(get_architecture(name), in_chans)
    with torch.device(device) if device is not None else contextlib.nullcontext():
        model: nn.Module = build_model(arch, 0 if features_only else num_classes, drop_path_rate)
        if features_only:
            model = DeepMADFeatures(model, out_indices)  # type: ignore[arg-type]
    return model.to(dtype=dtype) if dtype is not None else model


HUB_PREFIX = "deepmad_"


def hub_name(name: str) -> str:
    """The model's name as a Python identifier, for timm and torch.hub: lower case, ``.`` -> ``p``, other
    punctuation -> ``_``, prefixed ``deepmad_`` (``deepmad-R18`` -> ``deepmad_r18``,
    ``imagenet-k1dwk1-0.4g-224`` -> ``deepmad_imagenet_k1dwk1_0p4g_224``)."""
    ident = re.sub(r"[^a-z0-9]+", "_", name.lower().replace(".", "p")).strip("_")
    return ident if ident.startswith(HUB_PREFIX) else HUB_PREFIX + ident


def entrypoint(name: str) -> Callable[..., nn.Module]:
    """A function ``fn(pretrained=False, **options)`` named :func:`hub_name` that builds ``name`` with
    :func:`create_model`: what timm's ``register_model`` and torch.hub expect. It also takes timm's
    ``pretrained_cfg``/``cache_dir`` (unused: no weights exist) and ``pretrained_cfg_overlay`` (merged
    into the model's ``pretrained_cfg``)."""
    def build(pretrained: bool = False, pretrained_cfg: Any = None, pretrained_cfg_overlay: dict[str, Any] | None = None,
              cache_dir: Any = None, **options: Any) -> nn.Module:
        model = create_model(name, pretrained=pretrained, **options)
        if pretrained_cfg_overlay:
            model.pretrained_cfg = {**model.pretrained_cfg, **pretrained_cfg_overlay}
        return model

    build.__name__ = build.__qualname__ = hub_name(name)
    build.__doc__ = f"The deepmad-pyomo model {name!r} (no pretrained weights), built by create_model({name!r}, ...)."
    return build


def hub_names() -> dict[str, str]:
    """Every registered model's name by its :func:`hub_name`; two names with one hub name are refused (a
    :class:`DesignError`)."""
    found: dict[str, str] = {}
    for name in list_models():
        ident = hub_name(name)
        if ident in found:
            raise DesignError("model", f"{found[ident]!r} and {name!r} have the same hub name {ident!r}",
                              "names that differ in more than case and punctuation")
        found[ident] = name
    return found


def entrypoints() -> dict[str, Callable[..., nn.Module]]:
    """:func:`entrypoint` of every registered model, by :func:`hub_name`."""
    return {ident: entrypoint(name) for ident, name in hub_names().items()}


__all__ = ["ENV_VAR", "HUB_PREFIX", "RELEASED", "create_model", "entrypoint", "entrypoints", "get_architecture",
           "hub_name", "hub_names", "list_models", "refresh", "zoo_folders"]
