"""Reproduce ``course_lib/weights/digit_cnn.npz``, the trained digit CNN of chapter 7.

    python scripts/train_digit_cnn.py            # writes course_lib/weights/digit_cnn.npz
    python scripts/train_digit_cnn.py --out /tmp/cnn.npz

Trains :func:`course_lib.models.digit_cnn` with :func:`course_lib.models.train_digit_cnn`
(one CPU thread, seeded; about 10 s) and saves weights, normalisation statistics and accuracies.
CPU kernels are bit-reproducible only on the same machine and versions: elsewhere the weights
differ in the last digits and the accuracies by a few tenths of a percent.
"""

from __future__ import annotations

import argparse

from course_lib import models
from course_lib.setup import seed_everything

EPOCHS = 12
SEED = 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(models.WEIGHTS_PATH), help="where to write the .npz")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    seed_everything(SEED, frameworks=("torch",))
    model, info = models.train_digit_cnn(epochs=args.epochs, seed=SEED)
    path = models.save_digit_cnn(model, info, args.out)
    print(f"validation accuracy per epoch: {[round(a, 3) for a in info['val_accs']]}")
    print(f"kept epoch {info['best_epoch']}: validation {info['val_acc']:.3f}, test {info['test_acc']:.3f}")
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
