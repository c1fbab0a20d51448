"""Values a ComfyUI widget takes from a link: primitives, and switches and math on constants, folded to one value."""

from __future__ import annotations

import ast
import math
import operator
from typing import Any

PRIMITIVES = {"PrimitiveNode", "PrimitiveInt", "PrimitiveFloat", "PrimitiveString", "PrimitiveStringMultiline",
              "PrimitiveBoolean"}
SWITCHES = {"ComfySwitchNode"}
MATH = {"SimpleMath+": ("value", ("a", "b", "c")), "MathExpression|pysssss": ("expression", ("a", "b", "c"))}
FOLDABLE = PRIMITIVES | SWITCHES | set(MATH)
_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
        ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow, ast.USub: operator.neg,
        ast.UAdd: operator.pos}
_FUNCS = {"min": min, "max": max, "abs": abs, "round": round, "int": int, "float": float, "floor": math.floor,
          "ceil": math.ceil}


class NotConstant(Exception):
    """The value depends on something that is not a constant (a node output, an unknown name)."""


def evaluate(expression: str, names: dict[str, Any]) -> Any:
    """A math expression over constants: + - * / // % **, min, max, abs, round, int, float, floor, ceil."""
    if not isinstance(expression, str) or len(expression) > 500:
        raise NotConstant("not an expression")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except (SyntaxError, ValueError):
        raise NotConstant(f"cannot read the expression {expression!r}") from None

    def walk(node):
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value,
                                                                                                        bool):
            return node.value
        if isinstance(node, ast.Name) and node.id in names:
            return names[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            left, right = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Pow) and (abs(right) > 64 or abs(left) > 1e6):
                raise NotConstant("power too large")
            return _OPS[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](walk(node.operand))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCS \
                and not node.keywords and len(node.args) <= 4:
            return _FUNCS[node.func.id](*(walk(a) for a in node.args))
        raise NotConstant(f"{expression!r} uses something other than numbers and a, b, c")

    try:
        value = walk(tree)
    except (ArithmeticError, ValueError, TypeError, RecursionError) as exc:
        raise NotConstant(f"{expression!r}: {exc}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise NotConstant(f"{expression!r} is not a finite number")
    return value
