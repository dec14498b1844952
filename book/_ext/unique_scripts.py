"""Sphinx extension: emit each script tag once per page.

sphinx-thebe registers its inline configuration script (``const THEBE_JS_URL = ...``) from an
``env-before-read-docs`` hook, and with Sphinx 7.4 the script reaches every page twice (once with
filename ``None``, once with ``''``). The second copy throws "Identifier 'THEBE_JS_URL' has already
been declared" in the browser console. Dropping duplicates fixes it without patching upstream.
"""


def _drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for script in list(context.get("script_files", [])):
        filename = getattr(script, "filename", script) or ""
        identity = (str(filename), tuple(sorted(getattr(script, "attributes", {}).items())))
        if identity not in seen:
            seen.add(identity)
            unique.append(script)
    # In place: the list is the builder's own, and handlers that run later (Sphinx's MathJax
    # installer among them) append to it.
    context["script_files"][:] = unique


def setup(app):
    # Early: a later handler may return a template name, which ends emit_firstresult.
    app.connect("html-page-context", _drop_duplicate_scripts, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
