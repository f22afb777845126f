"""Train a deepmad-pyomo model the timm way: a few SGD steps on random data, on the CPU, in seconds.

    python examples/train_timm.py                               # deepmad_imagenet_k1dwk1_0p4g_224
    python examples/train_timm.py --model deepmad_r18 --steps 20 --size 64

Needs timm (``pip install 'deepmad-pyomo[timm]'``, with the torchvision build that matches your torch).
No pretrained weights exist: this starts from random weights and only shows the plumbing (timm's
create_model, optimizer factory, data config); put your own data loader in place of the random batch.
"""
from __future__ import annotations

import argparse

import timm
import timm.data
import timm.optim
import torch

import deepmad_pyomo.timm  # noqa: F401 - registers every model in timm's registry


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="deepmad_imagenet_k1dwk1_0p4g_224", help="timm.list_models('deepmad_*')")
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--size", type=int, default=32, help="input side (random data; the model's own is larger)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = timm.create_model(args.model, num_classes=args.classes, drop_path_rate=0.05).train()
    print(f"{args.model}: {sum(p.numel() for p in model.parameters()):,} params; "
          f"timm data config {timm.data.resolve_data_config(model=model)}")
    opt = timm.optim.create_optimizer_v2(model, opt="sgd", lr=0.02, momentum=0.9, weight_decay=1e-4)
    x = torch.randn(args.batch, 3, args.size, args.size)
    y = torch.arange(args.batch) % args.classes
    losses = []
    for step in range(args.steps):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        print(f"step {step + 1}: loss {loss.item():.4f}")
    return 0 if losses[-1] < losses[0] else 1


if __name__ == "__main__":
    raise SystemExit(main())
