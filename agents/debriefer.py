import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import re

    import marimo as mo
    from agentstrata.transforms import TransformError, parse_yaml_log

    return TransformError, mo, parse_yaml_log, re


@app.cell
def _(mo):
    from functools import partial as _partial

    from agentstrata.standalone import upstream_output as _upstream_output

    # Standalone only: in a stack the runtime injects every input and this is never called.
    upstream_output = _partial(_upstream_output, notebook_dir=mo.notebook_dir())
    return (upstream_output,)


@app.cell
def _(TransformError, parse_yaml_log, upstream_output):
    # The only cell defining this input: the runtime's app.run(defs=...) replaces it with the session
    # log already passed through the edge's parse_yaml_log transform; standalone, apply it here.
    try:
        history = parse_yaml_log(upstream_output("kb_base", "session_log", "kb_base.py"))
    except TransformError as _error:
        print(f"history: {_error}; analysing no sessions")
        history = []
    return (history,)


@app.cell
def _(upstream_output):
    # The only cell defining this input: the runtime's app.run(defs=...) replaces it.
    validated_context = upstream_output("validator", "validated_context", "validator.py")
    return (validated_context,)


@app.cell
def _(re):
    OPENING_TAGS = ("blocked", "question", "todo")  # strongest first
    CLOSING_TAGS = frozenset({"done", "fixed", "resolved"})
    STATUS_TAGS = frozenset(OPENING_TAGS) | CLOSING_TAGS
    MARKER = re.compile(r"^\s*(todo|blocked|done|next|question|decided|fixed|resolved)\s*:\s*", re.IGNORECASE)
    CLOSING_START = re.compile(r"^\s*(done|fixed|resolved|unblocked)\b", re.IGNORECASE)
    NEXT = re.compile(r"\bnext:\s*(.+)$", re.IGNORECASE | re.DOTALL)
    TODO = re.compile(r"\bTODO\b")
    WORD = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
    STOPWORDS = frozenset(
        "a an the and or but of to in on at by for from with without into over under as is are was were be "
        "been it its this that these those their they them we our us i me my you your not no so if then than "
        "too very can cannot could should would will just again after before during each all any some more "
        "most less per via vs up down out off about also only once still yet when while where which who what "
        "how why there here has have had do does did".split()
    )
    VERBS = frozenset(
        "add ask automate backfill benchmark build bump check choose clean clear configure debug decide deploy "
        "design disable document draft drop enable fix generate handle implement investigate isolate load-test "
        "measure merge migrate monitor move plan port profile prototype prune publish raise refactor release "
        "remove rename retry revert review roll run ship spike split sync test triage try update upgrade "
        "write".split()
    )
    IRREGULAR = {"chose": "choose", "chosen": "choose", "ran": "run", "wrote": "write", "written": "write",
                 "built": "build"}

    def words(text):
        return [w for w in WORD.findall(str(text).lower()) if w not in STOPWORDS]

    def verb(word):
        """The base form of word when it is a known verb ('Fixed' -> 'fix'), else None."""
        w = word.lower()
        if w in IRREGULAR:
            return IRREGULAR[w]
        candidates = [w]
        if w.endswith(("ies", "ied")):
            candidates.append(w[:-3] + "y")
        if w.endswith("ing"):
            candidates += [w[:-3], w[:-3] + "e", w[:-4]]
        if w.endswith("ed"):
            candidates += [w[:-2], w[:-1], w[:-3]]
        if w.endswith("es"):
            candidates += [w[:-2], w[:-1]]
        if w.endswith("s"):
            candidates.append(w[:-1])
        return next((c for c in candidates if c in VERBS), None)

    def action_of(message, tags):
        """What an entry did: its leading verb, else its marker ('Blocked:'), else its status tag."""
        text = str(message).strip()
        marker = MARKER.match(text)
        if marker:
            text = text[marker.end():]
        first = WORD.search(text.lower())
        if first and verb(first.group()):
            return verb(first.group())
        if marker:
            name = marker.group(1).lower()
            return {"decided": "decide", "fixed": "fix", "resolved": "resolve", "next": "todo"}.get(name, name)
        return next((tag for tag in (*OPENING_TAGS, "done") if tag in tags), "note")

    def tags_of(entry):
        tags = entry.get("tags")
        return [str(t).lower() for t in tags] if isinstance(tags, list) else []

    def opens(entry):
        """The kind of thread an entry leaves open (blocked, question, todo, next), or None."""
        tags = tags_of(entry)
        message = str(entry.get("message") or "")
        kind = next((tag for tag in OPENING_TAGS if tag in tags), None)
        if kind is None and TODO.search(message):
            kind = "todo"
        if kind is None and NEXT.search(message):
            kind = "next"
        return kind

    def closes(entry):
        return bool(CLOSING_TAGS & set(tags_of(entry))) or bool(CLOSING_START.match(str(entry.get("message") or "")))

    def thread_text(entry):
        message = str(entry.get("message") or "")
        follow_up = NEXT.search(message)
        return follow_up.group(1).strip() if follow_up else MARKER.sub("", message).strip()

    def resolves(closing, thread):
        """A closing entry resolves an open thread of its workspace when they share a topic tag or,
        for a thread without topic tags, at least two significant words."""
        if thread["topics"]:
            return bool(set(thread["topics"]) & (set(tags_of(closing)) - STATUS_TAGS))
        return len(set(words(thread["message"])) & set(words(closing.get("message", "")))) >= 2

    def summary_line(message, limit=100):
        line = " ".join(str(message).split())
        return line if len(line) <= limit else line[: limit - 1] + "\u2026"

    def handoff(name, ws):
        if not ws["sessions"]:
            return f"{name}: no sessions yet."
        text = (
            f"{name}: {ws['sessions']} session(s) from {ws['first_activity'][:10]} to {ws['last_activity'][:10]} "
            f"by {', '.join(ws['agents'])}. Last: {ws['last']['summary']} ({ws['last']['agent']})."
        )
        if ws["open_threads"]:
            items = "; ".join(f"[{t['kind']}] {summary_line(t['message'], 80)}" for t in ws["open_threads"])
            text += f" Open ({len(ws['open_threads'])}): {items}."
        else:
            text += " No open threads."
        if ws["problems"]["errors"] or ws["problems"]["warnings"]:
            text += f" KB problems: {ws['problems']['errors']} error(s), {ws['problems']['warnings']} warning(s)."
        return text

    def debrief(history, validated_context):
        entries = [e for e in history if isinstance(e, dict)] if isinstance(history, list) else []
        validated = validated_context if isinstance(validated_context, dict) else {}
        problems = validated.get("problems") if isinstance(validated.get("problems"), list) else []
        trusted = validated.get("workspaces") if isinstance(validated.get("workspaces"), dict) else {}
        problems_by_workspace = {}
        for item in problems:
            if isinstance(item, dict) and item.get("workspace") is not None:
                counts = problems_by_workspace.setdefault(str(item["workspace"]), {"errors": 0, "warnings": 0})
                counts["errors" if item.get("severity") == "error" else "warnings"] += 1

        by_workspace = {}
        for index, entry in enumerate(entries):
            by_workspace.setdefault(str(entry.get("workspace", "log")), []).append((str(entry.get("timestamp", "")), index, entry))
        names = sorted(set(by_workspace) | set(map(str, trusted)))

        sessions, workspaces = [], {}
        for name in names:
            ordered = [entry for _, _, entry in sorted(by_workspace.get(name, []), key=lambda item: item[:2])]
            open_threads, closed, done, agents = [], 0, [], {}
            for entry in ordered:
                stamp = str(entry.get("timestamp", ""))
                agent = str(entry.get("agent") or "unknown")
                agents[agent] = agents.get(agent, 0) + 1
                tags = tags_of(entry)
                resolved = []
                if closes(entry):
                    still_open = []
                    for thread in open_threads:
                        (resolved if resolves(entry, thread) else still_open).append(thread)
                    open_threads = still_open
                    closed += len(resolved)
                    done.append({"timestamp": stamp, "agent": agent, "summary": summary_line(entry.get("message", ""))})
                kind = opens(entry)
                if kind:
                    open_threads.append({
                        "timestamp": stamp,
                        "kind": kind,
                        "message": thread_text(entry),
                        "topics": sorted(set(tags) - STATUS_TAGS),
                        "agent": agent,
                    })
                sessions.append({
                    "workspace": name,
                    "timestamp": stamp,
                    "agent": agent,
                    "action": action_of(entry.get("message", ""), tags),
                    "outcome": "closed" if resolved else ("opened" if kind else ("done" if closes(entry) else "progress")),
                    "opens": kind,
                    "closes": [thread["timestamp"] for thread in resolved],
                    "summary": summary_line(entry.get("message", "")),
                })
            last = ordered[-1] if ordered else None
            ws = {
                "sessions": len(ordered),
                "first_activity": str(ordered[0].get("timestamp", "")) if ordered else None,
                "last_activity": str(last.get("timestamp", "")) if last else None,
                "last": {"agent": str(last.get("agent") or "unknown"), "summary": summary_line(last.get("message", ""))} if last else None,
                "agents": sorted(agents),
                "done": done,
                "open_threads": open_threads,
                "closed_threads": closed,
                "problems": problems_by_workspace.get(name, {"errors": 0, "warnings": 0}),
                "trusted": name in trusted,
            }
            ws["handoff"] = handoff(name, ws)
            workspaces[name] = ws

        sessions.sort(key=lambda s: (s["timestamp"], s["workspace"]))
        stamps = [ws["last_activity"] for ws in workspaces.values() if ws["last_activity"]]
        return {
            "valid": bool(validated.get("valid", False)),
            "problems": len(problems),
            "last_activity": max(stamps) if stamps else None,
            "session_count": len(sessions),
            "open_thread_count": sum(len(ws["open_threads"]) for ws in workspaces.values()),
            "workspaces": workspaces,
            "sessions": sessions,
        }

    return (debrief,)


@app.cell
def _(debrief, history, validated_context):
    insights = debrief(history, validated_context)
    return (insights,)


@app.cell
def _(insights, mo):
    mo.vstack(
        [
            mo.md(
                f"## Debriefer (layer 2)\n\n**{insights['session_count']}** session(s), "
                f"**{insights['open_thread_count']}** open thread(s), last activity "
                f"{insights['last_activity'] or 'never'}. KB {'valid' if insights['valid'] else 'not valid'}"
                f" ({insights['problems']} problem(s)).\n\n### Handoff\n\n"
                + "\n".join(f"- {ws['handoff']}" for ws in insights["workspaces"].values())
            ),
            mo.ui.table(
                [
                    {"workspace": name, "since": t["timestamp"], "kind": t["kind"], "thread": t["message"], "by": t["agent"]}
                    for name, ws in insights["workspaces"].items()
                    for t in ws["open_threads"]
                ]
                or [{"workspace": "", "since": "", "kind": "", "thread": "no open threads", "by": ""}],
                selection=None,
                label="Open threads",
            ),
        ]
    )
    return


@app.cell
def _(insights, mo):
    mo.ui.table(
        [
            {key: s[key] for key in ("timestamp", "workspace", "agent", "action", "outcome", "summary")}
            for s in reversed(insights["sessions"])
        ]
        or [{"timestamp": "", "workspace": "", "agent": "", "action": "", "outcome": "", "summary": "no sessions"}],
        selection=None,
        page_size=15,
        label="Sessions, newest first",
    )
    return


if __name__ == "__main__":
    app.run()
