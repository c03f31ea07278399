"""Subscribers of this app to domain events."""
