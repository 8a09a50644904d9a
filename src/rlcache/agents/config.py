"""DQNConfig: every knob of the DQN / Double DQN agent, validated once."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from rlcache.errors import UserError

AGENT_TYPES = ("dqn", "double_dqn")
NETWORKS = ("mlp", "candidate")


@dataclass
class DQNConfig:
    """Hyperparameters of a DQN agent (SB3 / RL Zoo names where they exist)."""

    state_dim: int = 60
    """Size of the flat observation vector."""
    action_dim: int = 7
    """Number of discrete actions."""
    hidden_sizes: list[int] = field(default_factory=lambda: [256, 256])
    """Widths of the hidden layers of the Q-network."""
    learning_rate: float = 1e-3
    """Adam step size."""
    gamma: float = 0.99
    """Discount factor (the seed's ``discount``)."""
    batch_size: int = 64
    """Transitions per gradient update."""
    buffer_size: int = 100_000
    """Replay buffer capacity in transitions."""
    learning_starts: int = 1000
    """Env steps collected before the first update."""
    train_freq: int = 4
    """Learn every this many env steps."""
    gradient_steps: int = 1
    """Gradient updates each time the agent learns."""
    target_update_interval: int = 1000
    """Env steps between target-network updates."""
    tau: float = 1.0
    """Target update weight: 1.0 is a hard copy, below 1 a Polyak average."""
    epsilon_start: float = 1.0
    """Exploration rate at step 0."""
    epsilon_end: float = 0.05
    """Exploration rate after the decay."""
    exploration_steps: int = 10_000
    """Env steps over which epsilon decays linearly from start to end."""
    exploration_fraction: float | None = None
    """If set, the decay spans this fraction of the step budget (overrides steps)."""
    huber: bool = True
    """Huber (smooth L1) loss instead of squared error."""
    max_grad_norm: float | None = 10.0
    """Clip the gradient's global norm to this; None disables clipping."""
    double_q: bool = False
    """Double DQN: the online net picks the next action, the target net scores it."""
    full_information: bool = False
    """Bandit only (gamma 0): every transition stores the reward each action would have
    earned (the cache env's ``env.action_rewards``), and an update regresses all the
    action values of a sample on them, not only the taken action's."""
    dueling: bool = False
    """Dueling heads (value + advantage)."""
    network: str = "mlp"
    """``mlp`` over the flat observation, or ``candidate``: one shared scorer per candidate."""
    candidate_features: int = 8
    """Features per candidate (``candidate`` network): obs = K * this + global_features."""
    global_features: int = 4
    """Global features at the end of the observation (``candidate`` network)."""
    device: str = "auto"
    """``auto`` (CUDA when present), ``cpu`` or ``cuda``."""
    seed: int | None = None
    """Seed for weights, exploration and replay sampling."""
    torch_threads: int | None = None
    """Intra-op threads torch uses on CPU; applied process-wide when the agent is built.

    ``None`` (default): 1 thread, unless the environment variable
    ``RLCACHE_TORCH_THREADS`` gives a count or ``OMP_NUM_THREADS`` is set (then torch's
    own setting stays). The Q-networks are small: a second intra-op thread saves little
    on an idle machine and, on a loaded 2-core one, makes an update up to 15x slower
    (measured: 1.3 ms with 1 thread, 18 ms with 2). ``0``: leave torch's setting as it
    is. ``N > 0``: use N threads. Ignored when the agent runs on CUDA.
    """

    def validate(self) -> DQNConfig:
        """Raise UserError naming the field if a value is out of range."""
        positive = ("state_dim", "action_dim", "batch_size", "buffer_size", "train_freq",
                    "gradient_steps", "target_update_interval",
                    "candidate_features")
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise UserError(f"rl.{name}: expected a positive integer, got {value!r}")
        for name in ("learning_starts", "exploration_steps", "global_features"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise UserError(f"rl.{name}: expected an integer >= 0, got {value!r}")
        if self.torch_threads is not None and (
            not isinstance(self.torch_threads, int) or isinstance(self.torch_threads, bool)
            or self.torch_threads < 0
        ):
            raise UserError(f"rl.torch_threads: expected an integer >= 0 or null, "
                            f"got {self.torch_threads!r}")
        if not self.hidden_sizes or any(
            not isinstance(h, int) or isinstance(h, bool) or h <= 0 for h in self.hidden_sizes
        ):
            raise UserError(
                f"rl.hidden_sizes: expected a list of positive integers, got {self.hidden_sizes!r}"
            )
        checks: list[tuple[str, bool, str]] = [
            ("learning_rate", self.learning_rate > 0, "a number > 0"),
            ("gamma", 0.0 <= self.gamma <= 1.0, "a number in [0, 1]"),
            ("tau", 0.0 < self.tau <= 1.0, "a number in (0, 1]"),
            ("epsilon_start", 0.0 <= self.epsilon_start <= 1.0, "a number in [0, 1]"),
            ("epsilon_end", 0.0 <= self.epsilon_end <= 1.0, "a number in [0, 1]"),
        ]
        for name, ok, expected in checks:
            if not ok:
                raise UserError(f"rl.{name}: expected {expected}, got {getattr(self, name)!r}")
        if self.exploration_fraction is not None and not 0.0 < self.exploration_fraction <= 1.0:
            raise UserError(
                f"rl.exploration_fraction: expected a number in (0, 1] or null, "
                f"got {self.exploration_fraction!r}"
            )
        if self.max_grad_norm is not None and self.max_grad_norm <= 0:
            raise UserError(f"rl.max_grad_norm: expected a number > 0 or null, "
                            f"got {self.max_grad_norm!r}")
        if self.network not in NETWORKS:
            raise UserError(f"rl.network: expected one of {', '.join(NETWORKS)}, "
                            f"got {self.network!r}")
        if self.network == "candidate":
            body = self.state_dim - self.global_features
            if body <= 0 or body % self.candidate_features or \
                    body // self.candidate_features != self.action_dim:
                raise UserError(
                    f"rl.network: 'candidate' needs state_dim = action_dim * candidate_features"
                    f" + global_features ({self.action_dim} * {self.candidate_features} + "
                    f"{self.global_features}), got state_dim {self.state_dim}"
                )
        if self.full_information and self.gamma != 0.0:
            raise UserError(f"rl.full_information: needs rl.gamma 0 (each action's target "
                            f"is its own reward), got gamma {self.gamma}")
        if self.network == "candidate" and self.dueling:
            raise UserError("rl.dueling: not available with network 'candidate'; use 'mlp'")
        if self.device not in ("auto", "cpu", "cuda") and not self.device.startswith("cuda:"):
            raise UserError(f"rl.device: expected auto, cpu or cuda, got {self.device!r}")
        return self

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the fields (weights-only-safe)."""
        return asdict(self)
