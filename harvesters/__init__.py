"""Harvesters: plug-ins that pull metadata (never pixels) from the systems where images live."""
