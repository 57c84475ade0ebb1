"""Keys: sala's own (published at /lti/jwks, rotated, the old key still published for a grace
period) and the platforms' (fetched again when a token names a kid sala has not seen, which is
how a platform's rotation reaches sala, but never more than once per platform every few
seconds however many such tokens arrive)."""

from __future__ import annotations

import time
from typing import Any

import jwt
from jwt import PyJWK

from sala.clock import ManualClock
from sala.lti.keys import RETIRED_GRACE_DAYS, ToolKeys
from tests.lti.conftest import LtiBed
from tests.support.lms.core import LEARNER, SigningKey


async def _jwks(lti: LtiBed) -> dict[str, Any]:
    response = await lti.sala.http.get(lti.sala.base + "/lti/jwks")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document: dict[str, Any] = response.json()
    return document


def _verify(token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """What a platform does with sala's JWT: pick the key by kid from the JWKS, verify."""
    kid = jwt.get_unverified_header(token)["kid"]
    entry = next(k for k in jwks["keys"] if k["kid"] == kid)
    claims: dict[str, Any] = jwt.decode(
        token, PyJWK(entry).key, algorithms=["RS256"], audience="https://lms.test"
    )
    return claims


def _tool_keys(lti: LtiBed, rotate_days: float = 90) -> ToolKeys:
    # Another handle on the same table, as a second sala process (or the CLI) would have.
    return ToolKeys(lti.sala.services.db, lti.clock, rotate_days)


async def test_sala_publishes_an_rsa_signing_key_and_signs_with_it(lti: LtiBed) -> None:
    jwks = await _jwks(lti)

    assert len(jwks["keys"]) == 1
    key = jwks["keys"][0]
    assert (key["kty"], key["alg"], key["use"]) == ("RSA", "RS256", "sig")
    assert key["kid"] and "d" not in key and "p" not in key  # public parts only
    token = await _tool_keys(lti).sign({"aud": "https://lms.test", "x": 1}, {"typ": "JWT"})
    assert jwt.get_unverified_header(token)["kid"] == key["kid"]
    assert _verify(token, jwks)["x"] == 1


async def test_after_rotation_the_new_key_signs_and_both_are_published(lti: LtiBed) -> None:
    keys = _tool_keys(lti)
    old = (await _jwks(lti))["keys"][0]["kid"]
    old_token = await keys.sign({"aud": "https://lms.test", "n": "old"})

    new = await keys.rotate()

    jwks = await _jwks(lti)
    assert new != old
    assert [k["kid"] for k in jwks["keys"]] == [new, old]
    token = await keys.sign({"aud": "https://lms.test", "n": "new"})
    assert jwt.get_unverified_header(token)["kid"] == new
    # A platform holding a token signed before the rotation still verifies it.
    assert _verify(token, jwks)["n"] == "new"
    assert _verify(old_token, jwks)["n"] == "old"


async def test_keys_rotate_on_their_own_and_retired_ones_leave_after_the_grace_period(
    lti: LtiBed, clock: ManualClock
) -> None:
    keys = _tool_keys(lti, rotate_days=30)
    first = jwt.get_unverified_header(await keys.sign({"aud": "x"}))["kid"]

    clock.advance(hours=24 * 30)
    second = jwt.get_unverified_header(await keys.sign({"aud": "x"}))["kid"]
    assert second != first
    assert [k["kid"] for k in (await keys.jwks())["keys"]] == [second, first]

    clock.advance(hours=24 * RETIRED_GRACE_DAYS + 1)
    assert [k["kid"] for k in (await keys.jwks())["keys"]] == [second]


async def test_a_platform_key_rotation_is_picked_up_by_the_next_launch(
    lti: LtiBed, clock: ManualClock
) -> None:
    first = await lti.launch(LEARNER)
    assert first.session is not None
    assert lti.sim.jwks_requests == 1

    lti.sim.rotate_key()  # the old key is gone from the platform's JWKS
    clock.advance(seconds=11)
    second = await lti.launch(LEARNER)

    assert second.session is not None, second.visit.final.text
    assert lti.sim.jwks_requests == 2
    # Known keys are not fetched again.
    third = await lti.launch(LEARNER)
    assert third.session is not None
    assert lti.sim.jwks_requests == 2


async def test_tokens_with_unknown_kids_cannot_make_sala_refetch_the_keys_at_will(
    lti: LtiBed, clock: ManualClock
) -> None:
    await lti.launch(LEARNER)
    assert lti.sim.jwks_requests == 1

    for _ in range(6):
        refused = await lti.launch(LEARNER, sign_with=SigningKey.new())
        assert refused.visit.final.headers["x-lti-refusal"] == "unknown_key"
    # The keys were fetched moments ago: none of them is worth another fetch.
    assert lti.sim.jwks_requests == 1

    # A real rotation right after that: refused until the interval passed, then accepted.
    lti.sim.rotate_key()
    too_soon = await lti.launch(LEARNER)
    assert too_soon.visit.final.headers["x-lti-refusal"] == "unknown_key"
    clock.advance(seconds=11)
    later = await lti.launch(LEARNER)
    assert later.session is not None, later.visit.final.text
    assert lti.sim.jwks_requests == 2

    # Past the interval, a flood of unknown kids costs one fetch, not one each.
    clock.advance(seconds=11)
    for _ in range(4):
        await lti.launch(LEARNER, sign_with=SigningKey.new())
    assert lti.sim.jwks_requests == 3


async def test_an_unreachable_key_set_refuses_the_launch_and_is_not_hammered(
    lti: LtiBed, clock: ManualClock
) -> None:
    lti.sim.jwks_status = 503

    refused = await lti.launch(LEARNER)
    _ = await lti.launch(LEARNER)

    final = refused.visit.final
    assert final.status_code == 502
    assert final.headers["x-lti-refusal"] == "keys_unavailable"
    assert "HTTP 503" in final.text and "JWKS URL" in final.text
    assert lti.sim.jwks_requests == 1  # the second launch did not try again so soon
    lti.sim.jwks_status = 200
    clock.advance(seconds=11)
    assert (await lti.launch(LEARNER)).session is not None


async def test_keys_in_hand_still_verify_when_a_refresh_fails(
    lti: LtiBed, clock: ManualClock
) -> None:
    assert (await lti.launch(LEARNER)).session is not None
    lti.sim.jwks_status = 503
    clock.advance(hours=1, seconds=1)  # the cached set is due for a refresh

    # (exp pushed past sala's moved clock: only the refresh is under test)
    later = await lti.launch(LEARNER, claims={"exp": int(time.time()) + 7200})

    assert later.session is not None, later.visit.final.text
    assert lti.sim.jwks_requests == 2
