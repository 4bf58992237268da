-- The purchase path in fewer round trips (docs/benchmarks.md, "Trade").
--
-- qd_issuer_purchase: the issuer simulator's authorisation of a purchase (src/issuer/simulator.ts,
-- #authorizeTx / #decide for kind 'purchase') as one statement, i.e. one transaction with the
-- card row locked, instead of BEGIN, five statements and COMMIT. The PIN is verified in the HSM
-- by the caller before the call, against the PVV / PVKI it read; the function stands back
-- (r_outcome 'retry') when the card row no longer matches what was verified (card gone, PVV or
-- PVKI changed), and the caller then runs the general path. A request key already recorded
-- returns the recorded row (r_outcome 'replay') for the caller to answer as before.
--
-- Checks, in the simulator's order and with its response codes and reasons: status (41, 43, 62),
-- expiry (54), PIN tries (75) / PIN required (55), currency (12), amount (13), funds net of
-- active holds (51), daily limit in the issuer's time zone (61); approved: one posting and the
-- balance moved by the same amount (balance = sum of postings), and the request recorded.
CREATE FUNCTION qd_issuer_purchase(
  p_key text, p_acquirer text, p_merchant text, p_terminal text, p_rrn text, p_stan text, p_received_at timestamptz,
  p_fingerprint text, p_hash text, p_amount bigint, p_currency text, p_expiry text,
  p_pin_ok boolean, p_pvv text, p_pvki integer, p_require_pin boolean,
  p_auth_code text, p_yymm text, p_time_zone text, p_max_pin_tries integer
) RETURNS TABLE (
  r_outcome text, r_code text, r_reason text, r_auth_code text, r_balance bigint,
  r_content_hash text, r_reversed boolean
)
LANGUAGE plpgsql AS $$
DECLARE
  c issuer_cards%ROWTYPE;
  q issuer_requests%ROWTYPE;
  v_code text;
  v_reason text;
  v_held bigint;
  v_used bigint;
  v_posting bigint;
  v_balance bigint;
  v_after bigint;
BEGIN
  SELECT * INTO c FROM issuer_cards WHERE pan_fingerprint = p_fingerprint FOR UPDATE;
  IF NOT FOUND OR (p_pin_ok AND (c.pvv IS DISTINCT FROM p_pvv OR c.pvki IS DISTINCT FROM p_pvki)) THEN
    RETURN QUERY SELECT 'retry'::text, NULL::text, NULL::text, NULL::text, NULL::bigint, NULL::text, NULL::boolean;
    RETURN;
  END IF;
  SELECT * INTO q FROM issuer_requests WHERE request_key = p_key FOR UPDATE;
  IF FOUND THEN
    RETURN QUERY SELECT 'replay'::text, q.response_code, q.reason, q.auth_code, q.balance_after, q.content_hash, q.reversed_at IS NOT NULL;
    RETURN;
  END IF;

  IF c.status = 'lost' THEN v_code := '41'; v_reason := 'card reported lost';
  ELSIF c.status = 'stolen' THEN v_code := '43'; v_reason := 'card reported stolen';
  ELSIF c.status = 'blocked' THEN v_code := '62'; v_reason := 'card blocked';
  ELSIF c.expiry < p_yymm THEN v_code := '54'; v_reason := 'card expired';
  ELSIF p_expiry IS NOT NULL AND p_expiry <> c.expiry THEN v_code := '54'; v_reason := 'expiry date does not match the card';
  ELSIF p_pin_ok AND c.pin_tries >= p_max_pin_tries THEN v_code := '75'; v_reason := 'PIN tries exceeded';
  ELSIF NOT p_pin_ok AND p_require_pin AND c.pvv IS NOT NULL THEN v_code := '55'; v_reason := 'PIN required';
  END IF;
  IF v_code IS NULL AND p_pin_ok AND c.pin_tries > 0 THEN
    UPDATE issuer_cards SET pin_tries = 0 WHERE card_id = c.card_id;
  END IF;
  IF v_code IS NULL THEN
    IF p_currency <> c.currency THEN v_code := '12'; v_reason := 'currency differs from the card account';
    ELSIF p_amount <= 0 THEN v_code := '13'; v_reason := 'amount must be positive';
    END IF;
  END IF;
  IF v_code IS NULL THEN
    SELECT coalesce(sum(amount), 0) INTO v_held FROM issuer_holds WHERE card_id = c.card_id AND status = 'active';
    IF p_amount > c.balance - v_held THEN v_code := '51'; v_reason := 'insufficient funds';
    ELSIF c.daily_limit IS NOT NULL THEN
      SELECT coalesce((SELECT sum(-p.amount) FROM issuer_postings p
                        WHERE p.card_id = c.card_id AND p.kind IN ('purchase', 'completion')
                          AND p.posted_at >= (date_trunc('day', now() AT TIME ZONE p_time_zone) AT TIME ZONE p_time_zone)
                          AND NOT EXISTS (SELECT 1 FROM issuer_postings u WHERE u.reverses = p.id)), 0)
           + coalesce((SELECT sum(h.amount) FROM issuer_holds h
                        WHERE h.card_id = c.card_id AND h.status = 'active'
                          AND h.created_at >= (date_trunc('day', now() AT TIME ZONE p_time_zone) AT TIME ZONE p_time_zone)), 0)
        INTO v_used;
      IF v_used + p_amount > c.daily_limit THEN v_code := '61'; v_reason := 'daily limit exceeded'; END IF;
    END IF;
  END IF;

  IF v_code IS NULL THEN
    v_code := '00';
    INSERT INTO issuer_postings (card_id, amount, kind, request_key) VALUES (c.card_id, -p_amount, 'purchase', p_key) RETURNING id INTO v_posting;
    UPDATE issuer_cards SET balance = balance - p_amount WHERE card_id = c.card_id RETURNING balance INTO v_balance;
    v_after := v_balance - v_held;
  END IF;

  INSERT INTO issuer_requests (request_key, acquirer_id, merchant_no, terminal_no, rrn, stan, kind, card_id, content_hash,
                               response_code, auth_code, amount, balance_after, reason, posting_id, received_at)
  VALUES (p_key, p_acquirer, p_merchant, p_terminal, p_rrn, p_stan, 'purchase', c.card_id, p_hash,
          v_code, CASE WHEN v_code = '00' THEN p_auth_code END, p_amount, v_after, v_reason, v_posting, p_received_at);

  RETURN QUERY SELECT 'done'::text, v_code, v_reason, CASE WHEN v_code = '00' THEN p_auth_code END, v_after, p_hash, false;
END
$$;
