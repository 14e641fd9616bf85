"""A two-agent stack composed in Python, with no YAML: the KB and the pattern detector reading its sessions.

`cdktf synth` runs define(app) for each Python module of stacks/; the AgentStacks it adds become
Terraform stacks like those of YAML stack files (this one: kb-patterns-docker).
"""

from cdktf import App

from agentstrata.constructs import AgentStack, DockerTarget


def define(app: App) -> None:
    stack = AgentStack(app, "kb-patterns", target=DockerTarget(workspace_path="stacks/sample-kb"))
    kb = stack.add_agent(
        name="kb_base",
        layer=0,
        notebook="agents/kb_base.py",
        port=2731,
        workspace="read",
        inputs={"kb_root": ("kb_directory", "file:${KB_CONDUIT_ROOT}")},
        outputs={"workspace_context": "workspace_context", "session_log": "session_log"},
    )
    patterns = stack.add_agent(
        name="pattern_detector", layer=1, notebook="agents/pattern_detector.py", port=2732,
        outputs={"patterns": "patterns"},
    )
    patterns.consumes(kb, "session_log", as_="history", transform="parse_yaml_log")
