"""Imported first by ``rlcache.cache``: drop its cached kernels if a source changed."""

from rlcache.jit_cache import guard

guard(__file__)
