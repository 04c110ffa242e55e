"""The hierarchy of one plan version as a tree: parents and children, subtree totals of the
planned amounts, and the effective priority (a priority action makes its action plan and its
objective priority, when the organisation's propagation rule says "up")."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable, Mapping


@dataclass
class Tree:
    items: dict[int, Mapping[str, Any]]  # item id → row (id, code, kind, parent_id, priority, …)
    children: dict[int | None, list[int]]  # parent id (None: the top) → child ids in file order

    @classmethod
    def of(cls, rows: Iterable[Mapping[str, Any]]) -> Tree:
        items = {r["id"]: r for r in rows}
        children: dict[int | None, list[int]] = defaultdict(list)
        for row in items.values():
            children[row["parent_id"]].append(row["id"])
        return cls(items, dict(children))

    def kids(self, item_id: int | None) -> list[int]:
        return self.children.get(item_id, [])

    def ancestors(self, item_id: int) -> list[int]:
        """Parent first, up to the top."""
        out: list[int] = []
        parent = self.items[item_id]["parent_id"]
        while parent is not None and parent in self.items and parent not in out:
            out.append(parent)
            parent = self.items[parent]["parent_id"]
        return out

    def descendants(self, item_id: int) -> list[int]:
        out: list[int] = []
        stack = list(reversed(self.kids(item_id)))
        while stack:
            current = stack.pop()
            out.append(current)
            stack.extend(reversed(self.kids(current)))
        return out

    def top_of(self, item_id: int) -> int:
        chain = self.ancestors(item_id)
        return chain[-1] if chain else item_id

    def effective_priority(self, propagation: str) -> dict[int, bool]:
        """item id → priority as shown: set on the item, or (rule "up") on any descendant."""
        flags = {i: bool(r["priority"]) for i, r in self.items.items()}
        if propagation == "up":
            for item_id, row in self.items.items():
                if row["priority"]:
                    for ancestor in self.ancestors(item_id):
                        flags[ancestor] = True
        return flags

    def subtree_totals(self, amounts: Mapping[int, float]) -> dict[int, float]:
        """item id → its own planned amount plus that of everything under it."""
        totals: dict[int, float] = {}

        def total(item_id: int) -> float:
            if item_id not in totals:
                totals[item_id] = amounts.get(item_id, 0.0) + sum(total(k) for k in self.kids(item_id))
            return totals[item_id]

        for item_id in self.items:
            total(item_id)
        return totals
