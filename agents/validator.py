import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import re
    from datetime import datetime, timezone

    import marimo as mo
    import yaml

    return datetime, mo, re, timezone, yaml


@app.cell
def _(mo):
    from functools import partial as _partial

    from agentstrata.standalone import upstream_output as _upstream_output

    # Standalone only: in a stack the runtime injects every input and this is never called.
    upstream_output = _partial(_upstream_output, notebook_dir=mo.notebook_dir())
    return (upstream_output,)


@app.cell
def _(upstream_output):
    # The only cell defining this input: the runtime's app.run(defs=...) replaces it.
    workspace_context = upstream_output("kb_base", "workspace_context", "kb_base.py")
    return (workspace_context,)


@app.cell
def _(upstream_output):
    # The only cell defining this input: the runtime's app.run(defs=...) replaces it.
    session_log = upstream_output("kb_base", "session_log", "kb_base.py")
    return (session_log,)


@app.cell
def _(datetime, timezone, yaml):
    # Strata's one reader of YAML: bounded (depth, size), it never crashes on a session log.
    from agentstrata.yaml_source import compose

    SEVERITY_ORDER = {"error": 0, "warning": 1}

    def problem(severity, code, workspace, file, line, message):
        location = f"{file}:{line}" if line is not None else file
        return {
            "severity": severity,
            "code": code,
            "workspace": workspace,
            "file": file,
            "line": line,
            "location": location,
            "message": message,
        }

    def parse_timestamp(text):
        """An aware datetime (naive ones are read as UTC), or None when text is not ISO 8601."""
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)

    def check_entry(node, workspace, file, previous, problems):
        """One session entry (a YAML node); returns its timestamp, or previous when it has none."""
        line = node.start_mark.line + 1
        if not isinstance(node, yaml.MappingNode):
            problems.append(problem("error", "entry-not-mapping", workspace, file, line,
                                    "a session entry must be a mapping (timestamp, message, tags, agent)"))
            return previous
        fields = {key.value: value for key, value in node.value if isinstance(key, yaml.ScalarNode)}
        moment = previous
        stamp = fields.get("timestamp")
        if stamp is None:
            problems.append(problem("error", "missing-timestamp", workspace, file, line, "entry has no timestamp"))
        elif not isinstance(stamp, yaml.ScalarNode) or parse_timestamp(stamp.value) is None:
            text = stamp.value if isinstance(stamp, yaml.ScalarNode) else "a collection"
            problems.append(problem("error", "bad-timestamp", workspace, file, stamp.start_mark.line + 1,
                                    f"timestamp {text!r} is not an ISO 8601 date-time"))
        else:
            moment = parse_timestamp(stamp.value)
            if previous is not None and moment < previous:
                problems.append(problem("warning", "out-of-order", workspace, file, stamp.start_mark.line + 1,
                                        f"timestamp {stamp.value} is earlier than the entry before it"))
        message = fields.get("message")
        if message is None:
            problems.append(problem("error", "missing-message", workspace, file, line, "entry has no message"))
        elif not isinstance(message, yaml.ScalarNode) or not message.value.strip():
            problems.append(problem("error", "empty-message", workspace, file, message.start_mark.line + 1,
                                    "message is empty or not text"))
        tags = fields.get("tags")
        if tags is not None and not (
            isinstance(tags, yaml.SequenceNode) and all(isinstance(t, yaml.ScalarNode) for t in tags.value)
        ):
            problems.append(problem("warning", "bad-tags", workspace, file, tags.start_mark.line + 1,
                                    "tags must be a list of names"))
        return moment

    def check_log(workspace, text, problems):
        """Checks one workspace's raw sessions.yaml; returns its number of entries."""
        file = f"workspaces/{workspace}/sessions.yaml"
        if not isinstance(text, str):
            problems.append(problem("error", "log-not-text", workspace, file, None,
                                    f"session log is a {type(text).__name__}, expected the YAML text"))
            return 0
        try:
            root = compose(text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            started = f"{exc.context} at line {exc.context_mark.line + 1}, " if exc.context and exc.context_mark else ""
            problems.append(problem("error", "broken-yaml", workspace, file, mark.line + 1 if mark else None,
                                    f"invalid YAML: {started}{exc.problem or exc.context}"))
            return 0
        except yaml.YAMLError as exc:
            problems.append(problem("error", "broken-yaml", workspace, file, None, f"invalid YAML: {exc}"))
            return 0
        if root is None:
            return 0
        if not isinstance(root, yaml.SequenceNode):
            problems.append(problem("error", "log-not-list", workspace, file, root.start_mark.line + 1,
                                    "sessions.yaml must be a list of entries"))
            return 0
        previous = None
        for node in root.value:
            previous = check_entry(node, workspace, file, previous, problems)
        return len(root.value)

    def validate(workspace_context, session_log):
        problems = []
        contexts = workspace_context if isinstance(workspace_context, dict) else {}
        logs = session_log if isinstance(session_log, dict) else {}
        if not isinstance(workspace_context, dict):
            problems.append(problem("error", "bad-input", None, "workspace_context", None,
                                    f"workspace_context is a {type(workspace_context).__name__}, expected a mapping"))
        if not isinstance(session_log, dict):
            problems.append(problem("error", "bad-input", None, "session_log", None,
                                    f"session_log is a {type(session_log).__name__}, expected a mapping"))
        entries = {}
        for workspace in sorted(logs, key=str):
            entries[str(workspace)] = check_log(str(workspace), logs[workspace], problems)
            if workspace not in contexts:
                problems.append(problem("error", "unknown-workspace", str(workspace),
                                        f"workspaces/{workspace}/context.yaml", None,
                                        "sessions are logged for a workspace that has no context"))
        for workspace in sorted(contexts, key=str):
            file = f"workspaces/{workspace}/context.yaml"
            if not isinstance(contexts[workspace], dict):
                problems.append(problem("error", "context-not-mapping", str(workspace), file, None,
                                        "context must be a mapping of KEY: VALUE"))
            elif not contexts[workspace]:
                problems.append(problem("warning", "empty-context", str(workspace), file, None,
                                        "context is empty (set some with: kb-conduit context set)"))
        problems.sort(key=lambda p: (p["file"], p["line"] or 0, SEVERITY_ORDER[p["severity"]], p["code"]))
        failed = {p["workspace"] for p in problems if p["severity"] == "error"}
        errors = sum(p["severity"] == "error" for p in problems)
        return {
            "valid": errors == 0,
            "workspaces": {
                str(name): contexts[name]
                for name in sorted(contexts, key=str)
                if isinstance(contexts[name], dict) and str(name) not in failed
            },
            "rejected": sorted(name for name in failed if name is not None),
            "problems": problems,
            "counts": {
                "workspaces": len(set(map(str, contexts)) | set(map(str, logs))),
                "entries": sum(entries.values()),
                "errors": errors,
                "warnings": len(problems) - errors,
            },
        }

    return (validate,)


@app.cell
def _(session_log, validate, workspace_context):
    validated_context = validate(workspace_context, session_log)
    return (validated_context,)


@app.cell
def _(mo, validated_context):
    _counts = validated_context["counts"]
    _verdict = "valid" if validated_context["valid"] else "**not valid**"
    mo.vstack(
        [
            mo.md(
                f"## Validator (layer 1)\n\nThe KB is {_verdict}: {_counts['workspaces']} workspace(s), "
                f"{_counts['entries']} session entries, {_counts['errors']} error(s), "
                f"{_counts['warnings']} warning(s)."
                + (f" Rejected: {', '.join(validated_context['rejected'])}." if validated_context["rejected"] else "")
            ),
            mo.ui.table(
                [
                    {key: _p[key] for key in ("severity", "location", "code", "message")}
                    for _p in validated_context["problems"]
                ],
                selection=None,
                label="Problems",
            )
            if validated_context["problems"]
            else mo.md("No problems."),
        ]
    )
    return


if __name__ == "__main__":
    app.run()
