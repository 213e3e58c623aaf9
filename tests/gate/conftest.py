"""The gate tests' fixtures, shared by its modules (defined with the check's own tests)."""

from .test_check import budget, fake_bench  # noqa: F401
