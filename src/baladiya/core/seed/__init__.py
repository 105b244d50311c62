"""Seed data: the Homs reference network (`homs.seed_homs`) and the lived-in demo (`demo`)."""
