"""Export the trained digit CNN to ONNX for the server (``serving/digit_cnn.onnx``), with parity checked.

Usage (from the repository root)::

    python scripts/export_serving_model.py [--out serving/digit_cnn.onnx]

The exported graph takes **raw pixels in [0, 1]**, shape ``(batch, 1, 28, 28)``, and applies
the training normalisation ``(x - mean) / std`` itself, so that no client and no server can
forget it or use other statistics (chapter 13's "preprocessing that differs" pitfall). The batch
dimension is dynamic, the file self-contained (``external_data=False``), and the model's name,
version and normalisation are stored in its metadata. The script refuses to write the file
unless onnxruntime's outputs equal PyTorch's on the 1,000 held-out test images (atol 1e-4).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODEL_VERSION = "1"


def build(out: Path) -> Path:
    import numpy as np
    import onnx
    import onnxruntime as ort
    import torch

    from course_lib.models import load_digit_cnn

    cnn = load_digit_cnn("torch")

    class WithPreprocessing(torch.nn.Module):
        def __init__(self, net: torch.nn.Module, mean: float, std: float) -> None:
            super().__init__()
            self.net, self.mean, self.std = net, mean, std

        def forward(self, pixels: torch.Tensor) -> torch.Tensor:
            return self.net((pixels - self.mean) / self.std)

    model = WithPreprocessing(cnn.model, cnn.mean, cnn.std).eval()
    example = torch.from_numpy(cnn.data.X_test[:2, None].astype(np.float32))
    batch = torch.export.Dim("batch", min=1, max=1024)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        model,
        (example,),
        str(out),
        dynamo=True,
        external_data=False,
        input_names=["pixels"],
        output_names=["logits"],
        dynamic_shapes={"pixels": {0: batch}},
        verbose=False,
    )
    proto = onnx.load(str(out))
    for key, value in (
        ("model_name", "digit_cnn"),
        ("model_version", MODEL_VERSION),
        ("input", "pixels (batch, 1, 28, 28) raw in [0, 1]; normalised inside"),
        ("mean", repr(cnn.mean)),
        ("std", repr(cnn.std)),
        ("test_acc", repr(cnn.info["test_acc"])),
    ):
        proto.metadata_props.append(onnx.StringStringEntryProto(key=key, value=value))
    onnx.checker.check_model(proto)
    onnx.save(proto, str(out))

    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    x = cnn.data.X_test[:, None].astype(np.float32)
    got = sess.run(None, {"pixels": x})[0]
    with torch.no_grad():
        want = model(torch.from_numpy(x)).numpy()
    err = float(np.abs(got - want).max())
    if err > 1e-4:
        out.unlink()
        raise SystemExit(f"parity failed: max |onnxruntime - torch| = {err:.2e} > 1e-4; file removed")
    print(f"wrote {out} ({out.stat().st_size:,} bytes); max |onnxruntime - torch| on the test set = {err:.1e}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "serving" / "digit_cnn.onnx")
    build(parser.parse_args().out)


if __name__ == "__main__":
    main()
