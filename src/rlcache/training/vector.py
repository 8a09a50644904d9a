"""A round of training episodes on ``training.num_envs`` envs stepped in lockstep.

Every env of the round starts an episode together; each vector step selects the actions
of all running envs with one batched forward, steps them, stores the transitions with
one batched replay insert and calls the agent's ``train_step_vector`` once (SB3's
semantics: ``train_freq`` counts vector steps). An env whose episode ended waits for the
others, so the round ends with every env between episodes: a checkpoint then needs only
the envs' RNG states, and a resumed run equals an uninterrupted one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from rlcache.training.trainer import Trainer


def _reset(trainer: Trainer, i: int) -> np.ndarray:
    """Env ``i``'s next episode: its first reset seeded ``seed + i``, later ones continue."""
    env, seed = trainer.envs[i], trainer.config.seed
    if i == 0:
        first = not trainer._first_reset_done
        trainer._first_reset_done = True
    else:  # a copy not yet reset (or restored) has no generator of its own yet
        first = getattr(getattr(env, "unwrapped", env), "_np_random", None) is None
    obs, _ = env.reset(seed=seed + i) if first and seed is not None else env.reset()
    return np.asarray(obs, dtype=np.float32)


def run_round(trainer: Trainer) -> list[dict[str, Any]]:
    """One episode in each of the round's envs; their results in env order."""
    cfg, agent = trainer.config, trainer.agent
    n = min(cfg.num_envs, cfg.max_episodes - trainer.episode)
    envs = trainer.envs[:n]
    obs = np.stack([_reset(trainer, i) for i in range(n)])
    budget = None if cfg.max_total_steps is None else cfg.max_total_steps - trainer.total_steps
    rewards = np.zeros(n)
    lengths = np.zeros(n, dtype=np.int64)
    loss_sum, q_sum = np.zeros(n), np.zeros(n)
    updates = np.zeros(n, dtype=np.int64)
    active = np.arange(n)
    served = 0
    full = getattr(getattr(agent, "config", None), "full_information", False)
    while active.size:
        m = active.size
        cur = obs[active]
        actions = agent.select_actions(cur)
        nxt = np.empty_like(cur)
        rew = np.zeros(m)
        term = np.zeros(m, dtype=bool)
        trunc = np.zeros(m, dtype=bool)
        every = []  # every action's reward per row (rl.full_information)
        for j, i in enumerate(active.tolist()):
            o, r, term[j], trunc[j], info = envs[i].step(int(actions[j]))
            nxt[j], rew[j] = o, r
            if full:
                every.append(info.get("action_rewards"))
        lengths[active] += 1
        served += m
        trunc |= lengths[active] >= cfg.max_steps_per_episode
        if budget is not None and served >= budget:
            trunc[:] = True
        if full:
            agent.store_transitions(cur, actions, rew, nxt, term,
                                    None if any(e is None for e in every) else np.stack(every))
        else:
            agent.store_transitions(cur, actions, rew, nxt, term)
        out = agent.train_step_vector(m)
        if out is not None:
            loss_sum[active] += out["loss"]
            q_sum[active] += out["q_mean"]
            updates[active] += 1
        rewards[active] += rew
        obs[active] = nxt
        active = active[~(term | trunc)]
    trainer.total_steps += served
    return [{"reward": float(rewards[i]), "length": int(lengths[i]),
             "loss": float(loss_sum[i] / updates[i]) if updates[i] else None,
             "q_mean": float(q_sum[i] / updates[i]) if updates[i] else None}
            for i in range(n)]
