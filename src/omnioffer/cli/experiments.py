"""`omnioffer experiments results ID`: an experiment's results from exported files
(`--decisions` JSON Lines of export-decisions, `--events` of export-events, the
definitions from `--experiments` TOML) or straight from the store (`--store`). The
numbers are jobs/experiment_results.py's, the same as the results route's."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from omnioffer.cli.args import Subparsers
from omnioffer.errors import UsageError

if TYPE_CHECKING:
    from omnioffer.contracts.experiment_results import ArmMetrics, ExperimentResults
    from omnioffer.contracts.statistics import Effect


def positive_days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of days, got {text!r}") from None
    if not 0 < value <= 365:
        raise argparse.ArgumentTypeError(f"expected days in (0, 365], got {value}")
    return value


def _results(args: argparse.Namespace) -> ExperimentResults:
    import asyncio

    from omnioffer.cli.store import configured_store
    from omnioffer.contracts.experiment_results import Query
    from omnioffer.decide.experiment_defs import load_experiments_file
    from omnioffer.jobs import experiment_inputs as inputs
    from omnioffer.jobs.experiment_results import experiment_results

    query = Query(mode=args.mode, channel=args.channel, attribution_days=args.attribution_days)
    files = args.decisions is not None or args.events is not None
    if files:
        if args.decisions is None or args.events is None or args.experiments is None:
            raise UsageError("results from files need --decisions, --events and --experiments")
        experiment = inputs.find_experiment(
            load_experiments_file(args.experiments, args.channels), args.id
        )
        decisions = inputs.read_decisions_file(args.decisions)
        events = inputs.read_events_path(args.events)
        return experiment_results(experiment, decisions, events, query)
    store = configured_store(args.store, must_exist=True)
    if store is None:
        raise UsageError("pass --decisions/--events/--experiments files, or --store URL")

    async def go() -> ExperimentResults:
        try:
            return await inputs.results_from_store(store, args.id, query)
        finally:
            await store.close()

    return asyncio.run(go())


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:+.2f}%"


def _lift_line(metric: str, e: Effect) -> str:
    if e.lift is None:
        return f"    {metric}: no lift ({e.note})  [{e.method}]"
    ci = "" if e.ci_low is None else f" [{_pct(e.ci_low)}, {_pct(e.ci_high)}]"
    p = "" if e.p_value is None else f" p={e.p_value:.4g}"
    unit = "points" if e.scale == "absolute" else "relative"
    return f"    {metric}: {_pct(e.lift)} ({unit}){ci}{p}  [{e.method}]"


def _arm_line(name: str, m: ArmMetrics) -> str:
    return (f"  {name}: exposed {m.exposed_customers}, decisions {m.decisions}, "
            f"impressions {m.impressions}, clicks {m.clicks}, redemptions {m.redemptions}, "
            f"response rate {m.response_rate:.4f}, "
            f"revenue/exposed {m.revenue_per_exposed:.2f}")  # fmt: skip


def print_results(r: ExperimentResults, out: TextIO = sys.stdout) -> None:
    channel = f", channel {r.channel}" if r.channel else ""
    window = f"attribution {r.attribution_days:g} days"
    print(f"experiment {r.experiment_id} ({r.mode}{channel}, {window}; "
          f"{r.decisions_read} decisions, {r.events_read} events read)", file=out)  # fmt: skip
    for v in r.variants:
        print(_arm_line(v.name + (" (control)" if v.control else ""), v.metrics), file=out)
        for metric, e in v.lift.items():
            print(_lift_line(metric, e), file=out)
    if r.srm is not None:
        flag = "MISMATCH" if r.srm.mismatch else "ok"
        print(f"  sample ratio: {flag} (p={r.srm.p_value:.4g}) [{r.srm.method}]", file=out)
    if r.fdr is not None:
        print(f"  significant after {r.fdr.method} (q={r.fdr.q}): "
              f"{', '.join(r.fdr.rejected) or 'none'}", file=out)  # fmt: skip
    if r.holdout is not None:
        print(_arm_line("holdout", r.holdout.held_out), file=out)
        for metric, e in r.holdout.lift.items():
            print(_lift_line(metric, e), file=out)


def cmd_results(args: argparse.Namespace) -> int:
    results = _results(args)
    if args.json:
        import msgspec

        sys.stdout.write(msgspec.json.encode(results).decode() + "\n")
    else:
        print_results(results)
    return 0


def add_experiments(sub: Subparsers) -> None:
    p = sub.add_parser("experiments", help="experiment results")
    inner = p.add_subparsers(dest="experiments_command", required=True, metavar="SUBCOMMAND")
    r = inner.add_parser("results", help="an experiment's results per variant, with lifts")
    r.add_argument("id", help="the experiment id")
    r.add_argument("--decisions", type=Path, default=None, help="decision log (.jsonl)")
    r.add_argument("--events", type=Path, default=None, help="events file or its folder")
    r.add_argument("--experiments", type=Path, default=None, help="experiments TOML file")
    r.add_argument("--store", default=None, help="read the store instead of files")
    r.add_argument("--mode", choices=("sequential", "fixed"), default="sequential")
    r.add_argument("--channel", default=None, help="only this channel's decisions")
    r.add_argument("--attribution-days", type=positive_days, default=7.0)
    r.add_argument("--json", action="store_true", help="the results route's JSON")
    r.set_defaults(handler=cmd_results)


def cmd_evaluate_policy(args: argparse.Namespace) -> int:
    import msgspec

    from omnioffer.jobs import experiment_inputs as inputs
    from omnioffer.jobs.evaluate_policy import evaluate_policy, version_scores

    levers: dict[str, float] = {}
    if args.policy is not None:
        from omnioffer.decide.policy import load_policy
        from omnioffer.settings import load_settings

        levers = dict(load_policy(load_settings(args.policy).policy).levers)
    scores = version_scores(args.models, args.version, levers)
    value = evaluate_policy(inputs.read_decisions_file(args.decisions),
                            inputs.read_events_path(args.events), scores,
                            version=args.version)  # fmt: skip
    if args.json:
        sys.stdout.write(msgspec.json.encode(value).decode() + "\n")
        return 0
    print(f"candidate {value.version}: {value.decisions} logged decisions, {value.matched} "
          "with the candidate's offer at rank 1; "
          f"logged value {value.logged_value:.4f}")  # fmt: skip
    for e in value.estimates:
        weights = f"effective n {e.effective_sample_size:.0f}, max weight {e.max_weight:.1f}"
        print(f"  {e.method}: {e.value:.4f} [{e.ci_low:.4f}, {e.ci_high:.4f}] ({weights})")
    return 0


def add_evaluate_policy(sub: Subparsers) -> None:
    p = sub.add_parser(
        "evaluate-policy", help="value a candidate policy from logged decisions (IPS, SNIPS, DR)"
    )
    p.add_argument("--decisions", type=Path, required=True, help="decision log (.jsonl)")
    p.add_argument("--events", type=Path, required=True, help="events file or its folder")
    p.add_argument("--models", type=Path, default=Path("models"), help="default models/")
    p.add_argument("--version", required=True, help="the candidate's model version")
    p.add_argument("--policy", type=Path, default=None, help="settings file: its [policy] levers")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_evaluate_policy)
