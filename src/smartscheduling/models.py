"""Imports every capability's models so the metadata (and Alembic) sees all tables."""
