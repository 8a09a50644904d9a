"""Imported first by ``rlcache.engine``: drop its cached kernels if a source changed."""

from rlcache.jit_cache import guard

guard(__file__)
