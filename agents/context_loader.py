import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import re

    import marimo as mo

    return mo, re


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
def _(re):
    #: Settings every workspace has, with their defaults.
    DEFAULTS = {"status": "active", "priority": "normal", "owner": None, "stale_after_days": 7, "description": ""}
    STATUSES = ("active", "paused", "archived")
    PRIORITIES = ("low", "normal", "high")
    #: Keys whose value is a comma-separated list.
    LIST_KEYS = frozenset({"stack", "tags", "members", "on_call", "languages", "labels"})
    TRUE_WORDS = frozenset({"true", "yes", "on"})
    FALSE_WORDS = frozenset({"false", "no", "off"})

    def normalise_key(key):
        """'On-Call' -> 'on_call': lower case, runs of other characters become one '_'."""
        return re.sub(r"[^0-9a-z]+", "_", str(key).strip().lower()).strip("_")

    def typed_value(key, value):
        """Text as written by kb-conduit becomes a bool, int, None or list where it plainly is one.
        Decimals stay text: '3.10' is a version more often than a number."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if key in LIST_KEYS:
            return [item.strip() for item in text.split(",") if item.strip()]
        lowered = text.lower()
        if lowered in TRUE_WORDS:
            return True
        if lowered in FALSE_WORDS:
            return False
        if lowered in ("", "null", "none", "~"):
            return None
        if re.fullmatch(r"[+-]?(0|[1-9][0-9]*)", text):
            return int(text)
        return text

    def normalise_workspace(name, raw):
        """One workspace's context: normalised keys, typed values, defaults, notes on what was changed."""
        notes = []
        settings = {}
        origins = {}
        if not isinstance(raw, dict):
            notes.append(f"context is a {type(raw).__name__}, not a mapping: ignored")
            raw = {}
        for original in sorted(raw, key=str):
            key = normalise_key(original)
            if not key:
                notes.append(f"key {original!r} has no letters or digits: ignored")
                continue
            if key in origins:
                notes.append(f"keys {origins[key]!r} and {original!r} both normalise to {key!r}: kept {original!r}")
            elif key != original:
                notes.append(f"key {original!r} normalised to {key!r}")
            origins[key] = original
            settings[key] = typed_value(key, raw[original])
        defaults_applied = sorted(key for key in DEFAULTS if settings.get(key) is None)
        for key in defaults_applied:
            settings[key] = DEFAULTS[key]
        status = str(settings["status"]).lower()
        if status not in STATUSES:
            notes.append(f"status {settings['status']!r} is not one of {', '.join(STATUSES)}: using 'active'")
            status = "active"
        priority = str(settings["priority"]).lower()
        if priority not in PRIORITIES:
            notes.append(f"priority {settings['priority']!r} is not one of {', '.join(PRIORITIES)}: using 'normal'")
            priority = "normal"
        stale_after = settings["stale_after_days"]
        if isinstance(stale_after, bool) or not isinstance(stale_after, int) or stale_after < 1:
            notes.append(f"stale_after_days {stale_after!r} is not a positive whole number: using 7")
            stale_after = DEFAULTS["stale_after_days"]
        settings.update(status=status, priority=priority, stale_after_days=stale_after)
        owner = settings["owner"]
        summary = (
            f"{name}: {status}, priority {priority}, owner {owner or 'unassigned'}, "
            f"stale after {stale_after} day(s); {len(raw)} key(s) set"
        )
        if settings["description"]:
            summary += f" - {settings['description']}"
        return {
            "name": name,
            "status": status,
            "priority": priority,
            "owner": owner,
            "stale_after_days": stale_after,
            "description": settings["description"],
            "settings": dict(sorted(settings.items())),
            "defaults_applied": defaults_applied,
            "notes": notes,
            "summary": summary,
        }

    def load_context(workspace_context):
        if not isinstance(workspace_context, dict):
            return {
                "workspaces": {},
                "workspace_count": 0,
                "by_status": {},
                "notes": [f"workspace_context is a {type(workspace_context).__name__}, expected a mapping"],
            }
        workspaces = {
            str(name): normalise_workspace(str(name), workspace_context[name])
            for name in sorted(workspace_context, key=str)
        }
        by_status = {}
        for name, workspace in workspaces.items():
            by_status.setdefault(workspace["status"], []).append(name)
        return {
            "workspaces": workspaces,
            "workspace_count": len(workspaces),
            "by_status": dict(sorted(by_status.items())),
            "notes": [],
        }

    return (load_context,)


@app.cell
def _(load_context, workspace_context):
    context = load_context(workspace_context)
    return (context,)


@app.cell
def _(context, mo):
    _rows = [
        {
            "workspace": name,
            "status": ws["status"],
            "priority": ws["priority"],
            "owner": ws["owner"] or "",
            "stale after (days)": ws["stale_after_days"],
            "defaults applied": ", ".join(ws["defaults_applied"]),
            "notes": "; ".join(ws["notes"]),
        }
        for name, ws in context["workspaces"].items()
    ]
    mo.vstack(
        [
            mo.md(
                f"## Context Loader (layer 1)\n\n**{context['workspace_count']}** workspace context(s), "
                "keys normalised and values typed."
                + "".join(f"\n\n- {note}" for note in context["notes"])
            ),
            mo.ui.table(_rows, selection=None, label="Workspaces") if _rows else mo.md("_No workspaces._"),
        ]
    )
    return


if __name__ == "__main__":
    app.run()
