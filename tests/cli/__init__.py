"""Tests of the command line (real subprocesses)."""
