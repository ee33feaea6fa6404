#!/usr/bin/env bash
# Install, then train on the offline 5,000-digit MNIST sample, evaluate and draw the swap grid.
# No download needed; a few minutes on a laptop CPU. Extra arguments go to `infoae train`.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -e . >/dev/null
exec infoae train --config configs/quickstart.toml "$@"
