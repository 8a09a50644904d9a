"""``python -m rlcache.cli``: the same as the ``rlcache`` console script."""

from rlcache.cli import main

if __name__ == "__main__":
    main(prog_name="rlcache")
