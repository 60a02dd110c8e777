"""Fragmented identities: cookies, devices, loyalty cards, email hashes, duplicate accounts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from training.simulate.events import CH, Events
from training.simulate.world import PURCHASE_MIX, Customers

I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]
DUPLICATE_SHARE = 0.015


@dataclass(frozen=True)
class IdentityPlan:
    cookies: npt.NDArray[np.uint64]  # C x 2 (second used by 30%)
    two_cookies: B
    device: npt.NDArray[np.uint64]
    has_device: B
    card: npt.NDArray[np.uint64]
    has_card: B
    email: npt.NDArray[np.uint64]
    has_email: B
    duplicate_of: I64  # index of the primary customer of each secondary account
    secondary: I64  # C: secondary account index (>= C) or -1


def plan_identities(rng: np.random.Generator, cust: Customers) -> IdentityPlan:
    n = cust.archetype.size
    mix = PURCHASE_MIX[cust.archetype]
    dup = np.flatnonzero(rng.random(n) < DUPLICATE_SHARE)
    secondary = np.full(n, -1, dtype=np.int64)
    secondary[dup] = n + np.arange(dup.size)
    return IdentityPlan(
        cookies=rng.integers(1, 2**63, (n, 2), dtype=np.uint64),
        two_cookies=rng.random(n) < 0.3,
        device=rng.integers(1, 2**63, n, dtype=np.uint64),
        has_device=(mix[:, 1] > 0) | (rng.random(n) < 0.1),
        card=rng.integers(1, 2**63, n, dtype=np.uint64),
        has_card=(mix[:, 2] > 0.05) & (rng.random(n) < 0.8),
        email=rng.integers(1, 2**63, n, dtype=np.uint64),
        has_email=cust.consent_email | (rng.random(n) < 0.5) | (secondary >= 0),
        duplicate_of=dup.astype(np.int64),
        secondary=secondary,
    )


def event_identity(rng: np.random.Generator, ids: IdentityPlan, ev: Events) -> pl.DataFrame:
    """customer_id / id_type / id_value of each event, as a channel would record it."""
    n = len(ev)
    c = ev.cust
    is_web, is_app, is_store = (ev.channel == CH[k] for k in ("web", "app", "store"))
    buying = np.isin(ev.etype, [2, 3, 6])  # purchase, return, offer_redeem
    logged_in = buying | (rng.random(n) < 0.45)
    which = (ids.two_cookies[c] & (rng.random(n) < 0.5)).astype(np.int64)
    cookie = ids.cookies[c, which]
    card_ok = is_store & ids.has_card[c]
    anon_store = is_store & ~ids.has_card[c] & np.isin(ev.etype, [2, 3])
    account = np.where(is_app & (ids.secondary[c] >= 0), ids.secondary[c], c)
    with_cid = np.where(is_web | is_app, logged_in, ~(is_store & (card_ok | anon_store)))
    id_type = np.select(
        [is_web, is_app & ids.has_device[c], is_app, card_ok, anon_store],
        ["cookie", "device_id", "cookie", "loyalty_card", "payment_token"],
        default="",
    )
    value = np.select(
        [is_web | (is_app & ~ids.has_device[c]), is_app, card_ok],
        [cookie, ids.device[c], ids.card[c]],
        default=0,
    )
    token = rng.integers(1, 2**63, n, dtype=np.uint64)
    value = np.where(anon_store, token, value).astype(np.uint64)
    prefix = pl.Series(id_type).replace(
        {"cookie": "ck-", "device_id": "dv-", "loyalty_card": "lc-", "payment_token": "pt-", "": ""}
    )
    frame = pl.DataFrame(
        {
            "account": account,
            "with_cid": with_cid,
            "id_type": id_type,
            "prefix": prefix,
            "value": value,
        }
    )
    return frame.select(
        customer_id=pl.when(pl.col("with_cid")).then(_cid(pl.col("account"))),
        id_type=pl.when(pl.col("id_type") != "").then(pl.col("id_type")),
        id_value=pl.when(pl.col("id_type") != "").then(
            pl.col("prefix") + pl.col("value").cast(pl.String)
        ),
    )


def _cid(index: pl.Expr) -> pl.Expr:
    return pl.lit("c") + index.cast(pl.String).str.zfill(7)


def identities_table(rng: np.random.Generator, ids: IdentityPlan) -> pl.DataFrame:
    """The links a CRM knows: most, not all, identifiers; duplicates share an email hash."""
    n = ids.has_card.size
    idx = np.arange(n)
    parts = []

    def add(owner: I64, id_type: str, prefix: str, values: npt.NDArray[np.uint64]) -> None:
        frame = pl.DataFrame({"c": owner, "v": values}).with_columns(id_type=pl.lit(id_type))
        parts.append(frame.with_columns(id_value=pl.lit(prefix) + pl.col("v").cast(pl.String)))

    def add_mask(mask: B, id_type: str, prefix: str, values: npt.NDArray[np.uint64]) -> None:
        add(idx[mask], id_type, prefix, values[mask])

    add_mask(rng.random(n) < 0.8, "cookie", "ck-", ids.cookies[:, 0])
    add_mask(ids.two_cookies & (rng.random(n) < 0.6), "cookie", "ck-", ids.cookies[:, 1])
    add_mask(ids.has_device & (rng.random(n) < 0.9), "device_id", "dv-", ids.device)
    add_mask(ids.has_card, "loyalty_card", "lc-", ids.card)
    add_mask(ids.has_email, "email_hash", "eh-", ids.email)
    dup = ids.duplicate_of
    add(ids.secondary[dup], "email_hash", "eh-", ids.email[dup])
    table = pl.concat([p.select("c", "id_type", "id_value") for p in parts])
    return table.select(customer_id=_cid(pl.col("c")), id_type="id_type", id_value="id_value").sort(
        "customer_id", "id_type", "id_value"
    )
