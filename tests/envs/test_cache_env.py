"""CacheEnv: Gymnasium conformance, determinism, exact LRU/LFU/FIFO/MRU equivalence,
feature bounds, info, rewards, config errors and the whole-trace evaluation helper."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from rlcache.cache import generate, simulate, write_oracle_general
from rlcache.envs import make_env
from rlcache.envs.cache_env import CacheEnv, CacheEnvConfig
from rlcache.envs.features import feature_names
from rlcache.envs.trace_replay import evaluate_on_trace
from rlcache.errors import UserError

SMALL = {"workload": "zipf", "requests": 12_000, "objects": 1_500, "cache_size": 0.1,
         "window": 2_000}
LOOP = {"objects": 180, "cache_size": 150}  # a loop 1.2x the cache
POLICY_OF_ACTION = {0: "lru", 1: "lfu", 2: "fifo", 3: "mru"}


def small_env(engine: str = "auto", **overrides: object) -> CacheEnv:
    """A fast env on a 12k-request Zipf trace (``engine="python"``: it has ``.state``)."""
    return CacheEnv(CacheEnvConfig.from_kwargs(**{**SMALL, **overrides}), engine=engine)


def run_episode(env: CacheEnv, action_of: object, seed: int | None = None) -> tuple[
        list[np.ndarray], list[float], dict]:
    """Play one episode; ``action_of`` is an int or a callable (obs, env) -> int."""
    obs, info = env.reset(seed=seed)
    observations, rewards = [obs], []
    while True:
        a = action_of(obs, env) if callable(action_of) else action_of
        obs, reward, terminated, truncated, info = env.step(a)
        observations.append(obs)
        rewards.append(reward)
        assert not truncated
        if terminated:
            return observations, rewards, info


def test_check_env_and_spaces() -> None:
    env = small_env()
    check_env(env, skip_render_check=True)
    assert env.observation_space.shape == (60,) and env.action_space.n == 7
    assert len(feature_names(7)) == 60
    five = small_env(candidates=["lru", "random", "random", "random", "random"])
    assert five.observation_space.shape == (44,) and five.action_space.n == 5
    check_env(five, skip_render_check=True)


def test_make_env_builds_cache_env() -> None:
    env = make_env("cache", **SMALL)
    assert isinstance(env, CacheEnv) and env.capacity == int(0.1 * env.trace.n_objects)


@pytest.mark.parametrize("workload", ["zipf", "zipf_scan", "loop", "shift", "phased"])
@pytest.mark.parametrize("action", [0, 1, 2, 3])
def test_constant_action_equals_classic_policy(workload: str, action: int) -> None:
    env = small_env(workload=workload, **LOOP if workload == "loop" else {})
    for seed in (0, 1):
        _, _rewards, info = run_episode(env, action, seed)
        want = env.baseline_hits(POLICY_OF_ACTION[action])
        assert info["hits"] == want
        assert info["requests"] == env.window
        assert info["hit_ratio"] == pytest.approx(want / env.window)


@pytest.mark.parametrize("action", [0, 1, 2, 3])
def test_whole_trace_without_warmup_equals_simulate(action: int) -> None:
    env = small_env(window=None, warmup=0, requests=6_000)
    _, _rewards, info = run_episode(env, action, 0)
    policy = POLICY_OF_ACTION[action].upper()
    assert info["hits"] == simulate(env.trace, policy, env.capacity).hits
    assert info["requests"] == len(env.trace)


@pytest.mark.parametrize("workload", ["zipf", "shift"])
def test_constant_lrfu_action_equals_lrfu_policy(workload: str) -> None:
    cands = ["lru", "lfu", "fifo", "mru", "lrfu", "random", "random"]
    env = small_env(workload=workload, candidates=cands, window=None, warmup=0,
                    requests=6_000)
    _, _rewards, info = run_episode(env, 4, 0)
    assert info["hits"] == simulate(env.trace, "LRFU", env.capacity).hits
    windowed = small_env(workload=workload, candidates=cands)
    _, _rewards, info = run_episode(windowed, 4, 1)
    assert info["hits"] == windowed.baseline_hits("lrfu")


def test_reset_is_deterministic_under_seed() -> None:
    env, other = small_env(), small_env()
    rng_actions = np.random.default_rng(0).integers(0, 7, size=10_000)

    def scripted(_obs: np.ndarray, e: CacheEnv) -> int:
        return int(rng_actions[e._decisions])

    obs_a, rew_a, info_a = run_episode(env, scripted, 7)
    obs_b, rew_b, info_b = run_episode(other, scripted, 7)
    assert rew_a == rew_b and info_a == info_b
    assert all(np.array_equal(a, b) for a, b in zip(obs_a, obs_b, strict=True))
    starts = {env.reset(seed=s)[1]["window_start"] for s in range(6)}
    assert len(starts) > 1


@pytest.mark.parametrize("workload", ["zipf", "zipf_scan", "loop", "churn"])
def test_observations_in_bounds_and_info(workload: str) -> None:
    env = small_env(workload=workload, **LOOP if workload == "loop" else {})
    rng = np.random.default_rng(1)
    obs_list, rewards, info = run_episode(env, lambda o, e: int(rng.integers(7)), 3)
    space = env.observation_space
    for obs in obs_list:
        assert obs.dtype == np.float32 and space.contains(obs)
    assert set(info) >= {"hits", "requests", "hit_ratio", "evictions"}
    assert info["evictions"] == len(rewards)
    assert info["requests"] == env.window
    assert 0 <= info["hits"] < env.window
    assert sum(rewards) <= info["hits"]
    assert all(r == int(r) >= 0 for r in rewards)


def test_return_is_hit_count_after_first_decision() -> None:
    env = small_env()
    _, info0 = env.reset(seed=2)
    total = 0.0
    while True:
        _obs, r, term, _, info = env.step(0)
        total += r
        if term:
            break
    assert total + info0["hits"] == info["hits"]


def test_loop_features_point_to_mru() -> None:
    """On a loop LRU misses everything; the ghost-miss global sees it, MRU is far better."""
    env = small_env(workload="loop", **LOOP)
    obs = run_episode(env, 0, 0)[0][-2]
    assert obs[-2] > 0.9  # share of misses on recently evicted objects
    assert env.baseline_hits("lru") == 0 < env.baseline_hits("mru")


def furthest(_obs: np.ndarray, e: CacheEnv) -> int:
    """Belady's choice among the candidates: the one used furthest in the future."""
    nu = e.state.next_use
    return int(np.argmax([nu[c] for c in e._cands]))


@pytest.mark.parametrize("features", [{}, {"features": "extended", "ghost_factor": 4}])
def test_observation_never_reads_next_use(features: dict) -> None:
    env = small_env("python", **features)
    obs, _ = env.reset(seed=4)
    env.state.next_use = [0] * len(env.state.next_use)
    again = env.features.observe(env.state, env._cands)
    assert np.array_equal(obs[:-4], again[:-4])


def test_oracle_reward_scores_belady_choice() -> None:
    env = small_env("python", reward="oracle")
    _, rewards, _ = run_episode(env, furthest, 0)
    assert all(r == 1.0 for r in rewards)
    _, rewards, _ = run_episode(env, 3, 0)
    assert all(-1.0 <= r <= 1.0 for r in rewards) and min(rewards) < 1.0
    shaped = small_env(reward="hits_oracle", oracle_weight=0.5)
    _, mixed, _info = run_episode(shaped, 0, 0)
    _, plain, _ = run_episode(small_env(), 0, 0)
    assert len(mixed) == len(plain)
    assert all(abs(m - p) <= 0.5 for m, p in zip(mixed, plain, strict=True))


def test_split_halves_and_deepcopy_shares_trace(tmp_path: Path) -> None:
    trace = generate("zipf", 8_000, 800, seed=3)
    path = tmp_path / "t.oracleGeneral"
    write_oracle_general(trace, path)
    kw = {"trace": str(path), "cache_size": 50, "window": 1_000}
    train = CacheEnv(CacheEnvConfig.from_kwargs(**kw, split="train"), engine="python")
    test = CacheEnv.from_kwargs(**kw, split="test")
    assert train.trace.ids.tolist() == trace.ids[:4000].tolist()
    assert test.trace.ids.tolist() == trace.ids[4000:].tolist()
    clone = copy.deepcopy(train)
    assert clone.trace is train.trace
    a = train.reset(seed=1)[0]
    b = clone.reset(seed=1)[0]
    assert np.array_equal(a, b)
    train.step(0)
    assert clone.state is not train.state


def test_evaluate_on_trace_matches_baselines() -> None:
    cfg = {"workload": "zipf", "requests": 5_000, "objects": 600, "cache_size": 0.1}
    report = evaluate_on_trace(lambda obs: 0, cfg)
    # The registry's baselines, S3FIFO and SIEVE among them (issue 18).
    assert list(report) == ["agent", "LRU", "LFU", "FIFO", "ARC", "LRFU", "S3FIFO", "SIEVE",
                            "BELADY"]
    assert report["agent"]["hits"] == report["LRU"]["hits"]
    assert report["agent"]["requests"] == 5_000
    assert report["agent"]["gap_share"] == pytest.approx(0.0)
    lfu = evaluate_on_trace(lambda obs: 1, CacheEnvConfig(**cfg), policies=["LFU"])
    assert lfu["agent"]["hits"] == lfu["LFU"]["hits"]
    held_out = evaluate_on_trace(lambda obs: 0, {**cfg, "seed": 9})
    assert held_out["LRU"]["hits"] != report["LRU"]["hits"]


BAD_CONFIGS: dict[str, tuple[dict, str]] = {
    "unknown_key": ({"windw": 10}, "did you mean 'window'"),
    "unknown_workload": ({"workload": "zipff"}, "env.workload"),
    "capacity_zero": ({"cache_size": 0}, "env.cache_size"),
    "capacity_all": ({"cache_size": 1_500}, "env.cache_size"),
    "capacity_text": ({"cache_size": "lots"}, "env.cache_size"),
    "bad_candidate": ({"candidates": ["lru", "belady"]}, "env.candidates"),
    "no_candidates": ({"candidates": []}, "env.candidates"),
    "bad_reward": ({"reward": "misses"}, "env.reward"),
    "bad_split": ({"split": "validation"}, "env.split"),
    "window_too_long": ({"window": 100_000}, "env.window"),
    "window_zero": ({"window": 0}, "env.window"),
    "warmup_negative": ({"warmup": -1}, "env.warmup"),
    "requests_text": ({"requests": "many"}, "env.requests"),
    "decay": ({"decay": 1.0}, "env.decay"),
    "bad_features": ({"features": "fancy"}, "env.features"),
    "ghost_factor": ({"ghost_factor": -1}, "env.ghost_factor"),
    "mix_not_list": ({"mix": "zipf"}, "env.mix"),
    "mix_bad_key": ({"mix": [{"workload": "zipf", "size": 3}]}, "env.mix[0]"),
    "mix_bad_workload": ({"mix": [{"workload": "zipff"}]}, "env.mix[0].workload"),
    "missing_file": ({"trace": "/nonexistent/t.csv"}, "t.csv"),
    "unknown_format": ({"trace": "/nonexistent/t.csv", "format": "parquet"}, "parquet"),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_config_raises_user_error(case: str) -> None:
    kwargs, needle = BAD_CONFIGS[case]
    with pytest.raises(UserError) as err:
        small_env(**kwargs)
    assert needle in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("content,needle", [
    (b"", "empty"),
    (b"id\n1\n2\nx7\n", "bad.csv:4"),
])
def test_bad_trace_files(tmp_path: Path, content: bytes, needle: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(UserError, match=re.escape(needle)):
        CacheEnv.from_kwargs(trace=str(path), cache_size=1, window=1)


def test_truncated_binary(tmp_path: Path) -> None:
    path = tmp_path / "t.oracleGeneral"
    path.write_bytes(b"\0" * 30)
    with pytest.raises(UserError, match=r"t\.oracleGeneral"):
        CacheEnv.from_kwargs(trace=str(path), cache_size=1, window=1)


def test_window_without_evictions_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "hot.txt"
    path.write_text("".join(f"k{i}\n" for i in range(10)) + "k9\nk8\n" * 25)
    env = CacheEnv.from_kwargs(trace=str(path), cache_size=5, warmup=10, window=50)
    with pytest.raises(UserError, match=r"env\.window: no eviction"):
        env.reset(seed=0)


def test_configs_cache_yaml_builds_env_and_candidate_agent() -> None:
    from rlcache import builders
    from rlcache.config import load_run_config

    root = Path(__file__).resolve().parents[2]
    config = load_run_config(root / "configs" / "cache.yaml")
    env = builders.build_env(config, seed=0)
    assert isinstance(env, CacheEnv) and builders.env_dims(env) == (60, 7)
    assert config.training.max_steps_per_episode >= env.window
    agent = builders.build_agent(config, env)
    obs, _ = env.reset(seed=0)
    assert 0 <= agent.select_action(obs, evaluate=True) < 7


# ---- extended features, longer ghost list, belady reward, mixed traces (issue 6) -------
EXT = {"features": "extended", "ghost_factor": 4}
K16 = ["lru", "lfu", "fifo", "mru"] + ["random"] * 12


@pytest.mark.parametrize("engine", ["python", "compiled"])
def test_extended_features_check_env_and_bounds(engine: str) -> None:
    from rlcache.envs.features import feature_set_names

    env = small_env(engine, **EXT, candidates=K16)
    check_env(env, skip_render_check=True)
    assert env.observation_space.shape == (13 * 16 + 4,) and env.action_space.n == 16
    assert len(feature_set_names("extended", 16)) == 212
    rng = np.random.default_rng(0)
    obs_list, _, _ = run_episode(env, lambda o, e: int(rng.integers(16)), 1)
    assert all(env.observation_space.contains(o) for o in obs_list)
    if engine == "python":
        assert env.state.ghost_size == 4 * env.capacity


@pytest.mark.parametrize("workload", ["zipf", "loop"])
@pytest.mark.parametrize("action", [0, 1, 2, 3])
def test_extended_constant_action_equals_classic_policy(workload: str, action: int) -> None:
    env = small_env(workload=workload, **EXT, candidates=K16,
                    **LOOP if workload == "loop" else {})
    _, _, info = run_episode(env, action, 0)
    assert info["hits"] == env.baseline_hits(POLICY_OF_ACTION[action])


def test_extended_loop_features_point_to_mru() -> None:
    """On a loop 1.2x the cache the MRU candidate has the most time left until reuse."""
    env = small_env(workload="loop", **LOOP, **EXT)
    obs = run_episode(env, 3, 0)[0][-2]
    per = obs[:-4].reshape(7, 13)
    assert per[3, 8] > per[0, 8] + 0.1  # remaining: MRU's last_gap - recency >> LRU's
    assert per[3, 10] == 0.0 and per[0, 10] == per[:, 10].max() > 0.5  # recency ranks
    assert 0.3 < obs[-1] < 0.6  # miss reuse ~1.2 capacities


def test_belady_reward_is_plus_minus_one() -> None:
    env = small_env("python", reward="belady")
    _, rewards, _ = run_episode(env, furthest, 0)
    assert all(r == 1.0 for r in rewards)
    _, rewards, _ = run_episode(env, 3, 0)
    assert set(rewards) == {-1.0, 1.0}


def test_mix_concatenates_parts_with_disjoint_ids() -> None:
    env = CacheEnv.from_kwargs(mix=[{"workload": "zipf", "objects": 500, "requests": 3000},
                                    {"workload": "loop", "objects": 120, "requests": 2000}],
                               cache_size=100, window=2000)
    ids = env.trace.ids
    assert len(ids) == 5000
    assert not set(ids[:3000].tolist()) & set(ids[3000:].tolist())
    assert len(set(ids[3000:].tolist())) == 120


@pytest.mark.parametrize("family", ["zipf", "zipf_scan", "shift", "loop", "churn", "phased",
                                    "mixed"])
def test_family_configs_build(family: str) -> None:
    from rlcache import builders
    from rlcache.config import load_run_config

    root = Path(__file__).resolve().parents[2]
    config = load_run_config(root / "configs" / f"cache_{family}.yaml")
    env = builders.build_env(config, seed=0)
    k = len(config.env["candidates"])
    assert builders.env_dims(env) == (13 * k + 4, k)
    agent = builders.build_agent(config, env)  # the sizes come from the env, not the YAML
    assert config.rl["candidate_features"] == 13 and config.rl["global_features"] == 4
    obs, _ = env.reset(seed=0)
    assert 0 <= agent.select_action(obs, evaluate=True) < k


def test_extended_dfreq_feature_is_the_decayed_count() -> None:
    """Feature 12 (``dfreq``) squashes ``CacheState.decayed_count`` of each candidate."""
    from math import log1p

    from rlcache.envs.features import EXT_CANDIDATE_FEATURES

    assert EXT_CANDIDATE_FEATURES[12] == "dfreq"
    env = small_env("python", **EXT)
    obs, _ = env.reset(seed=0)
    for _ in range(50):
        st, cands = env.state, env._cands
        per = obs[:-4].reshape(7, 13)
        for j, y in enumerate(cands):
            u = log1p(st.decayed_count(y))
            assert per[j, 12] == pytest.approx(u / (u + 1.0), abs=1e-6)
        obs, _, term, trunc, _ = env.step(0)
        if term or trunc:
            break


def test_dfreq_half_life_is_in_capacities() -> None:
    env = small_env("python", **EXT, dfreq_half_life=2.5)
    env.reset(seed=0)
    assert env.state.half_life == 2.5 * env.capacity
    with pytest.raises(UserError, match="dfreq_half_life"):
        small_env(**EXT, dfreq_half_life=0)
