"""A department's own FastStream subscriber for its work orders (see README.md)."""
