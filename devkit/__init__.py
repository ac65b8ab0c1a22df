"""Development tools that no home runs: the device simulator, the dev cloud, the demo stack.

Never shipped in the add-on (addon/vendor.sh copies `cloud_bridge` alone) and never
imported by `cloud_bridge` (tests/repo/test_shipped_bridge.py checks the import graph).
"""
