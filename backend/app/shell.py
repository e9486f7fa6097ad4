"""A Python shell on the application: `make shell`, or `python -m app.shell`.

The shell has the settings, the Flask app with an application context pushed
(so code written for requests runs as is), a database session that is also the
context's (`app.web.db.session()` returns it), every model, and `select` and
`func`. It is IPython when installed (`make jupyter-kernel` installs it) and
the input is a terminal; piped input runs as a script, so
`echo 'print(session.scalar(select(func.count(User.id))))' | make shell` works.

`python -m app.shell --install-kernel` registers a Jupyter kernel that starts
with the same names loaded.
"""

from __future__ import annotations

import argparse
import code
import importlib
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from flask import g
from sqlalchemy import func, select

import app.models
from app.core.config import get_settings
from app.models import project
from app.web import create_app

KERNEL_STARTUP = "from app.shell import populate; populate(globals())"


def namespace() -> dict[str, Any]:
    """The names the shell starts with; pushes an application context."""
    settings = get_settings()
    flask_app = create_app(settings)
    flask_app.app_context().push()
    runtime = flask_app.extensions["runtime"]
    session = runtime.session_factory()
    g.db_session = session
    names: dict[str, Any] = {
        "app": flask_app,
        "settings": settings,
        "runtime": runtime,
        "session": session,
        "select": select,
        "func": func,
    }
    for module in (app.models, project):
        names.update({name: getattr(module, name) for name in module.__all__})
    return names


def populate(target: dict[str, Any]) -> None:
    """Load the shell's names into `target`: a Jupyter kernel's globals()."""
    target.update(namespace())


def banner(names: dict[str, Any]) -> str:
    settings = names["settings"]
    return (
        f"{settings.PROJECT_NAME} shell ({settings.ENVIRONMENT}, "
        f"{names['runtime'].engine.url.render_as_string(hide_password=True)})\n"
        f"Loaded: {', '.join(sorted(names))}\n"
        "Nothing is committed unless you call session.commit()."
    )


def interact(names: dict[str, Any]) -> None:
    if not sys.stdin.isatty():
        # A script on stdin: run it like `python -`, without prompts in the output.
        exec(compile(sys.stdin.read(), "<stdin>", "exec"), names)  # noqa: S102
        return
    print(banner(names), file=sys.stderr)
    try:
        ipython = importlib.import_module("IPython")
    except ImportError:
        code.interact(banner="", local=names, exitmsg="")
    else:
        ipython.start_ipython(argv=[], user_ns=names, display_banner=False)


def install_kernel(name: str, prefix: Path | None) -> Path:
    """Register a Jupyter kernel running this virtualenv's Python with the shell's names."""
    try:
        kernelspec = importlib.import_module("ipykernel.kernelspec")
    except ImportError as exc:
        raise SystemExit("ipykernel is not installed: `make jupyter-kernel` installs it") from exc
    manager = importlib.import_module("jupyter_client.kernelspec").KernelSpecManager()
    # This virtualenv's python, by its own path: resolving the symlink would
    # leave the virtualenv.
    python = os.path.normpath(os.path.abspath(sys.executable))
    argv = [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec_dir = kernelspec.write_kernel_spec(
        overrides={
            "argv": [*argv, f"--IPKernelApp.exec_lines={KERNEL_STARTUP}"],
            "display_name": f"{get_settings().PROJECT_NAME} (backend)",
        }
    )
    try:
        installed = manager.install_kernel_spec(
            str(spec_dir), name, user=prefix is None, prefix=str(prefix) if prefix else None
        )
    finally:
        shutil.rmtree(spec_dir, ignore_errors=True)
    return Path(installed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.shell", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--install-kernel", action="store_true", help="register the Jupyter kernel, then exit"
    )
    parser.add_argument("--kernel-name", default="app", help="the kernel's name (default: app)")
    parser.add_argument(
        "--prefix", type=Path, help="install the kernel under this prefix, not for the user"
    )
    args = parser.parse_args(argv)
    if args.install_kernel:
        path = install_kernel(args.kernel_name, args.prefix)
        print(f"installed the Jupyter kernel {args.kernel_name!r} in {path}", file=sys.stderr)
        return 0
    names = namespace()
    # IPython empties the namespace on its way out: keep the session apart.
    session = names["session"]
    try:
        interact(names)
    finally:
        session.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
