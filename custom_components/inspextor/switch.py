"""Switches of every entry kind that has them (entry_kinds.py says which)."""

from homeassistant.const import Platform

from .entry_kinds import platform_setup

PARALLEL_UPDATES = 0

async_setup_entry = platform_setup(Platform.SWITCH)
