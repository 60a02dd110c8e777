"""`GET /v1/experiments/{experiment_id}/results` (admin scope): an experiment's results
from the store's decision log and event log, through the app's ResultsSource (cached
per worker for a few seconds, jobs/results_cache.py). Bad query parameters are 400
problems naming the parameter; an unknown experiment is a 404 problem."""

from __future__ import annotations

from typing import Annotated, cast

from litestar import Controller, get
from litestar.datastructures import State
from litestar.openapi import ResponseSpec
from litestar.params import Parameter

from omnioffer.api.errors import PROBLEM_MEDIA_TYPE, Problem
from omnioffer.api.ports import ResultsSource
from omnioffer.contracts.experiment_results import ATTRIBUTION_DAYS, ExperimentResults, Mode, Query
from omnioffer.errors import DataError, InputError
from omnioffer.store.base import StoreUnavailable

RESULTS_PATH = "/v1/experiments/{experiment_id:str}/results"


def results_source(state: State) -> ResultsSource:
    source = state.get("results")
    if source is None:
        raise StoreUnavailable("experiment results need the service's store (none configured)")
    return cast("ResultsSource", source)


class ExperimentResultsController(Controller):
    tags = ("experiments",)

    @get(
        RESULTS_PATH,
        operation_id="getExperimentResults",
        summary="An experiment's results per variant: counts, lifts with CIs, SRM, holdout",
        responses={
            status: ResponseSpec(
                data_container=Problem, description=text, media_type=PROBLEM_MEDIA_TYPE,
                generate_examples=False,
            )
            for status, text in ((400, "A bad query parameter (errors[].field names it)."),
                                 (404, "No experiment with that id."),
                                 (422, "The logs cannot be read here (too long, corrupt)."),
                                 (503, "The feature store is unavailable."))
        },
    )  # fmt: skip
    async def results(
        self,
        state: State,
        experiment_id: Annotated[str, Parameter(min_length=1, max_length=64)],
        mode: Annotated[Mode, Parameter(description="sequential (default) or fixed")] = (
            "sequential"
        ),
        channel: Annotated[
            str | None, Parameter(min_length=1, max_length=64, description="one channel only")
        ] = None,
        attribution_days: Annotated[
            float, Parameter(gt=0, le=365, description="purchase attribution window, days")
        ] = ATTRIBUTION_DAYS,
    ) -> ExperimentResults:
        query = Query(mode=mode, channel=channel, attribution_days=attribution_days)
        try:
            return await results_source(state).results(experiment_id, query)
        except DataError as exc:  # a log too long to read here, or a record that is not one
            raise InputError("$", str(exc)) from exc
