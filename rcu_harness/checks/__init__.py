"""Checkers attached to executions as observers."""
