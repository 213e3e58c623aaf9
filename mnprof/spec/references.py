"""Checks across a whole spec: names in expressions, block references, cycles.

Done once all blocks are read: every expression names only known parameters, a
block entry names a defined block and passes known parameters (the required ones
included), and no block uses itself, directly or through others. A block
parameter that nothing in the block uses is not an error but a warning (it is
usually a typo in the expression that should have used it).
"""

from __future__ import annotations

from ..core.errors import did_you_mean
from ..core.values import MAX_NESTING
from ..model.fields import REQUIRED
from . import expr
from .document import SCOPE_NAMES, Entry, Spec


def _expr_names(entry: Entry) -> set[str]:
    names: set[str] = set()
    for value in [*entry.values.values(), entry.repeat, entry.when]:
        if expr.is_expr(value):
            names |= expr.names_in(value)
    return names


def _check_expr_names(entry: Entry, scope: set[str]) -> None:
    for key, value in [*entry.values.items(), ("repeat", entry.repeat), ("when", entry.when)]:
        if expr.is_expr(value):
            unknown = expr.names_in(value) - scope - set(expr.FUNCTIONS)
            if unknown:
                raise entry.field_error(key, f"unknown name {sorted(unknown)[0]!r} in "
                                             f"{value!r:.80}; known: {', '.join(sorted(scope))}")


def _check_block_uses(spec: Spec, entries: tuple[Entry, ...]) -> None:
    for entry in entries:
        if entry.block is None:
            continue
        block = spec.blocks.get(entry.block)
        if block is None:
            hint = did_you_mean(entry.block, spec.blocks)
            raise entry.field_error("block", f"undefined block {entry.block!r:.60}{hint}; "
                                             f"defined: {', '.join(spec.blocks) or 'none'}")
        for key in entry.values:
            if key not in block.params:
                hint = did_you_mean(key, block.params)
                raise entry.field_error(key, f"block {block.name} has no parameter "
                                             f"{key!r}{hint}; parameters: "
                                             f"{', '.join(block.params) or 'none'}")
        for pname, default in block.params.items():
            if default is REQUIRED and pname not in entry.values:
                raise entry.where.error(f"required by block {block.name}", pname)


def _check_cycles(spec: Spec) -> None:
    """No block uses itself, and blocks nest at most MAX_NESTING deep (iterative DFS)."""
    uses = {name: [e.block for e in b.layers if e.block is not None]
            for name, b in spec.blocks.items()}
    depth: dict[str, int] = {}          # done: the deepest chain of blocks below
    for root in spec.blocks:
        if root in depth:
            continue
        path, stack = [root], [iter(uses[root])]
        on_path = {root}
        while stack:
            child = next(stack[-1], None)
            if child is None:
                done = path.pop()
                on_path.discard(done)
                stack.pop()
                depth[done] = 1 + max((depth[c] for c in uses[done]), default=0)
                if depth[done] > MAX_NESTING:
                    raise spec.blocks[done].where.error(
                        f"blocks nest more than {MAX_NESTING} deep below {done!r}")
                continue
            if child in on_path:
                cycle = " -> ".join([*path[path.index(child):], child])
                raise spec.blocks[child].where.error(f"recursive block reference: {cycle}")
            if child not in depth:
                path.append(child)
                on_path.add(child)
                stack.append(iter(uses[child]))


def check_references(spec: Spec) -> list[str]:
    """Raise on the first broken reference; return warnings (unused block parameters)."""
    for entry in spec.layers:
        _check_expr_names(entry, set(SCOPE_NAMES))
    warnings = []
    for block in spec.blocks.values():
        scope = set(block.params) | SCOPE_NAMES
        used: set[str] = set()
        for entry in block.layers:
            _check_expr_names(entry, scope)
            used |= _expr_names(entry)
        for pname in block.params:
            if pname not in used:
                line = f":{block.where.line}" if block.where.line else ""
                warnings.append(f"{spec.file}{line}: {block.where.path}.params.{pname}: "
                                f"parameter {pname!r} is declared but no layer of block "
                                f"{block.name} uses it")
    _check_block_uses(spec, spec.layers)
    for block in spec.blocks.values():
        _check_block_uses(spec, block.layers)
    _check_cycles(spec)
    return warnings
