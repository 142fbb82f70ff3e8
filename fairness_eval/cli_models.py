"""`fairness-eval models`: the registered models and the local model cache."""

from __future__ import annotations

from pathlib import Path

import click

from .errors import UsageError
from .terminal import safe_writer


def _err(message: str) -> None:
    click.echo(message, err=True)


@click.group()
def models() -> None:
    """The registered models and the local model cache."""


@models.command("list")
def models_list() -> None:
    """List the registered models and whether each is cached."""
    from .models.registry import REGISTRY, cache_dir, cache_state

    echo = safe_writer(click.echo)
    echo(f"cache: {cache_dir()}")
    corrupt = []
    for model in REGISTRY.values():
        state = cache_state(model)  # the file's SHA-256 checked, not only its presence
        if state == "corrupt":
            corrupt.append(model.name)
        echo(f"{model.name:<18} {state:<11} {model.sha256[:16]}...  {model.description}")
    if corrupt:
        _err(f"warning: {', '.join(corrupt)} failed the SHA-256 check; run "
             f"`fairness-eval models pull {' '.join(corrupt)}` to replace them")


@models.command("pull")
@click.argument("names", nargs=-1)
@click.option("--wheel", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              default=None, help="Use an already downloaded mediapipe 0.10.21 wheel.")
def models_pull(names: tuple[str, ...], wheel: Path | None) -> None:
    """Download and verify the registered models (default: all)."""
    from .models.registry import REGISTRY, pull_models

    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise UsageError(f"unknown model(s) {', '.join(unknown)} (known: {', '.join(REGISTRY)})")
    pull_models(list(names) or None, wheel=wheel, log=safe_writer(click.echo))
