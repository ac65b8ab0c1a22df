"""Contract 1 (the cloud protocol) as pure functions: topics, packets, records, packing.

Nothing here does I/O, so the bridge, the dev cloud and the tests share one definition.
"""
