"""DQN training speed and final reward: rlcache vs Stable-Baselines3, same run, same settings.

    .venv/bin/python bench/dqn_vs_sb3.py                      # both configs, seeds 1 2 3
    .venv/bin/python bench/dqn_vs_sb3.py --configs zoo --seeds 1 --steps 5000   # quick look
    .venv/bin/python bench/dqn_vs_sb3.py --json results/bench_dqn.json

Configs (CartPole-v1, identical hyperparameters on both sides):

- ``zoo``: ``configs/cartpole.yaml``, the RL Zoo settings (lr 2.3e-3, batch 64, buffer
  100,000, learning_starts 1000, gamma 0.99, target update every 10 env steps,
  train_freq 256, gradient_steps 128, exploration_fraction 0.16, final eps 0.04,
  net [256, 256]), 50,000 steps.
- ``default``: SB3-default-style (lr 1e-4, batch 32, buffer 100,000, learning_starts 100,
  target update every 10,000 env steps, train_freq 4, gradient_steps 1,
  exploration_fraction 0.1, final eps 0.05, net [64, 64]), 20,000 steps.

Both use Huber (smooth L1) loss, gradient-norm clipping at 10, plain (not Double) DQN, a
hard target copy counted in env steps, and ``--threads`` torch intra-op threads (default
1). For each seed the variants run one after the other in this process:

- ``rlcache``: the real ``Trainer`` built by ``rlcache.builders.build_trainer`` (run dir in
  a temporary folder, logging, metrics, plots, evaluation and checkpoints at
  TrainingConfig's default cadence, or with ``--cadence config`` at configs/cartpole.yaml's).
  Its evaluation episodes are timed and left out of steps/s; checkpoints are not.
- ``sb3``: ``stable_baselines3.DQN(...).learn(steps)``.
- ``bare``: the same rlcache agent and env in a minimal loop (act, step, store, train_step):
  the trainer's overhead is ``rlcache time / bare time - 1``. With the same seed the bare
  loop does exactly the trainer's work; the table says whether the final weights match.

Final reward: mean greedy return over 10 episodes with the fixed seeds 1000..1009.

Speed is env steps per CPU-second of this process (``time.process_time()``; with one
torch thread that is the work done, largely immune to other jobs on a shared machine);
the wall-clock ratio is printed beside it. Absolute numbers are noise; ratios are the
result.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from rlcache import builders
from rlcache.config import RunConfig, load_run_config
from rlcache.training import rng as rl_rng

ROOT = Path(__file__).resolve().parent.parent
EVAL_SEEDS = range(1000, 1010)
CONFIGS: dict[str, dict[str, Any]] = {
    "zoo": {"steps": 50_000, "rl": {}},
    "default": {"steps": 20_000, "rl": {
        "learning_rate": 1e-4, "batch_size": 32, "buffer_size": 100_000,
        "learning_starts": 100, "gamma": 0.99, "target_update_interval": 10_000,
        "train_freq": 4, "gradient_steps": 1, "exploration_fraction": 0.1,
        "epsilon_start": 1.0, "epsilon_end": 0.05, "hidden_sizes": [64, 64],
        "max_grad_norm": 10.0}},
}


DEFAULT_CADENCE = {"training.eval_frequency": 100, "training.checkpoint_frequency": 500,
                   "training.plot_frequency": 1000, "training.log_frequency": 10}
"""TrainingConfig's defaults (configs/cartpole.yaml evaluates every 20 episodes instead)."""


def run_config(name: str, steps: int, seed: int, threads: int,
               cadence: str = "default") -> RunConfig:
    flags: dict[str, Any] = {**(DEFAULT_CADENCE if cadence == "default" else {}),
                             "training.max_total_steps": steps, "training.seed": seed,
                             "training.verbose": False, "rl.torch_threads": threads,
                             "rl.agent_type": "dqn", "rl.huber": True, "rl.tau": 1.0,
                             "rl.max_grad_norm": 10.0, "rl.device": "cpu"}
    for key, value in CONFIGS[name]["rl"].items():
        flags[f"rl.{key}"] = value
    return load_run_config(ROOT / "configs" / "cartpole.yaml", flags=flags)


def greedy_reward(act: Any) -> list[float]:
    env = gym.make("CartPole-v1")
    rewards = []
    for seed in EVAL_SEEDS:
        obs, _ = env.reset(seed=seed)
        total, done = 0.0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(act(obs))
            total += float(reward)
            done = terminated or truncated
        rewards.append(total)
    env.close()
    return rewards


def run_rlcache(rc: RunConfig, tmp: Path) -> dict[str, Any]:
    trainer = builders.build_trainer(rc, tmp / f"run-{time.monotonic_ns()}")
    spent = {"eval": 0.0, "checkpoint": 0.0, "plot": 0.0, "eval_cpu": 0.0, "plot_cpu": 0.0}

    def timed(method: Any, key: str) -> Any:
        def wrapper(*args: Any, **kw: Any) -> Any:
            start, cpu = time.perf_counter(), time.process_time()
            try:
                return method(*args, **kw)
            finally:
                spent[key] += time.perf_counter() - start
                if key + "_cpu" in spent:
                    spent[key + "_cpu"] += time.process_time() - cpu
        return wrapper

    trainer._eval_stats = timed(trainer._eval_stats, "eval")  # type: ignore[method-assign]
    trainer._save_checkpoint = timed(trainer._save_checkpoint,  # type: ignore[method-assign]
                                     "checkpoint")
    trainer.plot_training_curves = timed(  # type: ignore[method-assign]
        trainer.plot_training_curves, "plot")
    start, cpu = time.perf_counter(), time.process_time()
    stats = trainer.train()
    total, cpu = time.perf_counter() - start, time.process_time() - cpu
    agent = trainer.agent
    return {"seconds": total - spent["eval"], "cpu_seconds": cpu - spent["eval_cpu"],
            "eval_seconds": spent["eval"], "plot_cpu_seconds": spent["plot_cpu"],
            "checkpoint_seconds": spent["checkpoint"], "plot_seconds": spent["plot"],
            "steps": stats["total_steps"],
            "evaluations": len(trainer.evaluations),
            "best_eval": stats["best_eval_reward"],
            "rewards": greedy_reward(lambda o: agent.select_action(o, evaluate=True)),
            "weights": {k: v.clone() for k, v in agent.q_net.state_dict().items()}}


def run_bare(rc: RunConfig) -> dict[str, Any]:
    """The Trainer's work without the Trainer: same seeding, same episode loop."""
    seed = rc.training.seed
    env = builders.build_env(rc, seed)
    agent = builders.build_agent(rc, env)
    budget = rc.training.max_total_steps
    per_episode = rc.training.max_steps_per_episode
    rl_rng.seed_everything(seed)
    start, cpu = time.perf_counter(), time.process_time()
    total_steps, first = 0, True
    select, store, learn, step = (agent.select_action, agent.store_transition,
                                  agent.train_step, env.step)
    while total_steps < budget:
        obs, _ = env.reset(seed=seed) if first else env.reset()
        first = False
        limit = min(per_episode, budget - total_steps)
        t = 0
        while True:
            action = select(obs)
            next_obs, reward, terminated, truncated, _ = step(action)
            t += 1
            if t >= limit:
                truncated = True
            store(obs, action, reward, next_obs, terminated, truncated)
            learn()
            if terminated or truncated:
                break
            obs = next_obs
        total_steps += t
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"seconds": seconds, "cpu_seconds": cpu, "steps": total_steps,
            "weights": {k: v.clone() for k, v in agent.q_net.state_dict().items()}}


def run_sb3(rc: RunConfig, seed: int) -> dict[str, Any]:
    from stable_baselines3 import DQN

    rl = rc.rl
    model = DQN(
        "MlpPolicy", gym.make("CartPole-v1"), learning_rate=rl["learning_rate"],
        buffer_size=rl["buffer_size"], learning_starts=rl["learning_starts"],
        batch_size=rl["batch_size"], tau=rl["tau"], gamma=rl["gamma"],
        train_freq=rl["train_freq"], gradient_steps=rl["gradient_steps"],
        target_update_interval=rl["target_update_interval"],
        exploration_fraction=rl["exploration_fraction"],
        exploration_initial_eps=rl["epsilon_start"], exploration_final_eps=rl["epsilon_end"],
        max_grad_norm=rl["max_grad_norm"],
        policy_kwargs={"net_arch": list(rl["hidden_sizes"])}, seed=seed, device="cpu",
        verbose=0)
    start, cpu = time.perf_counter(), time.process_time()
    model.learn(total_timesteps=rc.training.max_total_steps)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"seconds": seconds, "cpu_seconds": cpu, "steps": int(model.num_timesteps),
            "rewards": greedy_reward(lambda o: int(model.predict(o, deterministic=True)[0]))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", choices=sorted(CONFIGS), default=["zoo",
                                                                                  "default"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--steps", type=int, default=None,
                        help="env steps per run (default: 50,000 zoo, 20,000 default)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads, the same for every variant")
    parser.add_argument("--cadence", choices=("default", "config"), default="default",
                        help="trainer evaluation / checkpoint / plot cadence: TrainingConfig's "
                             "defaults (eval every 100 episodes, checkpoint every 500, plot "
                             "every 1000) or configs/cartpole.yaml's (eval and latest every 20)")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare agent loop")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="rlcache-bench-") as tmp:
        for name in args.configs:
            steps = args.steps or CONFIGS[name]["steps"]
            for seed in args.seeds:
                rc = run_config(name, steps, seed, args.threads, args.cadence)
                row: dict[str, Any] = {"config": name, "seed": seed, "steps": steps}
                row["rlcache"] = run_rlcache(rc, Path(tmp))
                assert torch.get_num_threads() == args.threads
                row["sb3"] = run_sb3(rc, seed)
                assert torch.get_num_threads() == args.threads
                if not args.no_bare:
                    row["bare"] = run_bare(rc)
                    w1, w2 = row["rlcache"]["weights"], row["bare"]["weights"]
                    row["bare_identical"] = all(torch.equal(w1[k], w2[k]) for k in w1)
                for side in ("rlcache", "sb3", "bare"):
                    if side in row:
                        r = row[side]
                        r.pop("weights", None)
                        r["steps_per_s"] = r["steps"] / r["seconds"]
                        r["steps_per_cpu_s"] = r["steps"] / r["cpu_seconds"]
                        if "rewards" in r:
                            r["mean_reward"] = float(np.mean(r["rewards"]))
                row["ratio"] = (row["rlcache"]["steps_per_cpu_s"]
                                / row["sb3"]["steps_per_cpu_s"])
                row["wall_ratio"] = row["rlcache"]["steps_per_s"] / row["sb3"]["steps_per_s"]
                if "bare" in row:
                    rl_s, bare_s = row["rlcache"]["cpu_seconds"], row["bare"]["cpu_seconds"]
                    row["overhead_pct"] = 100 * (rl_s / bare_s - 1)
                    row["overhead_no_plots_pct"] = 100 * (
                        (rl_s - row["rlcache"]["plot_cpu_seconds"]) / bare_s - 1)
                results.append(row)
                print_row(row, flush=True)
    print_table(results, args.threads)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


def print_row(row: dict[str, Any], flush: bool = False) -> None:
    r, s = row["rlcache"], row["sb3"]
    extra = ""
    if "bare" in row:
        extra = (f" | bare {row['bare']['steps_per_cpu_s']:6.0f}/s, trainer overhead "
                 f"{row['overhead_pct']:+5.1f}% ({row['overhead_no_plots_pct']:+5.1f}% without "
                 f"plots; same weights: {row['bare_identical']})")
    print(f"[{row['config']} seed {row['seed']}] rlcache {r['steps_per_cpu_s']:6.0f}/s "
          f"(+{r['eval_seconds']:.1f} s eval left out; incl. {r['checkpoint_seconds']:.1f} s "
          f"ckpt, {r['plot_seconds']:.1f} s plots) "
          f"reward {r['mean_reward']:5.1f} | sb3 {s['steps_per_cpu_s']:6.0f}/s reward "
          f"{s['mean_reward']:5.1f} | ratio {row['ratio']:.2f}x (wall {row['wall_ratio']:.2f}x)"
          f"{extra}", file=sys.stdout, flush=flush)


def print_table(results: list[dict[str, Any]], threads: int) -> None:
    print(f"\ntorch {torch.__version__}, {threads} intra-op thread(s) on both sides; steps per "
          f"CPU-second of the process (wall-clock ratio in brackets)")
    head = (f"{'config':8s} {'seed':>4s} {'steps':>6s} {'rlcache/s':>10s} {'sb3/s':>8s} "
            f"{'ratio':>6s} {'(wall)':>7s} {'rl reward':>9s} {'sb3 reward':>10s} "
            f"{'bare/s':>7s} {'overhead':>8s}")
    print(head)
    print("-" * len(head))
    for row in results:
        bare = row.get("bare")
        print(f"{row['config']:8s} {row['seed']:4d} {row['steps']:6d} "
              f"{row['rlcache']['steps_per_cpu_s']:10.0f} {row['sb3']['steps_per_cpu_s']:8.0f} "
              f"{row['ratio']:5.2f}x ({row['wall_ratio']:4.2f}x) "
              f"{row['rlcache']['mean_reward']:9.1f} {row['sb3']['mean_reward']:10.1f} "
              f"{bare['steps_per_cpu_s'] if bare else float('nan'):7.0f} "
              f"{row.get('overhead_pct', float('nan')):+7.1f}%")
    for name in dict.fromkeys(r["config"] for r in results):
        rows = [r for r in results if r["config"] == name]
        rl_time = sum(r["rlcache"]["cpu_seconds"] for r in rows)
        sb_time = sum(r["sb3"]["cpu_seconds"] for r in rows)
        line = (f"{name}: ratio median {statistics.median(r['ratio'] for r in rows):.2f}x, "
                f"total-time ratio {sb_time / rl_time:.2f}x; mean final reward rlcache "
                f"{np.mean([r['rlcache']['mean_reward'] for r in rows]):.1f}, sb3 "
                f"{np.mean([r['sb3']['mean_reward'] for r in rows]):.1f}")
        if all("bare" in r for r in rows):
            line += (f"; trainer overhead median "
                     f"{statistics.median(r['overhead_pct'] for r in rows):+.1f}% ("
                     f"{statistics.median(r['overhead_no_plots_pct'] for r in rows):+.1f}% "
                     f"without plots)")
        print(line)


if __name__ == "__main__":
    raise SystemExit(main())
