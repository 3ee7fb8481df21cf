"""Fake provider APIs served over real HTTP on loopback, scripted per test."""
