"""DQN and Double DQN in PyTorch, implementing the agent protocol (``agents.protocol``)."""

from __future__ import annotations

import copy
import os
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from rlcache.agents.config import DQNConfig
from rlcache.agents.networks import build_q_network
from rlcache.agents.replay import ReplayBuffer
from rlcache.agents.schedules import linear_epsilon
from rlcache.errors import UserError
from rlcache.serialization import atomic_torch_save, safe_torch_load


def resolve_device(name: str) -> torch.device:
    """``auto`` means CUDA when present, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def apply_thread_policy(threads: int | None, device: torch.device) -> None:
    """Set torch's intra-op thread count for CPU training (see ``DQNConfig.torch_threads``).

    The one place the policy lives: the CLI (through the builders) and the Python API
    both build a ``DQNAgent``, so both get it.
    """
    if device.type != "cpu" or threads == 0:
        return
    if threads is None:
        env = os.environ.get("RLCACHE_TORCH_THREADS", "").strip()
        if env.isdigit() and int(env) > 0:
            threads = int(env)
        elif os.environ.get("OMP_NUM_THREADS"):
            return
        else:
            threads = 1
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def _make_optimizer(params: Any, lr: float, device: torch.device) -> torch.optim.Optimizer:
    # The fused kernel does the whole Adam step in one call; it is several times
    # cheaper than the per-tensor loop, and deterministic.
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError):  # pragma: no cover - builds without fused Adam
        return torch.optim.Adam(params, lr=lr, foreach=device.type == "cuda")


_FUSED_ADAM = hasattr(torch, "_fused_adam_")


def _clip_grad_norm(params: list[torch.nn.Parameter], max_norm: float) -> None:
    """``torch.nn.utils.clip_grad_norm_(params, max_norm, foreach=True)`` for one device
    and dtype, without its grouping overhead: the same ops, so the same numbers."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    total = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    torch._foreach_mul_(grads, coef)


class DQNAgent:
    """DQN (Mnih et al. 2015) with optional Double DQN targets and dueling heads."""

    def __init__(self, config: DQNConfig) -> None:
        self.config = config.validate()
        self.device = resolve_device(config.device)
        apply_thread_policy(config.torch_threads, self.device)
        self.rng = np.random.default_rng(config.seed)
        # Weights come from the agent's own seed, whatever the global torch RNG holds.
        with torch.random.fork_rng(devices=[]):
            if config.seed is not None:
                torch.manual_seed(config.seed)
            self.q_net = build_q_network(config).to(self.device)
        self.target_net = copy.deepcopy(self.q_net)
        self.target_net.requires_grad_(False)
        self.optimizer = _make_optimizer(self.q_net.parameters(), config.learning_rate,
                                         self.device)
        self.replay = ReplayBuffer(config.buffer_size, config.state_dim,
                                   config.action_dim if config.full_information else 0)
        self.num_steps = 0
        self.num_updates = 0
        self.num_vector_steps = 0
        self._params = list(self.q_net.parameters())
        self._batch: tuple[tuple[torch.Tensor, ...], tuple[np.ndarray, ...]] | None = None
        self._act_in = torch.zeros(1, config.state_dim)
        self._scorer_key: tuple[Any, ...] | None = None
        self._scorer: Any = None

    @property
    def epsilon(self) -> float:
        """Exploration rate at the current env step."""
        c = self.config
        return linear_epsilon(self.num_steps, c.epsilon_start, c.epsilon_end,
                              c.exploration_steps)

    def _obs_tensor(self, obs: Any) -> torch.Tensor:
        return torch.as_tensor(np.asarray(obs, dtype=np.float32), device=self.device)

    def select_action(self, obs: Any, evaluate: bool = False) -> int:
        """Epsilon-greedy while training; greedy (and RNG-free) when ``evaluate``."""
        if not evaluate and self.rng.random() < self.epsilon:
            return int(self.rng.integers(self.config.action_dim))
        acts = self._engine_greedy(np.asarray(obs, dtype=np.float32)[None])
        if acts is not None:
            return int(acts[0])
        # The observation goes into a preallocated (1, state_dim) tensor: no new tensor
        # per step; the network and its arithmetic are exactly those of q_values().
        # (a view taken now: one kept from __init__ would not follow a deepcopy's tensor)
        self._act_in.numpy()[0] = obs
        with torch.inference_mode():
            q = self.q_net(self._act_in.to(self.device))
        return int(q.argmax(dim=1).item())

    def engine_scorer(self) -> Any:
        """The engine's compiled scorer of a candidate network's weights now (rebuilt
        when one changed), else None: microseconds per greedy row, not a torch forward;
        its float32 sums run in another order than torch's, so only near-ties differ."""
        if self.config.network != "candidate":
            return None
        # the fused Adam step leaves the tensors' version counters as they were
        key = (self.num_updates, *((id(p), p._version) for p in self._params))
        if key != self._scorer_key:
            self._scorer_key, self._scorer = key, self.q_net.engine_scorer()
        return self._scorer

    def _engine_greedy(self, rows: np.ndarray) -> np.ndarray | None:
        """Greedy actions of observation rows on :meth:`engine_scorer`, else None."""
        scorer = self.engine_scorer()
        if scorer is None:
            return None
        return scorer.choose(rows, self.config.action_dim, self.config.candidate_features)

    def select_actions(self, obs: np.ndarray) -> np.ndarray:
        """Epsilon-greedy actions of a batch of observations (one per env, one forward).

        Row i draws from ``self.rng`` as the i-th of that many ``select_action`` calls
        would, all at the current epsilon; the greedy rows share one forward pass.
        """
        m = len(obs)
        eps = self.epsilon
        acts = np.zeros(m, dtype=np.int64)
        greedy = []
        for i in range(m):
            if self.rng.random() < eps:
                acts[i] = self.rng.integers(self.config.action_dim)
            else:
                greedy.append(i)
        if not greedy:
            return acts
        chosen = self._engine_greedy(obs[greedy])
        if chosen is not None:
            acts[greedy] = chosen
            return acts
        x = torch.from_numpy(np.ascontiguousarray(obs[greedy], dtype=np.float32))
        with torch.inference_mode():
            q = self.q_net(x.to(self.device))
        acts[greedy] = q.argmax(dim=1).cpu().numpy()
        return acts

    def q_values(self, obs: Any) -> np.ndarray:
        """Q-values of one observation or a batch, as numpy."""
        x = self._obs_tensor(obs)
        with torch.inference_mode():
            q = self.q_net(x.unsqueeze(0) if x.ndim == 1 else x)
        return q.cpu().numpy()

    def store_transition(self, obs: Any, action: int, reward: float, next_obs: Any,
                         terminated: bool, truncated: bool,
                         action_rewards: Any = None) -> None:
        """Record one env step; truncation still bootstraps, termination does not.

        ``action_rewards``: every action's reward (``rl.full_information`` needs it).
        """
        self._check_full(action_rewards)
        self.replay.add(obs, action, reward, next_obs, terminated, action_rewards)
        self.num_steps += 1

    def store_transitions(self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray,
                          next_obs: np.ndarray, terminated: np.ndarray,
                          action_rewards: np.ndarray | None = None) -> None:
        """Record one vector step (a row per env) with one batched replay insert."""
        self._check_full(action_rewards)
        self.replay.add_batch(obs, actions, rewards, next_obs, terminated, action_rewards)
        self.num_steps += len(actions)

    def _check_full(self, action_rewards: Any) -> None:
        if self.config.full_information and action_rewards is None:
            raise UserError("rl.full_information: the env gives no action_rewards (the "
                            "cache env: set env.action_rewards true)")

    def train_step_vector(self, n: int) -> dict[str, float] | None:
        """``train_step`` after a vector step of ``n`` transitions, as SB3 counts them.

        ``train_freq`` counts vector steps; the target is updated when the transitions
        pass a multiple of ``target_update_interval``; ``learning_starts`` and epsilon
        count transitions.
        """
        self.num_vector_steps += 1
        tui = self.config.target_update_interval
        return self._on_schedule(self.num_steps // tui > (self.num_steps - n) // tui,
                                 self.num_vector_steps % self.config.train_freq == 0)

    def train_step(self) -> dict[str, float] | None:
        """Update the target on schedule and learn when the counters say so."""
        c = self.config
        return self._on_schedule(self.num_steps % c.target_update_interval == 0,
                                 self.num_steps % c.train_freq == 0)

    def _on_schedule(self, target_due: bool, learn_due: bool) -> dict[str, float] | None:
        """The one schedule of both loops: the target copy, then a learning step if due."""
        c = self.config
        if target_due:
            self._update_target()
        if self.num_steps < c.learning_starts or not learn_due:
            return None
        if len(self.replay) < c.batch_size:
            return None
        loss, q_mean = self._learn(c.gradient_steps)
        return {"loss": loss, "q_mean": q_mean}

    def td_target(self, rewards: torch.Tensor, next_obs: torch.Tensor,
                  dones: torch.Tensor) -> torch.Tensor:
        """r + gamma * Q_target(s', a*) with a* from the online net under Double DQN."""
        with torch.no_grad():
            next_target = self.target_net(next_obs)
            if self.config.double_q:
                best = self.q_net(next_obs).argmax(dim=1, keepdim=True)
                next_q = next_target.gather(1, best).squeeze(1)
            else:
                next_q = next_target.max(dim=1).values
            return rewards + self.config.gamma * (1.0 - dones) * next_q

    def _sample_batches(self, n: int) -> tuple[torch.Tensor, ...]:
        """``n`` batches, drawn at once, in preallocated tensors (rows i*B .. (i+1)*B-1)."""
        rows = n * self.config.batch_size
        if self._batch is None or self._batch[0][0].shape[0] != rows:
            dim = self.config.state_dim
            tensors = (torch.empty(rows, dim), torch.empty(rows, dtype=torch.int64),
                       torch.empty(rows), torch.empty(rows, dim), torch.empty(rows))
            if self.config.full_information:
                tensors += (torch.empty(rows, self.config.action_dim),)
            self._batch = (tensors, tuple(t.numpy() for t in tensors))
        tensors, arrays = self._batch
        self.replay.get_into(self.replay.sample_indices(self.rng, rows), arrays)
        if self.device.type == "cpu":
            return tensors
        return tuple(t.to(self.device, non_blocking=True) for t in tensors)

    def _learn(self, n: int) -> tuple[float, float]:
        """``n`` gradient updates; mean loss and mean Q of the taken actions over them.

        The batches of all ``n`` updates are sampled at once, and the target network's
        values for all of them come from one forward pass: the target network does not
        change between the updates of one ``train_step`` (it follows env steps). Loss
        and Q statistics stay tensors until the end (one conversion per call).
        """
        c = self.config
        b = c.batch_size
        obs, actions, rewards, next_obs, dones, *every = self._sample_batches(n)
        # gamma 0 (the cache configs' bandit): r + 0 * Q' is r for every finite Q', so the
        # next states' forwards (target, and online under Double DQN) are skipped.
        bandit = c.gamma == 0.0
        with torch.no_grad():
            if bandit:
                targets = rewards
            else:
                next_target = self.target_net(next_obs)
                discount = (1.0 - dones).mul_(c.gamma)
                if not c.double_q:
                    targets = next_target.max(dim=1).values.mul_(discount).add_(rewards)
        params = self._params
        losses: list[torch.Tensor] = []
        q_means: list[torch.Tensor] = []
        for i in range(n):
            rows = slice(i * b, (i + 1) * b)
            if c.double_q and not bandit:
                with torch.no_grad():
                    best = self.q_net(next_obs[rows]).argmax(dim=1, keepdim=True)
                    target = (next_target[rows].gather(1, best).squeeze(1)
                              .mul_(discount[rows]).add_(rewards[rows]))
            else:
                target = targets[rows]
            if every:  # full information: every action's value regresses its own reward
                q_all = self.q_net(obs[rows])
                q_taken = q_all.gather(1, actions[rows].unsqueeze(1)).squeeze(1)
                q, target = q_all, every[0][rows]
            else:  # a candidate network scores only the taken candidates (1/K of the work)
                q = q_taken = self.q_net.score_actions(obs[rows], actions[rows])
            loss = F.smooth_l1_loss(q, target) if c.huber else F.mse_loss(q, target)
            for p in params:
                p.grad = None
            loss.backward()
            if c.max_grad_norm is not None:
                _clip_grad_norm(params, c.max_grad_norm)
            self._optimizer_step()
            losses.append(loss.detach())
            q_means.append(q_taken.detach().mean())
        self.num_updates += n
        if n == 1:
            return float(losses[0]), float(q_means[0])
        stats = torch.stack([torch.stack(losses), torch.stack(q_means)]).mean(dim=1).tolist()
        return stats[0], stats[1]

    def _optimizer_step(self) -> None:
        """``self.optimizer.step()``, with the fused Adam kernel called directly once the
        optimizer holds state: the same arithmetic on the same state tensors (so its
        state_dict is unchanged), without the per-call Python bookkeeping."""
        opt = self.optimizer
        group = opt.param_groups[0]
        params = group["params"]
        state = opt.state
        if not (_FUSED_ADAM and group.get("fused") and len(opt.param_groups) == 1
                and len(state) == len(params) and not group["amsgrad"]
                and not group["maximize"] and not group["differentiable"]
                and not group.get("decoupled_weight_decay", False)
                and self.device.type == "cpu" and all(p.grad is not None for p in params)):
            opt.step()
            return
        states = [state[p] for p in params]
        steps = [s["step"] for s in states]
        beta1, beta2 = group["betas"]
        torch._foreach_add_(steps, 1)
        torch._fused_adam_(params, [p.grad for p in params], [s["exp_avg"] for s in states],
                           [s["exp_avg_sq"] for s in states], [], steps, amsgrad=False,
                           lr=float(group["lr"]), beta1=float(beta1), beta2=float(beta2),
                           weight_decay=group["weight_decay"], eps=group["eps"],
                           maximize=False, grad_scale=None, found_inf=None)

    @torch.no_grad()
    def _update_target(self) -> None:
        tau = self.config.tau
        if tau >= 1.0:
            self.target_net.load_state_dict(self.q_net.state_dict())
            return
        online = list(self.q_net.parameters())
        target = list(self.target_net.parameters())
        torch._foreach_lerp_(target, online, tau)

    def get_metrics(self) -> dict[str, float]:
        """Counters and schedule values."""
        return {
            "epsilon": self.epsilon,
            "num_steps": self.num_steps,
            "num_updates": self.num_updates,
            "buffer_size": len(self.replay),
        }

    def state_dict(self, include_replay: bool = True) -> dict[str, Any]:
        """Everything needed to continue exactly; weights-only-safe values only."""
        return {
            "config": self.config.to_dict(),
            "q_net": self.q_net.state_dict(),
            "target_net": self.target_net.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "num_steps": self.num_steps,
            "num_updates": self.num_updates,
            "num_vector_steps": self.num_vector_steps,
            "rng": self.rng.bit_generator.state,
            "replay": self.replay.state_dict() if include_replay else None,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a ``state_dict``; the observation and action sizes must match."""
        saved = state["config"]
        for key in ("state_dim", "action_dim", "network"):
            if saved.get(key) != getattr(self.config, key):
                raise UserError(
                    f"checkpoint agent has {key}={saved.get(key)!r} but this environment "
                    f"needs {key}={getattr(self.config, key)!r}"
                )
        self.q_net.load_state_dict(state["q_net"])
        self.target_net.load_state_dict(state["target_net"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.num_steps = int(state["num_steps"])
        self.num_updates = int(state["num_updates"])
        self.num_vector_steps = int(state.get("num_vector_steps", 0))
        self.rng.bit_generator.state = state["rng"]
        if state.get("replay") is not None:
            self.replay.load_state_dict(state["replay"])

    def save(self, path: str) -> None:
        """Write ``state_dict()`` to ``path`` atomically."""
        atomic_torch_save(self.state_dict(), path)

    def load(self, path: str) -> None:
        """Load a file written by ``save`` (weights-only)."""
        self.load_state_dict(safe_torch_load(path))
