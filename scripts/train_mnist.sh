#!/usr/bin/env bash
# Full MNIST with the default config. Pass --data-dir DIR for local IDX files (e.g.
# ../shared/data/mnist) instead of tensorflow-datasets; extra arguments go to `infoae train`.
set -euo pipefail
cd "$(dirname "$0")/.."
exec infoae train --config configs/mnist.toml "$@"
