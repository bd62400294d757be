"""One worker of a TensorFlow multi-worker job (chapter 14c).

Every worker runs this same file; the launcher gives each one a ``TF_CONFIG`` environment
variable naming all workers' addresses and this worker's index, for example

    TF_CONFIG='{"cluster": {"worker": ["127.0.0.1:PORT0", "127.0.0.1:PORT1"]},
                "task": {"type": "worker", "index": 0}}' python tf_multiworker.py init.npz out_dir

``MultiWorkerMirroredStrategy`` keeps one replica of the model per worker and all-reduces the
gradients (ring or NCCL collectives). Keras 3's ``model.fit`` does not work with it yet, so the
training loop is written out: ``strategy.run`` of a step with ``GradientTape``. The loss of each
replica is divided by the *global* batch size (``tf.nn.compute_average_loss``), so that the
summed gradients are the gradient of the global batch's mean loss.

Trains a small MLP on the digits from the initial weights in ``init.npz`` for ``STEPS`` steps of a
global batch of ``GLOBAL_BATCH``: worker ``i`` takes the ``i``-th half of each global batch.
Worker 0 (the "chief") writes the final weights and losses to ``out_dir``.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import tensorflow as tf

STEPS, GLOBAL_BATCH, LR = 10, 64, 0.1


def build_model(weights):
    import keras

    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(10)])
    model.set_weights(weights)
    return model


def main() -> None:
    init_path, out_dir = sys.argv[1], sys.argv[2]
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    task = json.loads(os.environ["TF_CONFIG"])["task"]["index"]
    n_workers = strategy.num_replicas_in_sync
    init = np.load(init_path)
    X, y = init["X"], init["y"]
    with strategy.scope():
        model = build_model([init[f"w{i}"] for i in range(4)])
        import keras

        opt = keras.optimizers.SGD(learning_rate=LR)

    @tf.function
    def step(xb, yb):
        def replica_step(xb, yb):
            with tf.GradientTape() as tape:
                per_example = tf.nn.sparse_softmax_cross_entropy_with_logits(yb, model(xb, training=True))
                loss = tf.nn.compute_average_loss(per_example, global_batch_size=GLOBAL_BATCH)
            grads = tape.gradient(loss, model.trainable_variables)
            opt.apply_gradients(zip(grads, model.trainable_variables))
            return loss

        per_replica = strategy.run(replica_step, args=(xb, yb))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    local = GLOBAL_BATCH // n_workers
    losses = []
    for s in range(STEPS):
        lo = s * GLOBAL_BATCH + task * local  # this worker's part of global batch s
        losses.append(float(step(tf.constant(X[lo : lo + local]), tf.constant(y[lo : lo + local]))))
    if task == 0:
        os.makedirs(out_dir, exist_ok=True)
        np.savez(os.path.join(out_dir, "final.npz"), *[np.asarray(w) for w in model.get_weights()])
        with open(os.path.join(out_dir, "losses.json"), "w") as f:
            json.dump({"losses": losses, "workers": n_workers}, f)


if __name__ == "__main__":
    main()
