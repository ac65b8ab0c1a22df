#!/usr/bin/env bash
# Copy the bridge package into the add-on's build context (addon/vendor/cloud_bridge) so
# that a build from this checkout runs exactly this code. Used by local builds and the
# image workflow; the copy is ignored by git. Usage: addon/vendor.sh
set -euo pipefail
cd "$(dirname "$0")"
rm -rf vendor/cloud_bridge
mkdir -p vendor
cp -R ../cloud_bridge vendor/cloud_bridge
find vendor/cloud_bridge \( -name __pycache__ -o -name '*.pyc' \) -prune -exec rm -rf {} +
echo "vendored $(find vendor/cloud_bridge -name '*.py' | wc -l) modules into addon/vendor/cloud_bridge"
