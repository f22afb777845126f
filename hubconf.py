"""torch.hub entry points: every model of deepmad-pyomo (the released structures and the zoo) by its timm name.

    model = torch.hub.load("path/to/deepmad-pyomo", "deepmad_r18", source="local", num_classes=10)
    torch.hub.load("OWNER/deepmad-pyomo", "deepmad_r50", features_only=True)   # from its GitHub repository

No pretrained weights exist (``pretrained=True`` is refused); the options are those of
``deepmad_pyomo.nn.models.create_model``.
"""
dependencies = ["torch", "numpy", "yaml", "pydantic"]

from deepmad_pyomo.nn.models import entrypoints  # noqa: E402

globals().update(entrypoints())
