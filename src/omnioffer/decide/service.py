"""The decision service: the named stages of the decision path, wired to the store.

Each stage is a module of decide/ named for it: resolve (identity and the one fetch)
-> eligibility (+ contact, budget) -> score (ONNX propensity) -> arbitrate -> stickiness ->
diversity -> explain, with fallback for unknown customers, ingest for writes, and
erasure and consent for the customer's privacy. The
stages know no HTTP: they take and return the contract structs of contracts/http.py
and raise omnioffer.errors; api/ maps both to HTTP. Any store
failure on the read path degrades to the popularity fallback; writes (events,
feedback) are refused with StoreUnavailable (503) rather than dropped.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence

import msgspec
import numpy as np
import numpy.typing as npt

from omnioffer.contracts.erasure import anonymous_id
from omnioffer.contracts.http import (
    ConsentResponse,
    DecisionRequest,
    DecisionResponse,
    ErasureResponse,
    EventsRequest,
    EventsResponse,
    ExperimentOut,
    ExperimentsOut,
    FeedbackRequest,
    FeedbackResponse,
    HoldoutOut,
    ItemOut,
    OfferOut,
    PolicyReloaded,
    Readiness,
    RecommendationRequest,
    RecommendationResponse,
    SimilarResponse,
    Who,
)
from omnioffer.decide import consent, erasure, fallback
from omnioffer.decide.arbitrate import arbitrate
from omnioffer.decide.budget import Budgets
from omnioffer.decide.diversity import diverse
from omnioffer.decide.eligibility import candidate_offers
from omnioffer.decide.experiment_admin import ExperimentAdmin
from omnioffer.decide.experiment_source import ExperimentSource
from omnioffer.decide.experiment_stage import Policies, Treatment, logged, treatment
from omnioffer.decide.explain import explain
from omnioffer.decide.exploration import draw, propensities
from omnioffer.decide.ingest import MAX_SKEW_S, feedback_event, to_stored
from omnioffer.decide.policy import Policy
from omnioffer.decide.policy_source import PolicySource
from omnioffer.decide.resolve import Context, Resolver, check_channel
from omnioffer.decide.score import offer_propensity, score_items
from omnioffer.decide.signals import Signals
from omnioffer.decide.stickiness import Served, decode_served, keep_top
from omnioffer.decide.why_not import Asked, empty_reasons, verdicts
from omnioffer.errors import InputError, NotFound
from omnioffer.features.candidates import cosines
from omnioffer.store.base import FeatureStore, RecordedDecision, StoreError, StoreUnavailable
from omnioffer.version.holder import ModelHolder

log = logging.getLogger("omnioffer.serve")
F32 = npt.NDArray[np.float32]


class DecisionService:
    def __init__(
        self,
        store: FeatureStore,
        holder: ModelHolder,
        *,
        channels: Sequence[str],
        policy: Policy | PolicySource,
        clock: Callable[[], float],
        store_timeout_s: float,
        store_label: str = "the feature store",
        max_skew_s: float = MAX_SKEW_S,
        experiments: ExperimentSource | None = None,
        count_log_failure: Callable[[], None] = lambda: None,
    ) -> None:
        """`experiments`: the definitions followed in the store (None: none run);
        `count_log_failure`: called for each decision whose record the store lost."""
        self.store, self.holder, self.channels = store, holder, tuple(channels)
        self.policies = policy if isinstance(policy, PolicySource) else PolicySource(policy)
        self.clock, self.timeout, self.max_skew_s = clock, store_timeout_s, max_skew_s
        self.resolver = Resolver(store, holder, clock=clock, store_timeout_s=store_timeout_s,
                                 store_label=store_label)  # fmt: skip
        self.budgets = Budgets(store, timeout_s=store_timeout_s)
        self.experiments = experiments or ExperimentSource(
            store, poll_s=float("inf"), timeout_s=store_timeout_s
        )
        self.count_log_failure = count_log_failure
        self.admin = ExperimentAdmin(self.experiments, holder, self.channels)
        self._policies = Policies()

    # --- endpoints -------------------------------------------------------------
    async def decide(self, request: DecisionRequest) -> DecisionResponse:
        channel = check_channel(request.channel, self.channels)
        ctx = await self.resolver.context(request)
        model, h = ctx.model, ctx.history
        t = await self._treatment(ctx, request, channel)
        policy = t.policy  # one policy for the whole decision, even during a reload
        offers, contacts = candidate_offers(model.data, h, channel, ctx.who, policy)
        if spent := await self.budgets.spent(policy):
            catalog = model.data.catalog.offers
            offers = [k for k in offers if catalog[k].offer_id not in spent]
        eligible = len(offers)
        if t.strategy == "none":
            offers = []
        if ctx.fallback is None and t.strategy == "ranker":
            basis = "model"
            propensity = self._propensity(ctx, offers, channel)
        else:
            propensity = fallback.popular_propensity(model.data, offers, channel)
            basis = f"popular on {channel}"
        cart = request.context.cart if request.context else []
        signals = Signals.of(h, model.data, policy, cart)
        ranked = arbitrate(offers, propensity, model.data, channel=channel, policy=policy,
                           signals=signals)  # fmt: skip
        every = keep_top(ranked, ctx.last, ctx.marker, h.now, policy)
        ranked = diverse(every, policy.max_per_category, request.k)
        decision_id = uuid.uuid4().hex
        epsilon = 1.0 if t.strategy == "random_eligible" else t.exploration
        position = {id(r): i for i, r in enumerate(every)}
        greedy = [position[id(r)] for r in ranked]
        slate = draw(greedy, len(every), request.k, epsilon, decision_id)
        if slate.explored:
            ranked = [every[i] for i in slate.order]
            basis = "explore" if t.strategy != "random_eligible" else "random eligible"
        asked = None
        if request.explain or not ranked:
            asked = Asked(model=model.data, channel=channel, now=h.now, who=ctx.who,
                          contacts=contacts, policy=policy, spent=spent)  # fmt: skip
        explained = verdicts(asked, request.explain, every, ranked) if asked else []
        ranked = explain(ranked, signals, basis)
        out = [
            OfferOut(offer_id=r.offer.offer_id, title=r.offer.title, rank=n,
                     propensity=round(r.propensity, 6), value=r.value,
                     priority=round(r.priority, 6), reasons=r.reasons)
            for n, r in enumerate(ranked, start=1)
        ]  # fmt: skip
        empty = empty_reasons(asked) if asked is not None and not out else {}
        if t.strategy == "none" and eligible:
            empty = {"holdout" if t.assignment.held_out else "experiment": eligible}
        if not request.dry_run:  # a preview changes nothing: neither sticky nor counted
            down = ctx.fallback == "store_unavailable"  # count it here only, at no wait
            await self.budgets.served((o.offer_id for o in out), policy, share=not down)
            record = logged(t, decision_id=decision_id, ts=h.now, customer_id=ctx.customer_id,
                            channel=channel, model_version=model.name, fallback=ctx.fallback,
                            explored=slate.explored, eligible=len(every), offers=out,
                            propensities=propensities(slate.order, greedy, len(every),
                                                      epsilon))  # fmt: skip
            served = Served(channel, [o.offer_id for o in out], h.now, ctx.marker)
            await self._record(decision_id, ctx, t, msgspec.msgpack.encode(served), record)
        return DecisionResponse(decision_id=decision_id, customer_id=ctx.customer_id,
                                channel=channel, model_version=model.name, offers=out,
                                fallback=ctx.fallback, dry_run=request.dry_run,
                                explained=explained, empty_reasons=empty,
                                experiments=t.exposures,
                                holdout=t.assignment.held_out)  # fmt: skip

    async def _treatment(self, ctx: Context, who: Who, channel: str) -> Treatment:
        subject = ctx.customer_id
        if subject is None:  # the store is down: hash the identifier itself
            subject = anonymous_id(who.id_type or "", who.id_value or "")
        down = ctx.fallback == "store_unavailable"
        assigner = self.experiments.assigner if down else await self.experiments.current()
        return treatment(assigner, self._policies, self.policy, subject=subject,
                         channel=channel, now=ctx.history.now, segment=ctx.who.segment,
                         first_touch=ctx.first_touch)  # fmt: skip

    async def _record(
        self, decision_id: str, ctx: Context, t: Treatment, payload: bytes, record: bytes
    ) -> None:
        """The feedback link, the decision-log row and a new first-touch record, in one
        round trip after the decision is made. A store that fails loses them (counted,
        logged): the decision stands."""
        if ctx.fallback == "store_unavailable":
            self.count_log_failure()  # the store is known down: not asked again
            return
        cid = ctx.customer_id
        decision = RecordedDecision(decision_id, cid, payload if cid else None, record,
                                    t.new_record if cid else None)  # fmt: skip
        try:
            await self.store.record_decision(decision)
        except StoreUnavailable as exc:  # the decision stands; its log row is lost
            self.count_log_failure()
            log.warning("could not record decision %s: %s", decision_id, exc)

    @staticmethod
    def _propensity(ctx: Context, offers: list[int], channel: str) -> F32:
        if not offers:  # nothing to score: skip the item ranker too
            return np.empty(0, dtype=np.float32)
        model, h = ctx.model, ctx.history
        # offers only read the scores of the items they cover: score just those
        covered = model.data.offer_table.items_of(offers)
        items = score_items(model, h, ctx.user, channel, only=covered)
        return offer_propensity(model, h, ctx.user, offers, channel=channel, items=items)

    async def recommend(self, request: RecommendationRequest) -> RecommendationResponse:
        channel = check_channel(request.channel, self.channels)
        ctx = await self.resolver.context(request)
        t = await self._treatment(ctx, request, channel)
        exclude = set(request.exclude)
        if t.strategy == "none":
            items = []
        elif ctx.fallback is not None or t.strategy != "ranker":
            items = fallback.popular_items(ctx.model.data, channel, request.k, exclude)
        else:
            items = self._ranked_items(ctx, channel, request.k, exclude)
        if t.new_record is not None and ctx.customer_id and ctx.fallback != "store_unavailable":
            try:
                await self.store.keep_first_touch(ctx.customer_id, t.new_record)
            except StoreUnavailable as exc:  # hashing gives the same answer until linked
                log.warning("could not keep the first touch of a recommendation: %s", exc)
        return RecommendationResponse(customer_id=ctx.customer_id, model_version=ctx.model.name,
                                      items=items, fallback=ctx.fallback,
                                      experiments=t.exposures,
                                      holdout=t.assignment.held_out)  # fmt: skip

    def _ranked_items(self, ctx: Context, channel: str, k: int, exclude: set[str]) -> list[ItemOut]:
        scored = score_items(ctx.model, ctx.history, ctx.user, channel)
        ids = ctx.model.data.catalog.item_ids
        order = np.argsort(-scored.scores, kind="stable")
        sources = scored.candidates.sources
        out = []
        for pos in order.tolist():
            item_id = ids[int(scored.candidates.items[pos])]
            if item_id in exclude:
                continue
            why = [f"from {s}" for s, flags in sources.items() if flags[pos]]
            out.append(ItemOut(item_id=item_id, score=round(float(scored.scores[pos]), 6),
                               reasons=why[:2]))  # fmt: skip
            if len(out) == k:
                break
        return out

    async def similar(self, item_id: str, k: int) -> SimilarResponse:
        model = (await self.resolver.model()).data
        idx = model.item_index.get(item_id)
        row = -1 if idx is None else int(model.cf_row_of_item[idx])
        if row < 0:
            raise NotFound(f"item {item_id!r} is unknown to model version {model.catalog.version}")
        sims = cosines(model, row)
        top = np.argsort(-sims, kind="stable")[:k]
        ids = model.catalog.item_ids
        items = [
            ItemOut(item_id=ids[int(model.item_of_cf_row[r])], score=round(float(sims[r]), 6),
                    reasons=["bought by the same customers"])
            for r in top.tolist()
        ]  # fmt: skip
        return SimilarResponse(item_id=item_id, model_version=model.catalog.version, items=items)

    async def ingest(self, request: EventsRequest) -> EventsResponse:
        stored = await to_stored(request.events, self.store, self.channels, self.clock(),
                                 self.max_skew_s)  # fmt: skip
        try:
            result = await self.store.ingest(stored)
        except StoreError as exc:
            raise InputError("$.events", str(exc)) from exc
        return EventsResponse(accepted=len(result.accepted), duplicates=len(result.duplicates))

    async def feedback(self, request: FeedbackRequest) -> FeedbackResponse:
        channel = check_channel(request.channel, self.channels)
        found = await self.store.recall_decision(request.decision_id)
        if found is None:
            raise NotFound(f"decision {request.decision_id!r} is unknown or expired")
        cid, payload = found
        served = decode_served(payload)
        if served is None or request.offer_id not in served.offers:
            raise InputError("$.offer_id", f"offer {request.offer_id!r} was not in that decision")
        stored = feedback_event(request, cid, channel, self.clock())
        result = await self.store.ingest([stored])
        return FeedbackResponse(accepted=bool(result.accepted), duplicate=bool(result.duplicates))

    async def erase_customer(self, customer_id: str) -> ErasureResponse:
        return await erasure.erase(self.store, customer_id, self.clock)

    async def set_consent(self, customer_id: str, changes: dict[str, bool]) -> ConsentResponse:
        return await consent.set_consent(self.store, customer_id, changes,
                                         channels=self.channels, clock=self.clock)  # fmt: skip

    async def readiness(self) -> Readiness:
        try:
            await asyncio.wait_for(self.store.ping(), self.timeout)
            status = "ok"
        except (StoreUnavailable, TimeoutError) as exc:  # the details are for the log only:
            log.warning("readiness: the feature store is unavailable: %s", exc)
            status = "unavailable"  # the body is public, and names no host, port or secret
        model = await self.holder.current()
        name = model.name if model else None
        return Readiness(
            ready=status == "ok" and model is not None, store=status, model_version=name
        )

    @property
    def policy(self) -> Policy:
        return self.policies.current()

    async def reload_policy(self) -> PolicyReloaded:
        policy = self.policies.reload()
        return PolicyReloaded(source=str(self.policies.path), policy=msgspec.structs.asdict(policy))

    # --- experiments (admin) ---------------------------------------------------------
    async def list_experiments(self) -> ExperimentsOut:
        return await self.admin.list()

    async def get_experiment(self, experiment_id: str) -> ExperimentOut:
        return await self.admin.get(experiment_id)

    async def put_experiment(
        self, experiment_id: str, body: bytes, if_match: str | None
    ) -> ExperimentOut:
        return await self.admin.put(experiment_id, body, if_match)

    async def stop_experiment(self, experiment_id: str, if_match: str | None) -> ExperimentOut:
        return await self.admin.stop(experiment_id, if_match)

    async def get_holdout(self) -> HoldoutOut:
        return await self.admin.holdout()

    async def put_holdout(self, body: bytes, if_match: str | None) -> HoldoutOut:
        return await self.admin.put_holdout(body, if_match)

    async def close(self) -> None:
        await self.holder.close()
        await self.store.close()
