-- Taoscope schema 0006: inference audits (a miner's outputs checked against the embedded
-- reference model), recorded by the API.

-- One row per audit run: which miner (netuid, hotkey as registered at the indexed height
-- `block_number`), which reference model (its weights' SHA-256), and the run's outcome.
CREATE TABLE inference_audits (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    audited_at       timestamptz NOT NULL DEFAULT now(),
    block_number     bigint  NOT NULL,     -- indexed height when the audit ran
    netuid           integer NOT NULL,
    hotkey           text    NOT NULL,     -- SS58
    uid              integer,              -- the hotkey's uid at block_number
    kind             text    NOT NULL CHECK (kind IN ('embeddings', 'answers')),
    model            text    NOT NULL,
    model_hash       text    NOT NULL,     -- SHA-256 of model.safetensors
    threshold        double precision NOT NULL,
    items            integer NOT NULL,
    scored           integer NOT NULL,
    passed           integer NOT NULL,
    errors           integer NOT NULL,
    pass_rate        double precision,     -- passed / scored; NULL when nothing was scored
    mean_similarity  double precision,
    min_similarity   double precision,
    CHECK (passed <= scored AND scored + errors = items)
);
-- Rankings join a miner's audits up to an epoch's block.
CREATE INDEX inference_audits_miner ON inference_audits (netuid, hotkey, block_number);

-- The API's sessions are read-only and run as taoscope_reader; recording an audit is the one
-- write they may make, through this function (it runs with its owner's rights and inserts
-- nothing but an audit row).
CREATE FUNCTION taoscope_record_inference_audit(
    p_block_number bigint, p_netuid integer, p_hotkey text, p_uid integer, p_kind text,
    p_model text, p_model_hash text, p_threshold double precision, p_items integer,
    p_scored integer, p_passed integer, p_errors integer, p_pass_rate double precision,
    p_mean_similarity double precision, p_min_similarity double precision)
RETURNS TABLE (id bigint, audited_at timestamptz)
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    INSERT INTO inference_audits (block_number, netuid, hotkey, uid, kind, model, model_hash, threshold,
                                  items, scored, passed, errors, pass_rate, mean_similarity, min_similarity)
    VALUES (p_block_number, p_netuid, p_hotkey, p_uid, p_kind, p_model, p_model_hash, p_threshold,
            p_items, p_scored, p_passed, p_errors, p_pass_rate, p_mean_similarity, p_min_similarity)
    RETURNING id, audited_at
$$;
REVOKE ALL ON FUNCTION taoscope_record_inference_audit FROM PUBLIC;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'taoscope_reader') THEN
        GRANT SELECT ON inference_audits TO taoscope_reader;
        GRANT EXECUTE ON FUNCTION taoscope_record_inference_audit TO taoscope_reader;
    END IF;
END;
$$;
