"""Capture conditions: images (and ground truth) degraded by exactly defined perturbations."""
