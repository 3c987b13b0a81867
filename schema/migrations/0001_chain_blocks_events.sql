-- Taoscope schema 0001: chain identity, runtimes, blocks, extrinsics, events, indexer progress.
--
-- One database indexes exactly one chain (checked against `chain.genesis_hash`).
-- Large tables (extrinsics, events) are range-partitioned by block number; partitions are
-- created on demand by `taoscope_ensure_partitions` before each write batch.

CREATE TABLE chain (
    id              boolean PRIMARY KEY DEFAULT true CHECK (id),
    genesis_hash    bytea   NOT NULL CHECK (length(genesis_hash) = 32),
    chain_name      text    NOT NULL,
    ss58_format     integer NOT NULL,
    token_decimals  integer NOT NULL,
    token_symbol    text    NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- The node's heads as last seen by the indexer (the API reports lag from it).
CREATE TABLE chain_head (
    id                boolean PRIMARY KEY DEFAULT true CHECK (id),
    finalized_number  bigint  NOT NULL,
    finalized_hash    bytea   NOT NULL,
    seen_at           timestamptz NOT NULL DEFAULT now()
);

-- One row per runtime (spec_version) with the metadata blob used to decode its blocks.
CREATE TABLE runtime_versions (
    spec_version        integer  PRIMARY KEY,
    spec_name           text     NOT NULL,
    impl_version        integer  NOT NULL,
    transaction_version integer  NOT NULL,
    metadata_version    smallint NOT NULL,
    metadata            bytea    NOT NULL,
    -- First indexed block whose state reports this runtime (the upgrade block itself).
    first_block         bigint   NOT NULL,
    fetched_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE blocks (
    number           bigint  PRIMARY KEY,
    hash             bytea   NOT NULL UNIQUE,
    parent_hash      bytea   NOT NULL,
    state_root       bytea   NOT NULL,
    extrinsics_root  bytea   NOT NULL,
    -- From the block's `Timestamp.set` inherent; NULL only for genesis.
    timestamp        timestamptz,
    -- The runtime that executed the block: the parent's runtime on an upgrade block.
    spec_version     integer NOT NULL REFERENCES runtime_versions (spec_version),
    event_count      integer NOT NULL,
    extrinsic_count  integer NOT NULL,
    indexed_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX blocks_timestamp_idx ON blocks (timestamp);

CREATE TABLE extrinsics (
    block_number  bigint  NOT NULL,
    index         integer NOT NULL,
    hash          bytea   NOT NULL,
    -- NULL when the extrinsic could not be decoded (raw is always kept).
    pallet        text,
    call          text,
    -- SS58 (prefix 42) of the signer; NULL for unsigned extrinsics and inherents.
    signer        text,
    -- From System.ExtrinsicSuccess / ExtrinsicFailed; NULL when neither was found.
    success       boolean,
    raw           bytea   NOT NULL,
    args          jsonb,
    PRIMARY KEY (block_number, index)
) PARTITION BY RANGE (block_number);

CREATE TABLE events (
    block_number     bigint  NOT NULL,
    index            integer NOT NULL,
    -- 'initialization' | 'apply_extrinsic' | 'finalization'
    phase            text    NOT NULL,
    extrinsic_index  integer,
    pallet           text    NOT NULL,
    name             text    NOT NULL,
    -- The event's SCALE bytes: pallet index, variant index, fields.
    raw              bytea   NOT NULL,
    data             jsonb   NOT NULL,
    PRIMARY KEY (block_number, index)
) PARTITION BY RANGE (block_number);
CREATE INDEX events_pallet_name_idx ON events (pallet, name, block_number);

-- Where each indexer stage has got to; written in the same transaction as the stage's rows.
CREATE TABLE indexer_progress (
    stage         text   PRIMARY KEY,
    block_number  bigint NOT NULL,
    block_hash    bytea  NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Partitions are `<table>_p<N>` covering blocks [N*width, (N+1)*width).
CREATE FUNCTION taoscope_ensure_partitions(from_block bigint, to_block bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    width   constant bigint := 100000;
    part    bigint;
    tbl     text;
BEGIN
    FOR part IN (from_block / width) .. (to_block / width) LOOP
        FOREACH tbl IN ARRAY ARRAY['extrinsics', 'events'] LOOP
            EXECUTE format(
                'CREATE TABLE IF NOT EXISTS %I PARTITION OF %I FOR VALUES FROM (%s) TO (%s)',
                tbl || '_p' || part, tbl, part * width, (part + 1) * width);
        END LOOP;
    END LOOP;
END;
$$;
