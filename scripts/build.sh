#!/usr/bin/env bash
# Set up everything and build the executed site into _build/html (the README's first command).
#   bash scripts/build.sh                  # install + build
#   SKIP_INSTALL=1 bash scripts/build.sh   # rebuild only
#   INSTALL_ONLY=1 bash scripts/build.sh   # install only (CI runs the lint/type gates before building)
# Every notebook is executed; a cell error or any Sphinx warning fails the build (-W).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
if [ -z "${SKIP_INSTALL:-}" ]; then
  python -m pip install --quiet -r requirements.txt
  python -m pip install --quiet --no-deps -e .
  # Headless Chromium for the browser test of the built site (Debian's package).
  if ! command -v chromium >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
    else
      echo "note: install Debian's chromium (sudo apt-get install chromium) to run tests/browser" >&2
    fi
  fi
fi
if [ -n "${INSTALL_ONLY:-}" ]; then
  echo "installed in $(( $(date +%s) - start )) s (INSTALL_ONLY: no build)"
  exit 0
fi
bash scripts/vendor_js.sh
rm -rf _build/html _build/.doctrees _build/jupyter_execute  # no stale executed copy survives a build
jupyter-book build . --warningiserror --nitpick --keep-going --builder html
echo "site built in _build/html ($(du -sh _build/html | cut -f1)) in $(( $(date +%s) - start )) s"
