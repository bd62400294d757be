"""The digit CNN as a web service: FastAPI + onnxruntime, in the style of TensorFlow Serving's REST API.

Chapter 13 ("Deployment", section 13c) builds and measures this server. Start it from the
repository root with::

    python -m uvicorn serving.app:app --host 127.0.0.1 --port 8000

Endpoints
---------
``GET /health`` -> 200 ``{"status": "ok", "model_name", "model_version", "input_shape",
"max_instances"}``.

``POST /predict`` with ``{"instances": [...]}``: each instance is one 28x28 digit as a flat
list of 784 numbers in [0, 1] or as 28 rows of 28 numbers -> 200 ``{"predictions": [class id
per instance], "probabilities": [[10 floats] per instance], "model_version": ...}``.

Every malformed request gets a 4xx whose ``detail`` says what is wrong, never a 5xx:
a body over 2 MB -> 413; not JSON -> 400; wrong keys, wrong lengths, strings, booleans, NaN or
infinity, values outside [0, 1], an empty list or more than 256 instances -> 422 (pydantic
validates the schema); a wrong content type is accepted if the body is JSON.

The model is an ONNX file whose graph normalises raw pixels itself (see
``scripts/export_serving_model.py``, which writes ``serving/digit_cnn.onnx``); the environment
variable ``DIGIT_MODEL_PATH`` overrides the file and ``DIGIT_ORT_THREADS`` the number of
onnxruntime threads (default 1: the model is tiny and the server handles requests in parallel).
One ``InferenceSession`` is created at start-up and shared by all requests (onnxruntime's
``run`` is thread-safe).
"""

from __future__ import annotations

import hashlib
import json
import os
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import onnxruntime as ort
from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

DEFAULT_MODEL = Path(__file__).resolve().parent / "digit_cnn.onnx"
MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_INSTANCES = 256
SIDE = 28

Pixel = Annotated[float, Field(strict=True, ge=0.0, le=1.0, allow_inf_nan=False)]
FlatImage = Annotated[list[Pixel], Field(min_length=SIDE * SIDE, max_length=SIDE * SIDE)]
Row = Annotated[list[Pixel], Field(min_length=SIDE, max_length=SIDE)]
GridImage = Annotated[list[Row], Field(min_length=SIDE, max_length=SIDE)]


class PredictRequest(BaseModel):
    """``{"instances": [image, ...]}``: 1 to 256 images, each 784 floats or 28 x 28 floats in [0, 1]."""

    model_config = ConfigDict(extra="forbid")
    instances: Annotated[list[FlatImage | GridImage], Field(min_length=1, max_length=MAX_INSTANCES)]


class PredictResponse(BaseModel):
    """One class id and ten probabilities per instance, in request order."""

    predictions: list[int]
    probabilities: list[list[float]]
    model_version: str


class Health(BaseModel):
    status: str
    model_name: str
    model_version: str
    input_shape: list[int]
    max_instances: int


class Model:
    """The ONNX model and its one shared onnxruntime session."""

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        if not path.is_file():
            raise RuntimeError(
                f"no model at {path}: run `python scripts/export_serving_model.py` "
                "or set DIGIT_MODEL_PATH to an ONNX file"
            )
        opts = ort.SessionOptions()
        threads = int(os.environ.get("DIGIT_ORT_THREADS", "1"))
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        meta = self.session.get_modelmeta().custom_metadata_map
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        self.name = meta.get("model_name", path.stem)
        self.version = f"{meta.get('model_version', '0')}+{digest}"

    def predict(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``pixels`` (N, 1, 28, 28) float32 in [0, 1] -> (class ids (N,), probabilities (N, 10))."""
        logits = self.session.run(None, {self.input_name: pixels})[0].astype(np.float64)
        z = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        return logits.argmax(axis=1), p


MODEL: Model | None = None


@asynccontextmanager
async def lifespan(_: FastAPI):  # type: ignore[no-untyped-def]
    global MODEL
    MODEL = Model(os.environ.get("DIGIT_MODEL_PATH", str(DEFAULT_MODEL)))
    yield


app = FastAPI(title="digit CNN", version="1", lifespan=lifespan)


def _describe(errors: list[dict[str, Any]], limit: int = 3) -> str:
    """pydantic's errors as one short sentence per error (at most ``limit`` of them)."""
    seen, parts = set(), []
    for e in errors:
        loc = ".".join(
            str(p) for p in e.get("loc", ()) if not (isinstance(p, str) and p.startswith(("list[", "function")))
        )
        text = f"{loc or 'body'}: {e.get('msg', 'invalid')}"
        if text not in seen:
            seen.add(text)
            parts.append(text)
    more = f" (and {len(seen) - limit} more)" if len(seen) > limit else ""
    return "; ".join(parts[:limit]) + more


@app.exception_handler(RequestValidationError)
async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    return JSONResponse(status_code=422, content={"detail": _describe(list(exc.errors()))})


@app.get("/health", response_model=Health)
def health() -> Health:
    assert MODEL is not None
    return Health(
        status="ok",
        model_name=MODEL.name,
        model_version=MODEL.version,
        input_shape=[SIDE, SIDE],
        max_instances=MAX_INSTANCES,
    )


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise HTTPException(400, f"the Content-Length header {declared!r} is not a number") from None
        if size > MAX_BODY_BYTES:
            raise HTTPException(
                413,
                f"the body has {size:,} bytes; the limit is {MAX_BODY_BYTES:,} "
                f"(send at most {MAX_INSTANCES} instances per request)",
            )
    chunks, size = [], 0
    async for chunk in request.stream():  # also bounds bodies sent without a length
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise HTTPException(413, f"the body is over the limit of {MAX_BODY_BYTES:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@app.post(
    "/predict",
    response_model=PredictResponse,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": PredictRequest.model_json_schema()}},
        }
    },
)
async def predict(request: Request) -> PredictResponse:
    body = await _read_body(request)
    if not body:
        raise HTTPException(400, 'the body is empty; send JSON like {"instances": [[784 numbers in [0, 1]]]}')
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise HTTPException(400, f"the body is not valid JSON ({e})") from None
    except RecursionError:
        raise HTTPException(400, "the body is not valid JSON (nested too deeply)") from None
    if not isinstance(payload, dict):
        raise HTTPException(
            422, f'the body must be a JSON object {{"instances": [...]}}, got a {type(payload).__name__}'
        )
    try:
        req = PredictRequest.model_validate(payload)
    except ValidationError as e:
        raise HTTPException(422, _describe(e.errors(include_url=False))) from None
    pixels = np.asarray(
        [np.asarray(inst, dtype=np.float32).reshape(SIDE, SIDE) for inst in req.instances], dtype=np.float32
    )[:, None]
    assert MODEL is not None
    classes, probs = await run_in_threadpool(MODEL.predict, pixels)
    return PredictResponse(predictions=classes.tolist(), probabilities=probs.tolist(), model_version=MODEL.version)
