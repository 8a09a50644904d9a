"""The Q-networks of :mod:`rlcache.agents.networks`, forward pass only, in numpy.

A policy file holds the layers as float32 arrays; these classes turn an observation into
Q-values with nothing but numpy (no torch at serving time). Layer ``i`` is
``layer{i}.weight`` (out x in) and ``layer{i}.bias``, ReLU between layers, as in torch.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

NETWORK_TYPES = ("candidate", "mlp")


class NetworkShapeError(ValueError):
    """The arrays do not form the network the metadata describes."""


def layer_arrays(arrays: Mapping[str, np.ndarray], prefix: str = "layer"
                 ) -> list[tuple[np.ndarray, np.ndarray]]:
    """``[(weight, bias), ...]`` of ``prefix0``, ``prefix1``, ... checked to chain."""
    layers = []
    while f"{prefix}{len(layers)}.weight" in arrays:
        i = len(layers)
        w, b = arrays[f"{prefix}{i}.weight"], arrays.get(f"{prefix}{i}.bias")
        if w.ndim != 2 or b is None or b.shape != (w.shape[0],):
            raise NetworkShapeError(f"{prefix}{i} has weight {w.shape} and bias "
                                    f"{None if b is None else b.shape}")
        if layers and layers[-1][0].shape[0] != w.shape[1]:
            raise NetworkShapeError(f"{prefix}{i} takes {w.shape[1]} inputs but "
                                    f"{prefix}{i - 1} gives {layers[-1][0].shape[0]}")
        layers.append((np.ascontiguousarray(w, np.float32), np.ascontiguousarray(b, np.float32)))
    if not layers:
        raise NetworkShapeError(f"no {prefix}0.weight array")
    return layers


def _mlp(x: np.ndarray, layers: list[tuple[np.ndarray, np.ndarray]],
         final_relu: bool = False) -> np.ndarray:
    last = len(layers) - 1
    for i, (w, b) in enumerate(layers):
        x = x @ w.T + b
        if i < last or final_relu:
            np.maximum(x, 0.0, out=x)
    return x


class CandidateNetwork:
    """One shared MLP scores each of K candidates from its features plus the globals."""

    def __init__(self, arrays: Mapping[str, np.ndarray], n_candidates: int,
                 candidate_features: int, global_features: int) -> None:
        self.layers = layer_arrays(arrays)
        self.k, self.f, self.g = int(n_candidates), int(candidate_features), int(global_features)
        self.state_dim = self.k * self.f + self.g
        first, last = self.layers[0][0], self.layers[-1][0]
        if first.shape[1] != self.f + self.g or last.shape[0] != 1:
            raise NetworkShapeError(f"the scorer maps {first.shape[1]} inputs to "
                                    f"{last.shape[0]}; expected {self.f + self.g} to 1")
        # The first layer split in its candidate and global columns: the globals' part is
        # computed once per decision instead of once per candidate.
        w0, b0 = self.layers[0]
        self._w0c = np.ascontiguousarray(w0[:, : self.f].T)
        self._w0g = np.ascontiguousarray(w0[:, self.f :].T)
        self._b0 = b0
        self._rest = [(np.ascontiguousarray(w.T), b) for w, b in self.layers[1:]]

    def q_values(self, obs: np.ndarray) -> np.ndarray:
        """Q-values of one observation, shape (K,)."""
        k, f = self.k, self.f
        h = obs[: k * f].reshape(k, f) @ self._w0c + (obs[k * f :] @ self._w0g + self._b0)
        for wt, b in self._rest:
            np.maximum(h, 0.0, out=h)
            h = h @ wt + b
        return h[:, 0]


class MLPNetwork:
    """MLP from the flat observation to one Q-value per action (optionally dueling)."""

    def __init__(self, arrays: Mapping[str, np.ndarray], state_dim: int, action_dim: int,
                 dueling: bool) -> None:
        self.layers = layer_arrays(arrays)
        self.state_dim, self.dueling = int(state_dim), bool(dueling)
        if self.layers[0][0].shape[1] != self.state_dim:
            raise NetworkShapeError(f"layer0 takes {self.layers[0][0].shape[1]} inputs; "
                                    f"expected {self.state_dim}")
        if dueling:
            self.value = layer_arrays(arrays, "value")
            self.advantage = layer_arrays(arrays, "advantage")
            width = self.layers[-1][0].shape[0]
            shapes = (self.value[0][0].shape, self.advantage[0][0].shape)
            if shapes != ((1, width), (action_dim, width)):
                raise NetworkShapeError(f"dueling heads {shapes}; expected "
                                        f"{(1, width)} and {(action_dim, width)}")
        elif self.layers[-1][0].shape[0] != action_dim:
            raise NetworkShapeError(f"the last layer gives {self.layers[-1][0].shape[0]} "
                                    f"outputs; expected {action_dim}")

    def q_values(self, obs: np.ndarray) -> np.ndarray:
        """Q-values of one observation, shape (actions,)."""
        if not self.dueling:
            return _mlp(obs, self.layers)
        h = _mlp(obs, self.layers, final_relu=True)
        adv = _mlp(h, self.advantage)
        return _mlp(h, self.value) + adv - adv.mean()
