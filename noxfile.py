"""Developer gates: ``nox`` runs them all; ``nox -s tests`` (etc.) one at a time."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["lint", "typecheck", "core_only", "protos", "tests"]

SOURCES = ["src", "tests", "bench", "noxfile.py"]


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint rules and formatting."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", *SOURCES)
    session.run("ruff", "format", "--check", *SOURCES)


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on src/ (configured in pyproject.toml)."""
    session.install("-e", ".[all,test]")
    session.run("mypy")


@nox.session
def core_only(session: nox.Session) -> None:
    """A plain ``pip install .`` gives an importable order_core and nothing third-party."""
    session.install(".")
    imports = "import order_core, order_adapters.memory, order_adapters.simulated"
    session.run("python", "-c", imports)
    session.run("python", ".ci/assert_no_dependencies.py")


@nox.session
def protos(session: nox.Session) -> None:
    """The committed gRPC stubs are what grpcio-tools generates from the protos."""
    session.install("grpcio-tools>=1.85.1,<1.86", "mypy-protobuf>=5.1,<5.2")
    session.run("python", ".ci/protos.py", "--check")


@nox.session
def tests(session: nox.Session) -> None:
    """The README's test command: the whole suite, against the machine's services."""
    session.install("-e", ".[all,test]")
    session.run("pytest", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmarks (not part of the default run)."""
    session.install("-e", ".[all]")
    session.run("python", "bench/core.py")
