#!/usr/bin/env bash
# Vendor the site's JavaScript into _static/vendor so that math and widgets render with no
# network (CI, offline readers). Versions are pinned in scripts/js/package.json.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=_static/vendor
if [ -f "$dest/.stamp" ] && cmp -s scripts/js/package.json "$dest/.stamp"; then
  exit 0  # already vendored for these versions
fi
work=_build/npm
mkdir -p "$work"
cp scripts/js/package.json "$work/"
(cd "$work" && npm install --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null)
rm -rf "$dest" && mkdir -p "$dest/mathjax/output/chtml/fonts" "$dest/html-manager"
nm="$work/node_modules"
cp "$nm/mathjax/es5/tex-chtml-full.js" "$dest/mathjax/"
cp -r "$nm/mathjax/es5/output/chtml/fonts/woff-v2" "$dest/mathjax/output/chtml/fonts/"
cp "$nm/requirejs/require.js" "$dest/require.min.js"
# embed-amd.js bundles the core widgets (base, controls, output) and loads its fonts/CSS
# assets from beside itself; the non-AMD bundle and source maps are not needed.
find "$nm/@jupyter-widgets/html-manager/dist" -maxdepth 1 -type f \
  ! -name 'embed.js' ! -name 'libembed-amd.js' ! -name '*.map' -exec cp {} "$dest/html-manager/" \;
cp scripts/js/package.json "$dest/.stamp"
echo "vendored JavaScript into $dest"
