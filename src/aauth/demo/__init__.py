"""Runnable demonstrations of each protocol phase over real HTTP on loopback."""
