"""env.mix parts naming trace files, and MixEnv: a part per training episode (issue 18)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rlcache.cache.generators import generate
from rlcache.envs.cache_env import CacheEnv, CacheEnvConfig
from rlcache.envs.mix_env import CycleEnv, MixEnv
from rlcache.envs.registry import make_env
from rlcache.errors import UserError


def _trace_file(tmp_path: Path, objects: int, requests: int, seed: int) -> str:
    path = tmp_path / f"t{seed}.txt"
    ids = generate("zipf", requests, objects, seed).ids
    path.write_text("\n".join(str(int(i)) for i in ids) + "\n")
    return str(path)


def _mix(tmp_path: Path) -> list[dict[str, object]]:
    return [{"trace": _trace_file(tmp_path, 3000, 8000, 1), "split": "train", "weight": 3},
            {"workload": "loop", "objects": 150, "requests": 3000, "cache_sizes": [100]}]


def test_mix_part_names_a_trace_file_and_its_half(tmp_path: Path) -> None:
    mix = _mix(tmp_path)
    whole = CacheEnvConfig.from_kwargs(trace=mix[0]["trace"]).load_trace()
    half = {"trace": mix[0]["trace"], "split": "train"}
    part = CacheEnvConfig.from_kwargs(mix=[half]).load_trace()  # concatenated: one part
    assert len(part) == 4000
    assert np.array_equal(part.object_index, whole.split(0.5)[0].object_index)


def test_mix_env_draws_a_part_per_episode_sized_against_it(tmp_path: Path) -> None:
    env = make_env("cache", mix=_mix(tmp_path), mix_episodes=True, window=1000,
                   cache_sizes=[0.01, 0.1], features="history", validation=0.2,
                   candidates=["lru", "lfu", "random"])
    assert isinstance(env, MixEnv)
    first, loop = env.parts
    assert len(first.trace) == 3200 and len(first.held_out) == 800  # its own held-out end
    assert {c for c, _ in first._sizes} == {first.trace.n_objects // 100,
                                            first.trace.n_objects // 10}
    assert [c for c, _ in loop._sizes] == [100]  # the part's own cache_sizes
    parts = []
    for seed in range(40):
        obs, info = env.reset(seed=seed)
        assert obs.shape == env.observation_space.shape
        parts.append(info["part"])
        _, _, _, _, info = env.step(0)
        assert info["part"] == parts[-1]
    assert 20 < parts.count(0) < 40  # weight 3 : 1
    again = [env.reset(seed=s)[1]["part"] for s in range(40)]
    assert again == parts  # the env's seed decides the parts
    val = env.validation_env()
    assert isinstance(val, CycleEnv) and len(val.envs) == 2
    assert [val.reset(seed=0)[0].shape for _ in range(3)] == [obs.shape] * 3


def test_mix_episodes_without_mix_or_with_a_trace_is_the_plain_env(tmp_path: Path) -> None:
    path = _trace_file(tmp_path, 500, 4000, 2)
    assert type(make_env("cache", mix_episodes=True, cache_size=50, window=500)) is CacheEnv
    env = make_env("cache", mix=_mix(tmp_path), mix_episodes=True, trace=path,
                   cache_size=50, window=500)
    assert type(env) is CacheEnv


@pytest.mark.parametrize(("mix", "episodes", "where"), [
    ([{"workload": "zipf", "weight": 2}], False, "env.mix[0]: unknown key 'weight'"),
    ([{"workload": "zipf", "weight": 0}], True, "env.mix[0].weight"),
    ([{"workload": "zipf", "cache_size": 5}], True, "env.mix[0]: unknown key"),
])
def test_bad_mix_parts(mix: list[dict[str, object]], episodes: bool, where: str) -> None:
    with pytest.raises(UserError, match=where.replace("[", r"\[").replace("]", r"\]")):
        CacheEnvConfig.from_kwargs(mix=mix, mix_episodes=episodes)
