"""The cdktf app (cdktf.json runs `.venv/bin/python main.py`): every stack of stacks/, once per Terraform target.

YAML stack files and Python stack modules alike; see agentstrata/constructs/project.py.
"""

from pathlib import Path

from agentstrata.constructs.project import main

main(Path(__file__).resolve().parent)
