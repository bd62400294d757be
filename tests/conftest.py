"""Shared test set-up: quiet TensorFlow, non-interactive Matplotlib."""

import os

import matplotlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
matplotlib.use("Agg")
