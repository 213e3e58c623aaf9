"""Stage 7, gate: budgets and the check that holds a model to them (``mnprof check``).

``amounts`` (the numbers budgets are written in), ``budget`` (the file format),
``baseline`` (saved reports that relative limits compare with), ``check`` (the
engine), ``report`` (json, tables, JUnit), ``schema`` (the budget JSON Schema).
"""
