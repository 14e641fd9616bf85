"""``strata env``: ``export`` lines for plain ``cdktf``: ``eval "$(strata env)"``, then ``cdktf plan``.

Exit 0: printed; 1: the toolchain is not set up on this machine (run ``strata setup``).
"""

from __future__ import annotations

from agentstrata.cli.app import app, out


@app.command("env")
def env_command() -> None:
    """Print the shell exports that make `cdktf plan/deploy` use Strata's toolchain (for `eval`)."""
    from agentstrata.deploy.layout import project_layout
    from agentstrata.deploy.shell_env import export_lines

    for line in export_lines(project_layout()):
        out.print(line, markup=False, highlight=False, soft_wrap=True)
