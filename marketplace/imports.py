"""The listing import spec for the leads import engine."""
