"""The store channel: command files in, result files out, on a folder or S3 (seed 004).

The central system puts `incoming/{service}/commands.json`; the bridge polls it with a
conditional request, downloads it whole, runs its commands in order under a durable
execution record, and uploads `status/{service}/last_monitoring_status.json`.
"""
