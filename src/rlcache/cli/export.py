"""``rlcache export``: a cache-env checkpoint -> a self-contained policy file (numpy only)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from rlcache.cli.common import CONTEXT_SETTINGS
from rlcache.errors import UserError

EPILOG = """\b
Examples:
  rlcache export results/cache1 -o cache1.npz          # its best.pt, else the newest intact
  rlcache export results/cache1/checkpoints/best.pt -o best.npz
  rlcache evaluate --policy cache1.npz --trace other.oracleGeneral --json
"""


def _check_output(output: Path, force: bool) -> None:
    if output.is_dir():
        raise UserError(f"-o {output}: is a folder; expected a policy file path (.npz)")
    if output.suffix != ".npz":
        raise UserError(f"-o {output}: expected a file name ending in .npz")
    if not output.parent.is_dir():
        raise UserError(f"-o {output}: folder {output.parent} does not exist")
    if output.exists() and not force:
        raise UserError(f"-o {output}: file exists; pass --force to replace it")


def run_export(source: str | Path, output: str | Path, force: bool = False) -> dict[str, Any]:
    """Export the checkpoint ``source`` (file, checkpoints folder or run folder) to ``output``.

    The checkpoint is chosen and verified as ``rlcache evaluate`` does
    (:func:`rlcache.runs.choose_for_evaluation`: a folder means its best.pt, else its
    newest intact; SHA-256 checked, weights-only load). Returns the policy file's metadata.
    """
    out = Path(output)
    _check_output(out, force)
    from rlcache import runs
    from rlcache.policy.convert import policy_from_checkpoint
    from rlcache.policy.file import save_policy

    loaded, _ = runs.choose_for_evaluation(source, flag=None)
    arrays, meta = policy_from_checkpoint(loaded.payload, loaded.meta, str(loaded.path))
    return save_policy(out, arrays, meta)


@click.command(context_settings=CONTEXT_SETTINGS, epilog=EPILOG)
@click.argument("source", metavar="RUN|CHECKPOINT")
@click.option("--output", "-o", required=True, metavar="POLICY",
              help="Policy file to write (.npz: float32 arrays and JSON metadata, no pickle).")
@click.option("--force", is_flag=True, help="Replace an existing policy file.")
@click.option("--json", "as_json", is_flag=True, help="Print the policy's metadata as JSON.")
def export(source: str, output: str, force: bool, as_json: bool) -> None:
    """Export a trained cache agent as a policy file that runs with numpy alone."""
    meta = run_export(source, output, force)
    if as_json:
        click.echo(json.dumps(meta))
        return
    dec, tr = meta["decisions"], meta["training"]
    click.echo(f"Exported {tr['checkpoint']} (episode {tr['episode']}) to {output}: "
               f"{len(dec['candidates'])} candidates ({', '.join(dec['candidates'])}), "
               f"{dec['features']} features, sha256 {meta['sha256'][:16]}")
