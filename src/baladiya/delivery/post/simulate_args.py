"""Arguments of the sandbox simulation, shared by `manage post_simulate` and `baladiya post
simulate`. No Django import here: the CLI builds its parser before Django is set up."""

from __future__ import annotations

from typing import Any

OUTCOMES = ("deliver", "return", "transit")


def add_simulate_arguments(parser: Any) -> None:
    parser.add_argument("tracking", nargs="*", help="tracking numbers (default: every open one)")
    parser.add_argument(
        "--outcome", choices=["auto", *OUTCOMES], default="auto", help="what happens"
    )
    parser.add_argument(
        "--older-than", type=float, default=None, metavar="HOURS", help="only older parcels"
    )
    parser.add_argument("--duplicate", action="store_true", help="send each callback twice")
    parser.add_argument("--reverse", action="store_true", help="queue the last event first")
    parser.add_argument("--chaos", action="store_true", help="random duplicates and reorders")
    parser.add_argument("--seed", type=int, default=None, help="random seed (repeatable runs)")
    parser.add_argument(
        "--flush", action="store_true", help="deliver the queued callbacks now (one outbox pass)"
    )
