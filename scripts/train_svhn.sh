#!/usr/bin/env bash
# SVHN cropped digits. Pass --data-dir DIR with train_32x32.mat and test_32x32.mat when offline;
# extra arguments go to `infoae train`.
set -euo pipefail
cd "$(dirname "$0")/.."
exec infoae train --config configs/svhn.toml "$@"
