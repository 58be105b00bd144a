"""The ``.symbi`` language: agent and schedule definitions, parsed and validated.

>>> doc = parse_text('agent hello { command: "echo hi" }')
>>> doc.agents[0].argv
('echo', 'hi')
"""

from __future__ import annotations

from symbiont.core.errors import DslError
from symbiont.dsl._loader import parse_file, parse_text
from symbiont.dsl._templates import template_vars
from symbiont.dsl.model import AgentSpec, Document, DslWarning, ScheduleSpec

__all__ = (
    "AgentSpec",
    "Document",
    "DslError",
    "DslWarning",
    "ScheduleSpec",
    "parse_file",
    "parse_text",
    "template_vars",
)
