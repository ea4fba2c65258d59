"""The console: a Textual window onto every request, run and token, live.

The only package that imports Textual. Entry points live in `app.py`
(`make_app`, `run_console`); `state.py` is the UI-free model the widgets draw.
"""
