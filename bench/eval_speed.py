"""The cache_trace recipe's validation evaluation (eval_episodes 3: one replay per size of
env.cache_sizes on the held-out end): a torch forward per decision (run_episode with the
agent's select_action, as before) against the engine (greedy_episodes). Same agent, trained
a little first so that its scores are not a fresh network's. CPU seconds (process_time)::

    .venv/bin/python bench/eval_speed.py ../shared/traces/cache2k_web12.oracleGeneral.bin.zst
"""
import sys
import tempfile
import time
from pathlib import Path

import torch

from rlcache import builders
from rlcache.config import load_run_config
from rlcache.evaluation import greedy_episodes, run_episode

ROOT = Path(__file__).resolve().parents[1]
torch.set_num_threads(1)
trace = sys.argv[1]
cfg = load_run_config(ROOT / "configs" / "cache_trace.yaml",
                      sets=[f"env.trace={trace}", "env.split=train", "training.max_episodes=2",
                            "training.eval_frequency=1000", "training.verbose=false"])
out = tempfile.mkdtemp(prefix="evalspeed-")
trainer = builders.build_trainer(cfg, out)
trainer.train()
env, agent = trainer.eval_env, trainer.agent
seeds = [trainer.eval_seed + i for i in range(cfg.training.eval_episodes)]
limit = cfg.training.max_steps_per_episode
rows = {}
for name, fn in (("engine", lambda: greedy_episodes(env, agent, seeds, limit)),
                 ("torch", lambda: [run_episode(env, agent.select_action, s, limit)
                                    for s in seeds]),
                 ("engine2", lambda: greedy_episodes(env, agent, seeds, limit))):
    c, w = time.process_time(), time.perf_counter()
    res = fn()
    rows[name] = (time.process_time() - c, time.perf_counter() - w, res)
decisions = sum(r["length"] for r in rows["torch"][2])
requests = sum(r["info"]["requests"] for r in rows["torch"][2])
for name, (cpu, wall, res) in rows.items():
    print(f"{name:8s} cpu {cpu:7.2f} s wall {wall:7.2f} s  {decisions / cpu:10.0f} decisions/CPU-s "
          f"rewards {[round(r['reward'], 6) for r in res]}")
same = [a["reward"] == b["reward"] and a["length"] == b["length"]
        for a, b in zip(rows["engine"][2], rows["torch"][2], strict=True)]
print(f"{len(seeds)} episodes, {decisions} decisions, {requests} requests; identical: {same}")
