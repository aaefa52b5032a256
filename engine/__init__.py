"""Lotse's engine: the only code that touches SpiffWorkflow.

Layers below the web app: `deploy` (validate and store versions), `cases` (every state
change of a case, one transaction each), `state` (load/save a workflow and keep the derived
tables in step), `sandbox` (the restricted script environment), `parsing` (the Camunda
dialect), `messages` and `timers` (what happens between cases and over time).
`wiring.init_app(app)` registers the engine's listeners; `jobs` runs background work inline
or on rq. No module here imports Flask's request objects or `web/`, and the modules import
each other without a cycle (tests/test_import_graph.py).
"""
