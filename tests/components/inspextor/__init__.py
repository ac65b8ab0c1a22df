"""Tests of the InspeXtor integration."""
