"""The design space: what a CNN backbone is, how it is measured, and what a design problem asks.

- :mod:`.families`: the block types and the two objective modes, with their facts;
- :mod:`.blocks` / :mod:`.arch`: architectures as data, and their files (our JSON, TinyNAS structures
  read by :mod:`.tinynas`);
- :mod:`.metrics`: entropy, effectiveness, MACs and params, for numbers and Pyomo expressions alike;
- :mod:`.problem` with :mod:`.schema`: design problems, their files and the paper's presets
  (``presets/``); :mod:`.released`: the released DeepMAD structures.

docs/mathematics.md, docs/counting.md, docs/architecture-format.md and docs/problems.md describe them.
"""
