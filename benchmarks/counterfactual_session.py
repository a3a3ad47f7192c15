"""A logged synthetic session for the counterfactual replay benchmark (`steer replay`).

An anchor user (target 0.5 from the prompt in d = 4, temperature 0.1, reversal probability
0.1) rates k = 8 candidates a round for 20 rounds with the CLI's default method
(trust region + Bradley-Terry); rounds are stored without images. Prints the session id.

Usage: python benchmarks/counterfactual_session.py DATA_ROOT [--rounds 20] [--mode rating]
then:  steer --data-root DATA_ROOT replay SESSION
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

from steering_core.config import make_config
from steering_core.storage import Workspace
from steering_core.synthetic import AnchorUser, NoiseModel
from steering_core.synthetic.simulate import simulate_session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_root", type=Path)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--mode", default="rating")
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()

    workspace = Workspace.open(arguments.data_root)
    direction = np.random.default_rng(arguments.seed).standard_normal(4)
    user = AnchorUser(
        target=0.5 * direction / np.linalg.norm(direction),
        noise=NoiseModel(temperature=0.1, reversal_probability=0.1),
    )
    config = make_config(
        {"prompt": "counterfactual benchmark", "k": 8, "d": 4, "seed": arguments.seed}
    )
    result = simulate_session(
        workspace, config, user, rounds=arguments.rounds, mode=arguments.mode, seed=arguments.seed
    )
    print(result.session_id)


if __name__ == "__main__":
    main()
