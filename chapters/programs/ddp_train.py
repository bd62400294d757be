"""Data-parallel training with PyTorch DDP (chapter 14b): one script, laptop to cluster.

On one machine, two processes:

    torchrun --standalone --nproc-per-node=2 ddp_train.py --out runs/ddp

On two machines (here both on 127.0.0.1), the same script; only the launcher's flags change:

    torchrun --nnodes=2 --node-rank=0 --nproc-per-node=1 --rdzv-backend=c10d \
             --rdzv-endpoint=HOST:PORT --rdzv-id=job ddp_train.py --out runs/ddp2   # on node 0
    torchrun --nnodes=2 --node-rank=1 ...same...                                     # on node 1

torchrun sets RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT for every worker;
``init_process_group`` reads them. The backend is the one switch between CPU and GPU: gloo on
CPU, NCCL when there is a GPU (then each process uses GPU number LOCAL_RANK).

Trains an MLP on scikit-learn's digits for ``--steps`` steps of ``--batch`` examples *per
process* (global batch = batch x world size), SGD with momentum. Rank 0 alone logs and writes
``metrics.json`` and ``checkpoint.pt`` into ``--out``. Flags for the chapter's pitfalls:
``--no-set-epoch`` (every epoch gets the same order) and ``--save-on-every-rank`` (every rank
writes the same checkpoint file).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from course_lib import data


def build_model(seed: int) -> torch.nn.Module:
    """The same initial weights on every rank (DDP also broadcasts rank 0's at start-up)."""
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10)
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--batch", type=int, default=32, help="examples per process and step")
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-set-epoch", action="store_true", help="pitfall: forget sampler.set_epoch")
    ap.add_argument("--save-on-every-rank", action="store_true", help="pitfall: every rank saves")
    args = ap.parse_args()

    use_cuda = torch.cuda.is_available()
    dist.init_process_group("nccl" if use_cuda else "gloo")  # the one switch
    rank, world = dist.get_rank(), dist.get_world_size()
    device = torch.device(f"cuda:{int(os.environ['LOCAL_RANK'])}" if use_cuda else "cpu")
    torch.set_num_threads(1)
    out = Path(args.out)
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
    dist.barrier()  # the folder exists for everyone

    ds = data.load_digits()
    train = TensorDataset(torch.from_numpy(ds.X_train), torch.from_numpy(ds.y_train))
    sampler = DistributedSampler(train, num_replicas=world, rank=rank, shuffle=True, seed=args.seed)
    loader = DataLoader(train, batch_size=args.batch, sampler=sampler, drop_last=True)

    model = DDP(build_model(args.seed).to(device))
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()

    losses, step_times, epoch_orders = [], [], []
    step, epoch = 0, 0
    while step < args.steps:
        if not args.no_set_epoch:
            sampler.set_epoch(epoch)  # a new shuffle every epoch
        epoch_orders.append(list(iter(sampler))[:8])  # this rank's first indices
        for xb, yb in loader:
            if step == args.steps:
                break
            t0 = time.perf_counter()
            xb, yb = xb.to(device), yb.to(device)
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()  # DDP all-reduces (averages) the gradients here
            opt.step()
            if use_cuda:
                torch.cuda.synchronize()
            step_times.append(time.perf_counter() - t0)
            mean_loss = loss.detach().clone()
            dist.all_reduce(mean_loss)  # for logging only
            losses.append(float(mean_loss) / world)
            step += 1
        epoch += 1

    # Checkpoint: rank 0 writes, the others wait (the pitfall lets every rank write the same file)
    ckpt = out / "checkpoint.pt"
    if args.save_on_every_rank or rank == 0:
        torch.save({"model": model.module.state_dict(), "step": step}, ckpt)
        with open(out / "writes.log", "a") as f:  # who wrote the checkpoint
            f.write(f"rank {rank} wrote {ckpt.name}\n")
    dist.barrier()

    times = torch.tensor(step_times[3:] or step_times)
    med = times.median().reshape(1)
    dist.all_reduce(med, op=dist.ReduceOp.MAX)  # the slowest rank sets the pace
    if rank == 0:
        model.eval()
        with torch.no_grad():
            logits = model.module(torch.from_numpy(ds.X_val).to(device))
        val_acc = float((logits.argmax(1).cpu() == torch.from_numpy(ds.y_val)).float().mean())
        metrics = {
            "world_size": world,
            "backend": dist.get_backend(),
            "steps": step,
            "epochs": epoch,
            "batch_per_process": args.batch,
            "losses": losses,
            "median_step_s": float(med),
            "samples_per_s": args.batch * world / float(med),
            "val_acc": val_acc,
            "epoch_orders_rank0": epoch_orders,
        }
        (out / "metrics.json").write_text(json.dumps(metrics))
        print(
            f"[rank 0] {world} processes ({dist.get_backend()}), {step} steps: loss {losses[0]:.3f} -> "
            f"{losses[-1]:.3f}, validation accuracy {val_acc:.3f}, median step {1e3 * float(med):.2f} ms"
        )
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
