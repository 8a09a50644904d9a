"""Standalone cache simulator: traces, readers, generators, policies, Belady's MIN."""
