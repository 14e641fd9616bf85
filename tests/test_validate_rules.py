"""Each validator rule, one test each, with the exact finding it prints.

Every test starts from one valid three-agent stack (base <- reader <- top, with real marimo
notebooks) and breaks one thing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agentstrata.loader import load
from agentstrata.validate import RULES, validate

STACK = """\
stack:
  name: "demo"
  agents:
    - name: "base"
      layer: 0
      implementation:
        path: "nb/base.py"
      interface:
        outputs:
          - name: "log"
            type: "session_log"
            exposed_as: "reactive_cell:log"
    - name: "reader"
      layer: 1
      implementation:
        path: "nb/reader.py"
      dependencies:
        - agent_name: "base"
          inputs:
            log: "history"
      interface:
        inputs:
          - name: "history"
            type: "session_log"
            source: "agent:base.log"
        outputs:
          - name: "summary"
            type: "summary"
            exposed_as: "reactive_cell:summary"
    - name: "top"
      layer: 2
      implementation:
        path: "nb/top.py"
      dependencies:
        - agent_name: "reader"
          inputs:
            summary: "summary"
      interface:
        inputs:
          - name: "summary"
            type: "summary"
            source: "agent:reader.summary"
        outputs:
          - name: "report"
            type: "report"
            exposed_as: "reactive_cell:report"
  data_flow:
    - from: "base"
      to: "reader"
      data: "log"
      transform: "parse_yaml_log"
    - from: "reader"
      to: "top"
      data: "summary"
"""


def notebook(*cells: str, setup: str = "") -> str:
    """A marimo notebook file with the given cell bodies (one statement per line)."""
    parts = ["import marimo", "", '__generated_with = "0.25.2"', "app = marimo.App()", ""]
    if setup:
        parts += ["with app.setup:", *(f"    {line}" for line in setup.splitlines()), ""]
    for body in cells:
        parts += ["", "@app.cell", "def _():", *(f"    {line}" for line in body.splitlines()), "    return", ""]
    parts += ["", 'if __name__ == "__main__":', "    app.run()", ""]
    return "\n".join(parts)


NOTEBOOKS = {
    "base.py": notebook("log = ['started']"),
    "reader.py": notebook("summary = {'entries': len(history)}"),
    "top.py": notebook("report = str(summary)"),
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project root (cdktf.json marks it) holding the stack's notebooks; the working directory."""
    (tmp_path / "cdktf.json").write_text("{}")
    (tmp_path / "nb").mkdir()
    for name, text in NOTEBOOKS.items():
        (tmp_path / "nb" / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def findings(project: Path, stack: str = STACK, file: str = "stack.yaml") -> list[str]:
    (project / file).write_text(stack)
    return [d.format() for d in validate(load(file))]


def edit(old: str, new: str, text: str = STACK) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_the_base_stack_is_valid(project: Path):
    assert findings(project) == []


def test_s001_a_stack_needs_an_agent(project: Path):
    stack = 'stack:\n  name: "demo"\n  agents: []\n'
    assert findings(project, stack) == ["stack.yaml:3:11: stack.agents: the stack has no agents [S001]"]


def test_s002_agent_names_are_unique(project: Path):
    stack = edit("  data_flow:\n", '    - name: "base"\n      layer: 0\n      implementation:\n'
                 '        path: "nb/base.py"\n  data_flow:\n')
    assert findings(project, stack) == [
        "stack.yaml:47:13: stack.agents[3].name: duplicate agent name 'base': first defined at stack.yaml:4:13 [S002]"
    ]


def test_s003_ports_are_unique(project: Path):
    stack = edit('      layer: 0\n', '      layer: 0\n      port: 2800\n')
    stack = edit('      layer: 2\n', '      layer: 2\n      port: 2800\n', stack)
    assert findings(project, stack) == [
        "stack.yaml:33:13: stack.agents[2].port: port 2800 is already used by agent 'base' [S003]"
    ]


def test_s004_dependencies_exist(project: Path):
    stack = edit('            summary: "summary"\n', '            summary: "summary"\n        - agent_name: "raeder"\n')
    assert findings(project, stack) == [
        "stack.yaml:38:23: stack.agents[2].dependencies[1].agent_name: unknown agent 'raeder'; "
        "did you mean 'reader'? [S004]"
    ]


def test_s005_layer_isolation(project: Path):
    stack = edit('      layer: 1\n', '      layer: 0\n')
    assert findings(project, stack) == [
        "stack.yaml:18:23: stack.agents[1].dependencies[0].agent_name: 'base' is in layer 0, not below this "
        "agent's layer 0: an agent depends only on lower layers [S005]"
    ]


def test_s006_no_cycles(project: Path):
    stack = edit('        path: "nb/base.py"\n', '        path: "nb/base.py"\n      dependencies:\n'
                 '        - agent_name: "top"\n')
    assert findings(project, stack) == [
        "stack.yaml:9:23: stack.agents[0].dependencies[0].agent_name: 'top' is in layer 2, not below this "
        "agent's layer 0: an agent depends only on lower layers [S005]",
        "stack.yaml:9:23: stack.agents[0].dependencies[0].agent_name: dependency cycle: "
        "base -> top -> reader -> base [S006]",
    ]


def test_s006_a_self_dependency_is_a_cycle(project: Path):
    stack = edit('          inputs:\n            log: "history"\n',
                 '          inputs:\n            log: "history"\n        - agent_name: "reader"\n')
    assert findings(project, stack) == [
        "stack.yaml:21:23: stack.agents[1].dependencies[1].agent_name: 'reader' is in layer 1, not below this "
        "agent's layer 1: an agent depends only on lower layers [S005]",
        "stack.yaml:21:23: stack.agents[1].dependencies[1].agent_name: dependency cycle: reader -> reader [S006]",
    ]


def test_s007_agent_sources_name_a_declared_output(project: Path):
    stack = edit('source: "agent:reader.summary"', 'source: "agent:reader.summry"')
    stack = edit('            summary: "summary"\n', '            summry: "summary"\n', stack)
    assert findings(project, stack) == [
        "stack.yaml:37:13: stack.agents[2].dependencies[0].inputs.summry: agent 'reader' declares no output "
        "'summry' (it declares: summary) [S009]",
        "stack.yaml:42:21: stack.agents[2].interface.inputs[0].source: agent 'reader' declares no output "
        "'summry' (it declares: summary) [S007]",
    ]


def test_s007_agent_sources_name_an_agent(project: Path):
    stack = edit('source: "agent:reader.summary"', 'source: "agent:ghost.summary"')
    assert findings(project, stack) == [
        "stack.yaml:37:22: stack.agents[2].dependencies[0].inputs.summary: maps 'summary' to input 'summary', "
        "whose source is 'agent:ghost.summary', not 'agent:reader.summary' [S009]",
        "stack.yaml:42:21: stack.agents[2].interface.inputs[0].source: source names unknown agent 'ghost' [S007]",
        "stack.yaml:42:21: stack.agents[2].interface.inputs[0].source: 'ghost' is not among this agent's "
        "dependencies (add it, with inputs {summary: summary}) [S010]",
    ]


def test_s008_input_and_output_types_agree(project: Path):
    stack = edit('            type: "summary"\n            source', '            type: "digest"\n            source')
    assert findings(project, stack) == [
        "stack.yaml:41:19: stack.agents[2].interface.inputs[0].type: type 'digest' differs from reader.summary's "
        "type 'summary' [S008]"
    ]


def test_s009_dependency_inputs_map_to_declared_inputs(project: Path):
    stack = edit('            log: "history"\n', '            log: "histroy"\n')
    assert findings(project, stack) == [
        "stack.yaml:20:18: stack.agents[1].dependencies[0].inputs.log: maps 'log' to input 'histroy', which the "
        "interface does not declare (add an input with source 'agent:base.log') [S009]",
        "stack.yaml:25:21: stack.agents[1].interface.inputs[0].source: dependency 'base' does not map 'log' to "
        "this input (add log: history to its inputs) [S010]",
    ]


def test_s010_agent_sources_have_a_mapping_dependency(project: Path):
    stack = edit('          inputs:\n            log: "history"\n', '')
    assert findings(project, stack) == [
        "stack.yaml:23:21: stack.agents[1].interface.inputs[0].source: dependency 'base' does not map 'log' to "
        "this input (add log: history to its inputs) [S010]"
    ]


def test_s012_data_flow_follows_a_dependency(project: Path):
    stack = STACK + '    - from: "base"\n      to: "top"\n      data: "log"\n'
    assert findings(project, stack) == [
        "stack.yaml:55:7: stack.data_flow[2]: 'top' does not depend on 'base': declare the dependency on the "
        "consuming agent [S012]"
    ]


def test_s012_data_flow_names_agents_of_the_stack(project: Path):
    stack = edit('      to: "top"\n', '      to: "tpo"\n')
    assert findings(project, stack) == [
        "stack.yaml:53:11: stack.data_flow[1].to: unknown agent 'tpo'; did you mean 'top'? [S012]"
    ]


def test_s013_data_flow_carries_a_declared_output(project: Path):
    stack = edit('      data: "log"\n', '      data: "logs"\n')
    assert findings(project, stack) == [
        "stack.yaml:50:13: stack.data_flow[0].data: agent 'base' declares no output 'logs' (it declares: log) [S013]"
    ]


def test_s014_transforms_are_known(project: Path):
    stack = edit('transform: "parse_yaml_log"', 'transform: "parse_yaml"')
    assert findings(project, stack) == [
        "stack.yaml:51:18: stack.data_flow[0].transform: unknown transform 'parse_yaml': not one of identity, "
        "json, parse_yaml_log, nor a dotted path module.function [S014]"
    ]


def test_s014_user_transforms_must_be_found(project: Path):
    stack = edit('transform: "parse_yaml_log"', 'transform: "no_such_module:fix"')
    assert findings(project, stack) == [
        "stack.yaml:51:18: stack.data_flow[0].transform: transform 'no_such_module:fix': no module "
        "'no_such_module' in the project root or on sys.path [S014]"
    ]


def test_s014_user_transforms_import_from_the_project_root(project: Path):
    (project / "demo_transforms.py").write_text("def shout(value):\n    return str(value).upper()\n")
    stack = edit('transform: "parse_yaml_log"', 'transform: "demo_transforms:shout"')
    assert findings(project, stack) == []
    stack = edit('transform: "parse_yaml_log"', 'transform: "demo_transforms:whisper"')
    assert findings(project, stack) == [
        "stack.yaml:51:18: stack.data_flow[0].transform: transform 'demo_transforms:whisper': 'demo_transforms' "
        "has no function 'whisper' [S014]"
    ]


def test_s015_implementation_exists(project: Path):
    stack = edit('path: "nb/top.py"', 'path: "nb/tpo.py"')
    assert findings(project, stack) == [
        "stack.yaml:33:15: stack.agents[2].implementation.path: implementation file not found: nb/tpo.py [S015]"
    ]


def test_s015_implementation_is_a_file(project: Path):
    stack = edit('path: "nb/top.py"', 'path: "nb"')
    assert findings(project, stack) == [
        "stack.yaml:33:15: stack.agents[2].implementation.path: implementation is not a file: nb [S015]"
    ]


def test_s016_implementation_is_a_marimo_notebook(project: Path):
    (project / "nb" / "top.py").write_text("print('hello')\n")
    assert findings(project) == [
        "stack.yaml:33:15: stack.agents[2].implementation.path: nb/top.py:1: not a marimo notebook: it never "
        "imports marimo [S016]"
    ]


def test_s016_implementation_parses(project: Path):
    (project / "nb" / "top.py").write_text(notebook("report = (1,"))
    assert findings(project) == [
        "stack.yaml:33:15: stack.agents[2].implementation.path: nb/top.py:9: invalid Python syntax: "
        "'(' was never closed [S016]"
    ]


def test_s016_cells_compile(project: Path):
    text = notebook("report = str(summary)").replace(
        "\nif __name__", '\napp._unparsable_cell(\n    r"""\n    x = (\n    """,\n    name="_"\n)\n\n\nif __name__'
    )
    (project / "nb" / "top.py").write_text(text)
    assert findings(project) == [
        "stack.yaml:33:15: stack.agents[2].implementation.path: nb/top.py:13: cell cannot be compiled: line 1 of "
        "the cell: '(' was never closed [S016]"
    ]


def test_s017_outputs_are_defined_by_a_cell(project: Path):
    (project / "nb" / "top.py").write_text(notebook("_report = str(summary)"))
    assert findings(project) == [
        "stack.yaml:46:25: stack.agents[2].interface.outputs[0].exposed_as: no cell of nb/top.py defines "
        "'report' [S017]"
    ]


def test_s018_inputs_are_not_defined_in_setup(project: Path):
    (project / "nb" / "top.py").write_text(notebook("report = str(summary)", setup="summary = {}"))
    assert findings(project) == [
        "stack.yaml:40:19: stack.agents[2].interface.inputs[0].name: input 'summary' is defined in app.setup "
        "(nb/top.py:6): marimo cannot override setup definitions with injected inputs (TypeError at run time) [S018]"
    ]


def test_s019_a_cell_defining_an_input_defines_only_inputs(project: Path):
    (project / "nb" / "top.py").write_text(notebook("summary = {}\nlimit = 3", "report = str(summary)[:limit]"))
    assert findings(project) == [
        "stack.yaml:40:19: stack.agents[2].interface.inputs[0].name: cell at nb/top.py:8 defines input 'summary' "
        "and also 'limit': injecting the input skips that cell, and marimo then fails for the names it no longer "
        "defines (IncompleteRefsError); define them in another cell [S019]"
    ]


def test_s019_allows_a_standalone_fallback_cell(project: Path):
    (project / "nb" / "top.py").write_text(notebook("summary = {'entries': 0}", "report = str(summary)"))
    assert findings(project) == []


def test_s020_inputs_are_read(project: Path):
    (project / "nb" / "top.py").write_text(notebook("report = 'constant'"))
    assert findings(project) == [
        "stack.yaml:40:19: warning: stack.agents[2].interface.inputs[0].name: input 'summary' is never read by "
        "nb/top.py [S020]"
    ]


def test_s021_free_names_are_declared_inputs(project: Path):
    (project / "nb" / "top.py").write_text(notebook("report = str(summary) + str(verbose) + str(len(summary))"))
    assert findings(project) == [
        "stack.yaml:33:15: warning: stack.agents[2].implementation.path: nb/top.py:8: cell reads 'verbose', which "
        "no cell defines and the interface does not declare as an input [S021]"
    ]


def test_s022_names_are_defined_once(project: Path):
    (project / "nb" / "top.py").write_text(notebook("report = str(summary)", "report = 'again'"))
    assert findings(project) == [
        "stack.yaml:33:15: stack.agents[2].implementation.path: nb/top.py: 'report' is defined by more than one "
        "cell (lines 8, 14): marimo refuses to run the notebook [S022]"
    ]


def test_s023_an_agent_env_may_not_redefine_the_wire_contract(project: Path):
    stack = edit('        path: "nb/base.py"\n', '        path: "nb/base.py"\n      env:\n        STRATA_STATE_DIR: "/x"\n'
                 '        STRATA_UPSTREAM_TOP_URL: "http://x"\n')
    assert findings(project, stack) == [
        "stack.yaml:9:9: stack.agents[0].env.STRATA_STATE_DIR: env 'STRATA_STATE_DIR' of agent 'base' is set by "
        "every target (the agent's state directory or KB); remove it [S023]",
        "stack.yaml:10:9: stack.agents[0].env.STRATA_UPSTREAM_TOP_URL: env 'STRATA_UPSTREAM_TOP_URL' of agent "
        "'base' is set by every target (an upstream agent's URL); remove it [S023]",
    ]


def test_s024_upstreams_map_to_distinct_variables(project: Path):
    stack = STACK.replace('name: "base"', 'name: "kb-base"').replace('agent:base.log', 'agent:kb-base.log')
    stack = stack.replace('agent_name: "base"', 'agent_name: "kb-base"').replace('from: "base"', 'from: "kb-base"')
    stack = edit('    - name: "reader"\n', '    - name: "kb_base"\n      layer: 0\n      implementation:\n'
                 '        path: "nb/base.py"\n    - name: "reader"\n', stack)
    stack = edit('            log: "history"\n', '            log: "history"\n        - agent_name: "kb_base"\n', stack)
    assert [f for f in findings(project, stack) if f.endswith("[S024]")] == [
        "stack.yaml:17:13: stack.agents[2].name: upstream agents 'kb-base' and 'kb_base' of agent 'reader' both map "
        "to STRATA_UPSTREAM_KB_BASE_URL; rename one [S024]"
    ]


def test_findings_in_a_referenced_agent_file_are_located_there(project: Path):
    agent = (
        "agent:\n"
        '  name: "top"\n'
        "  layer: 2\n"
        "  implementation:\n"
        '    path: "nb/missing.py"\n'
        "  dependencies:\n"
        '    - agent_name: "reader"\n'
        "      inputs:\n"
        '        summary: "summary"\n'
        "  interface:\n"
        "    inputs:\n"
        '      - name: "summary"\n'
        '        type: "digest"\n'
        '        source: "agent:reader.summary"\n'
    )
    (project / "top.yaml").write_text(agent)
    start = STACK.index('    - name: "top"')
    stack = STACK[:start] + '    - ref: "top.yaml"\n' + STACK[STACK.index("  data_flow:"):]
    assert findings(project, stack) == [
        "top.yaml:5:11: agent.implementation.path: implementation file not found: nb/missing.py [S015]",
        "top.yaml:13:15: agent.interface.inputs[0].type: type 'digest' differs from reader.summary's type "
        "'summary' [S008]",
    ]


def test_an_agent_file_is_checked_without_its_stack(project: Path):
    agent = (
        "agent:\n"
        '  name: "top"\n'
        "  layer: 2\n"
        "  implementation:\n"
        '    path: "nb/top.py"\n'
        "  dependencies:\n"
        '    - agent_name: "nowhere"\n'
        "  interface:\n"
        "    inputs:\n"
        '      - name: "summary"\n'
        '        type: "summary"\n'
        '        source: "agent:reader.summary"\n'
        "    outputs:\n"
        '      - name: "report"\n'
        '        type: "report"\n'
        '        exposed_as: "reactive_cell:report"\n'
    )
    # 'nowhere' cannot be checked without a stack; the missing mapping for 'summary' can.
    assert findings(project, agent, "top.yaml") == [
        "top.yaml:12:17: agent.interface.inputs[0].source: 'reader' is not among this agent's dependencies "
        "(add it, with inputs {summary: summary}) [S010]"
    ]


def test_every_rule_has_a_description_and_a_test():
    tested = {name.split("_")[1].upper() for name in globals() if name.startswith("test_s0")}
    assert tested | {"S011"} == set(RULES)  # S011 is the loader's: tests/test_loader_errors.py


KB_INPUTS = ('      interface:\n        inputs:\n          - name: "kb"\n            type: "kb_directory"\n'
             '            source: "file:${KB_CONDUIT_ROOT}/kb.yaml"\n          - name: "root"\n'
             '            type: "path"\n            source: "env:KB_CONDUIT_ROOT"\n')


def test_s025_an_agent_reading_the_workspace_declares_it(project: Path):
    stack = edit('        path: "nb/base.py"\n      interface:\n', f'        path: "nb/base.py"\n{KB_INPUTS}')
    assert [f for f in findings(project, stack) if f.endswith("[S025]")] == [
        "stack.yaml:12:21: stack.agents[0].interface.inputs[0].source: input 'kb' reads the KB workspace "
        "(file:${KB_CONDUIT_ROOT}/kb.yaml), which agent 'base' does not declare: add 'workspace: read' to the "
        "agent [S025]",
        "stack.yaml:15:21: stack.agents[0].interface.inputs[1].source: input 'root' reads the KB workspace "
        "(env:KB_CONDUIT_ROOT), which agent 'base' does not declare: add 'workspace: read' to the agent [S025]",
    ]
    declared = edit('        path: "nb/base.py"\n', '        path: "nb/base.py"\n      workspace: "read"\n', stack)
    assert [f for f in findings(project, declared) if f.endswith(("[S025]", "[S026]"))] == []


def test_s026_a_declared_workspace_is_read_by_an_input(project: Path):
    stack = edit('        path: "nb/reader.py"\n', '        path: "nb/reader.py"\n      workspace: "read"\n')
    assert findings(project, stack) == [
        "stack.yaml:17:18: warning: stack.agents[1].workspace: agent 'reader' declares 'workspace: read' but no "
        "input can read it (file:${KB_CONDUIT_ROOT}/..., env:KB_CONDUIT_ROOT); remove it unless the notebook reads "
        "KB_CONDUIT_ROOT itself [S026]"
    ]
    # A plain path may lie under a target's workspace_path (the docker target checks that, D007): no warning.
    with_file = edit('            source: "agent:base.log"\n', '            source: "agent:base.log"\n'
                     '          - name: "notes"\n            type: "text"\n            source: "file:kb/notes.txt"\n',
                     stack)
    assert [f for f in findings(project, with_file) if f.endswith("[S026]")] == []
