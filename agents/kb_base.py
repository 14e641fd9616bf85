import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import os
    from pathlib import Path

    import marimo as mo
    import yaml

    return Path, mo, os, yaml


@app.cell
def _(Path, mo, os):
    # Standalone only: in a stack the runtime injects kb_root (its `file:` source) and re-runs
    # this notebook whenever anything under that directory changes.
    from agentstrata.wire import KB_ROOT_ENV as _KB_ROOT_ENV

    kb_root = os.environ.get(_KB_ROOT_ENV) or str(
        Path(mo.notebook_dir()).parent / "stacks" / "sample-kb"
    )
    return (kb_root,)


@app.cell
def _(yaml):
    # Strata's one reader of YAML from files: bounded (depth, size, alias expansion), it never crashes,
    # hangs on a FIFO or builds objects from tags, whatever the KB holds.
    from agentstrata.errors import SpecError
    from agentstrata.yaml_source import compose, load_plain, read_text as read_file

    def yaml_problem(file, exc):
        """A YAML error as a located problem (file relative to the KB root, 1-based line)."""
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and context_mark is not None:
            reason = f"{context} at line {context_mark.line + 1}, {reason}"
        return {
            "file": file,
            "line": mark.line + 1 if mark is not None else None,
            "column": mark.column + 1 if mark is not None else None,
            "message": f"invalid YAML: {reason}",
        }

    def read_text(path, file, problems):
        """A regular file's text (at most 8 MiB of UTF-8), or None and a problem."""
        try:
            return read_file(path, file)
        except SpecError as exc:
            problems.append({"file": file, "line": None, "column": None, "message": exc.diagnostics[0].message})
            return None

    def read_context(path, file, problems):
        """A workspace's context.yaml as {key: value}; {} (and a problem) when it is not one."""
        text = read_text(path, file, problems)
        if text is None:
            return {}
        try:
            document = load_plain(text)
        except yaml.YAMLError as exc:
            problems.append(yaml_problem(file, exc))
            return {}
        if document is None:
            return {}
        if not isinstance(document, dict):
            problems.append(
                {"file": file, "line": 1, "column": 1, "message": "expected a mapping of KEY: VALUE"}
            )
            return {}
        return {str(key): value for key, value in document.items()}

    def check_sessions(text, file, problems):
        """Only reports YAML that cannot be read (as parse_yaml_log reads it): the validator checks entries."""
        try:
            load_plain(text)
        except yaml.YAMLError as exc:
            problems.append(yaml_problem(file, exc))

    def read_kb(root):
        """(workspace_context, session_log, problems) of the KB at root; never raises."""
        problems = []
        contexts, logs = {}, {}
        if not root.is_dir():
            problems.append(
                {"file": str(root), "line": None, "column": None, "message": "KB directory does not exist"}
            )
            return contexts, logs, problems
        if not (root / "kb.yaml").is_file():
            problems.append(
                {"file": "kb.yaml", "line": None, "column": None,
                 "message": "missing: not a kb-conduit KB (create one with: kb-conduit init)"}
            )
        workspaces = root / "workspaces"
        names = sorted(p.name for p in workspaces.iterdir() if p.is_dir() and not p.name.startswith(".")) \
            if workspaces.is_dir() else []
        for name in names:
            context_file = f"workspaces/{name}/context.yaml"
            sessions_file = f"workspaces/{name}/sessions.yaml"
            if (root / context_file).is_file():
                contexts[name] = read_context(root / context_file, context_file, problems)
            else:
                problems.append({"file": context_file, "line": None, "column": None, "message": "missing"})
            if (root / sessions_file).is_file():
                text = read_text(root / sessions_file, sessions_file, problems)
                if text is not None:
                    logs[name] = text
                    check_sessions(text, sessions_file, problems)
        return contexts, logs, problems

    return compose, read_kb


@app.cell
def _(Path, kb_root, read_kb):
    workspace_context, session_log, kb_problems = read_kb(Path(kb_root).expanduser())
    return kb_problems, session_log, workspace_context


@app.cell
def _(compose, kb_problems, kb_root, mo, session_log, workspace_context, yaml):
    def _entry_count(text):
        try:
            root = compose(text)
        except yaml.YAMLError:
            return None
        return len(root.value) if isinstance(root, yaml.SequenceNode) else 0

    _rows = [
        {
            "workspace": name,
            "context keys": len(workspace_context.get(name, {})),
            "session entries": _entry_count(session_log[name]) if name in session_log else 0,
        }
        for name in sorted(set(workspace_context) | set(session_log))
    ]
    mo.vstack(
        [
            mo.md(
                f"## KB Conduit (layer 0)\n\nReading `{kb_root}`: **{len(_rows)}** workspace(s), "
                f"**{len(kb_problems)}** problem(s)."
            ),
            mo.ui.table(_rows, selection=None, label="Workspaces") if _rows else mo.md("_No workspaces._"),
        ]
    )
    return


@app.cell
def _(kb_problems, mo):
    (
        mo.ui.table(
            [
                {**_problem, "line": _problem["line"] or "", "column": _problem["column"] or ""}
                for _problem in kb_problems
            ],
            selection=None,
            label="Problems (file and line, relative to the KB root)",
        )
        if kb_problems
        else mo.md("No problems found in the KB files.")
    )
    return


if __name__ == "__main__":
    app.run()
