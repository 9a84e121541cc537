"""Repositories implementing campaigns.ports; they never commit."""
