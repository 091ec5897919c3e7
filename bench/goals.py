"""The goals the benchmark checks, and what a miss is reported as."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Goal:
    """One measured value against its target; ``at_least`` says which side passes."""

    what: str
    value: float
    target: float
    unit: str
    at_least: bool = False

    @property
    def met(self) -> bool:
        return self.value >= self.target if self.at_least else self.value <= self.target

    @property
    def verdict(self) -> str:
        if self.met:
            return "met"
        gap = abs(self.value - self.target)
        relative = gap / self.target * 100 if self.target else float("inf")
        unit = "percentage points" if self.unit == "%" else self.unit
        return f"**missed** by {gap:.3g} {unit} ({relative:.0f} % of the target)"

    def row(self) -> str:
        sign = "≥" if self.at_least else "≤"
        return (
            f"| {self.what} | {self.value:.3g} {self.unit} | {sign} {self.target:g} {self.unit} "
            f"| {self.verdict} |"
        )


def table(goals: list[Goal]) -> str:
    head = "| goal | measured | target | verdict |\n|---|---:|---:|---|"
    return "\n".join([head, *(goal.row() for goal in goals)])
