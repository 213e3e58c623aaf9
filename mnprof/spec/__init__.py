"""Stage 3, spec: the YAML spec language, from text to a built graph.

``expr`` (the safe expression evaluator), ``document`` (a parsed spec as data),
``parse`` and ``references`` (static validation), ``builtins`` (the built-in
specs and how a spec argument is found), ``build`` (a spec at one width, depth and
resolution into a ``Graph``), ``schema`` (the spec language's JSON Schema).
"""
