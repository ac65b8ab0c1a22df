"""Tests of the Home Assistant integration (run with the phcc plugin)."""
