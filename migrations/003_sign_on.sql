-- Terminal sign-on in one round trip.
--
-- qd_sign_on issues a new generation of working keys for a terminal in one statement (hence one
-- transaction), doing what src/store/keys.ts used to send as five statements:
--
--   1. lock the terminal row (FOR UPDATE): concurrent sign-ons of one terminal serialise here;
--   2. optionally re-check, under that lock, that the terminal and its merchant are active
--      (p_check_status): a terminal disabled between the host's authorisation read and this
--      call is refused, not keyed;
--   3. bump key_generation and stamp keys_issued_at / last_sign_on_at with clock_timestamp()
--      taken after the lock wait (generations are ordered in time), record the operator and
--      address, clear rekey_requested;
--   4. supersede the current generation at that same instant and insert the new one;
--   5. append the `keys.rotated` event (check values only; they are not secret), with the audit
--      columns actor / origin / resource when given.
--
-- Each statement inside the function takes a fresh READ COMMITTED snapshot (the function is
-- VOLATILE), so after waiting for the row lock it sees everything the previous holder committed.
-- Any failure (e.g. a CHECK on key_generations) rolls the whole call back.
--
-- Result: one row. r_outcome is 'ok', 'not_found', 'terminal_<status>' (terminal not active) or
-- 'merchant_<status>' / 'merchant_missing' (merchant not active); the other columns are set
-- only for 'ok'. r_params_version / r_params_downloaded_version are the terminal's parameter
-- versions as this sign-on left them (the host derives the processing requirement from them).

CREATE FUNCTION qd_sign_on(
  p_merchant_no  text,
  p_terminal_no  text,
  p_scheme       text,
  p_pik_block    text,
  p_mak_block    text,
  p_tdk_block    text,
  p_pik_kcv      text,
  p_mak_kcv      text,
  p_tdk_kcv      text,
  p_operator_no  text,
  p_address      text,
  p_check_status boolean,
  p_actor        text,
  p_origin       text,
  p_resource     text
) RETURNS TABLE (
  r_outcome                   text,
  r_generation                integer,
  r_issued_at                 timestamptz,
  r_params_version            integer,
  r_params_downloaded_version integer
)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_status          text;
  v_merchant_status text;
  v_at              timestamptz;
BEGIN
  SELECT t.status INTO v_status
    FROM terminals t
   WHERE t.merchant_no = p_merchant_no AND t.terminal_no = p_terminal_no
     FOR UPDATE;
  IF NOT FOUND THEN
    r_outcome := 'not_found';
    RETURN NEXT;
    RETURN;
  END IF;

  IF p_check_status THEN
    IF v_status <> 'active' THEN
      r_outcome := 'terminal_' || v_status;
      RETURN NEXT;
      RETURN;
    END IF;
    SELECT m.status INTO v_merchant_status FROM merchants m WHERE m.merchant_no = p_merchant_no;
    IF v_merchant_status IS DISTINCT FROM 'active' THEN
      r_outcome := 'merchant_' || coalesce(v_merchant_status, 'missing');
      RETURN NEXT;
      RETURN;
    END IF;
  END IF;

  -- The time the keys are issued: after any wait for the lock.
  v_at := clock_timestamp();

  UPDATE terminals t
     SET key_generation = t.key_generation + 1,
         keys_issued_at = v_at,
         last_sign_on_at = v_at,
         last_sign_on_operator = p_operator_no,
         last_address = coalesce(p_address, t.last_address),
         rekey_requested = false
   WHERE t.merchant_no = p_merchant_no AND t.terminal_no = p_terminal_no
  RETURNING t.key_generation, t.params_version, t.params_downloaded_version
       INTO r_generation, r_params_version, r_params_downloaded_version;

  UPDATE key_generations k
     SET superseded_at = v_at
   WHERE k.merchant_no = p_merchant_no AND k.terminal_no = p_terminal_no AND k.superseded_at IS NULL;

  INSERT INTO key_generations (merchant_no, terminal_no, generation, key_scheme,
                               pik_block, mak_block, tdk_block, pik_kcv, mak_kcv, tdk_kcv, created_at)
  VALUES (p_merchant_no, p_terminal_no, r_generation, p_scheme,
          p_pik_block, p_mak_block, p_tdk_block, p_pik_kcv, p_mak_kcv, p_tdk_kcv, v_at);

  INSERT INTO events (type, merchant_no, terminal_no, operator_no, ok, detail, actor, origin, resource)
  VALUES ('keys.rotated', p_merchant_no, p_terminal_no, p_operator_no, true,
          jsonb_strip_nulls(jsonb_build_object(
            'generation', r_generation,
            'scheme', p_scheme,
            'pikKcv', p_pik_kcv,
            'makKcv', p_mak_kcv,
            'tdkKcv', nullif(p_tdk_kcv, ''),
            'address', nullif(p_address, ''))),
          p_actor, p_origin, p_resource);

  r_outcome := 'ok';
  r_issued_at := v_at;
  RETURN NEXT;
END
$$;
