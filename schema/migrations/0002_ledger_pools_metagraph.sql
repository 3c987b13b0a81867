-- Taoscope schema 0002: typed tables for analytics and the API, and decode failures.
--
-- Amounts are rao (TAO) or the alpha equivalent (9 decimals), as bigint: every on-chain balance
-- is below 2^63 (total supply is 21e15). Accounts are SS58 (prefix 42). u128 and fixed-point
-- values are numeric. Per-block and per-epoch tables are range-partitioned by block.

-- The fee an extrinsic paid (TransactionPayment.TransactionFeePaid.actual_fee), NULL if none.
ALTER TABLE extrinsics ADD COLUMN fee bigint;

-- What could not be decoded is kept raw, with the reason; indexing goes on.
CREATE TABLE decode_failures (
    block_number  bigint  NOT NULL,
    -- 'events' | 'extrinsic' | 'event' | 'storage' | 'runtime_api'
    kind          text    NOT NULL,
    -- Which one: extrinsic index, event index, storage item or API name ('' for a block's events).
    item          text    NOT NULL DEFAULT '',
    spec_version  integer,
    reason        text    NOT NULL,
    raw           bytea   NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (block_number, kind, item)
);

-- The stake ledger: one row per StakeAdded / StakeRemoved event. Moves, transfers and swaps
-- emit a StakeRemoved and a StakeAdded (the ledger rows) and then an annotation event
-- (stake_movements); ledger rows that belong to one carry its kind and index, so flows can
-- count a move once.
CREATE TABLE stake_ledger (
    block_number          bigint  NOT NULL,
    event_index           integer NOT NULL,
    extrinsic_index       integer,
    -- 'add' | 'remove'
    direction             text    NOT NULL,
    coldkey               text,             -- NULL in pre-dTAO 2-field events
    hotkey                text    NOT NULL,
    netuid                integer,          -- NULL before dTAO (stake was not per subnet)
    tao                   bigint  NOT NULL, -- add: gross TAO in; remove: TAO paid out
    alpha                 bigint,           -- add: alpha received; remove: alpha into the pool (fee excluded)
    fee                   bigint  NOT NULL DEFAULT 0,
    -- 'tao' (StakeAdded) | 'alpha' (StakeRemoved) | NULL before fees were reported (spec < 257)
    fee_token             text,
    -- 'moved' | 'transferred' | 'swapped' when part of a movement
    movement              text,
    movement_event_index  integer,
    PRIMARY KEY (block_number, event_index)
) PARTITION BY RANGE (block_number);
CREATE INDEX stake_ledger_netuid_idx ON stake_ledger (netuid, block_number);
CREATE INDEX stake_ledger_coldkey_idx ON stake_ledger (coldkey, block_number);
CREATE INDEX stake_ledger_hotkey_idx ON stake_ledger (hotkey, block_number);

-- StakeMoved / StakeTransferred / StakeSwapped: annotations of ledger row pairs.
CREATE TABLE stake_movements (
    block_number          bigint  NOT NULL,
    event_index           integer NOT NULL,
    extrinsic_index       integer,
    -- 'moved' | 'transferred' | 'swapped'
    kind                  text    NOT NULL,
    origin_coldkey        text    NOT NULL,
    destination_coldkey   text    NOT NULL,
    origin_hotkey         text    NOT NULL,
    destination_hotkey    text    NOT NULL,
    origin_netuid         integer NOT NULL,
    destination_netuid    integer NOT NULL,
    tao                   bigint  NOT NULL,
    -- The ledger rows it annotates (NULL if not found in the same extrinsic).
    removed_event_index   integer,
    added_event_index     integer,
    PRIMARY KEY (block_number, event_index)
) PARTITION BY RANGE (block_number);

-- NeuronRegistered: `replaced` when the uid already existed (a pruned neuron's uid reused).
CREATE TABLE registrations (
    block_number      bigint  NOT NULL,
    event_index       integer NOT NULL,
    extrinsic_index   integer,
    netuid            integer NOT NULL,
    uid               integer NOT NULL,
    hotkey            text    NOT NULL,
    replaced          boolean,          -- NULL when the parent block's state was not readable
    replaced_hotkey   text,
    PRIMARY KEY (block_number, event_index)
) PARTITION BY RANGE (block_number);
CREATE INDEX registrations_netuid_idx ON registrations (netuid, block_number);

-- WeightsSet (keyed by NetUidStorageIndex from spec ~361: netuid + mechanism * 4096).
CREATE TABLE weights_set (
    block_number      bigint  NOT NULL,
    event_index       integer NOT NULL,
    extrinsic_index   integer,
    netuid            integer NOT NULL,
    mechanism         integer NOT NULL DEFAULT 0,
    uid               integer NOT NULL,
    PRIMARY KEY (block_number, event_index)
) PARTITION BY RANGE (block_number);

-- Per-block pool state of every subnet (or every N blocks, see the indexer's --pool-interval).
CREATE TABLE pool_state (
    block_number        bigint  NOT NULL,
    netuid              integer NOT NULL,
    tao                 bigint  NOT NULL,   -- SubnetTAO
    alpha_in            bigint  NOT NULL,   -- SubnetAlphaIn
    alpha_out           bigint  NOT NULL,   -- SubnetAlphaOut
    -- TAO per alpha by the formula of the block's era; see price_source.
    price               numeric NOT NULL,
    -- 'stable' (root / mechanism 0: 1.0) | 'reserves' (SubnetTAO / SubnetAlphaIn)
    -- | 'sqrt_price' (Swap.AlphaSqrtPrice squared) | 'balancer' ((1-q)/q * SubnetTAO / SubnetAlphaIn)
    price_source        text    NOT NULL,
    moving_price        numeric,            -- SubnetMovingPrice (I96F32)
    sqrt_price          numeric,            -- Swap.AlphaSqrtPrice (U64F64) in the v3 era
    balancer_quote      numeric,            -- Swap.SwapBalancer quote weight in the balancer era
    tao_in_emission     bigint,
    alpha_in_emission   bigint,
    alpha_out_emission  bigint,
    volume              numeric,            -- SubnetVolume (u128)
    PRIMARY KEY (block_number, netuid)
) PARTITION BY RANGE (block_number);
CREATE INDEX pool_state_netuid_idx ON pool_state (netuid, block_number);

-- Epochs seen per subnet (the block whose state holds the epoch's results).
CREATE TABLE epochs (
    block_number  bigint  NOT NULL,
    netuid        integer NOT NULL,
    uids          integer NOT NULL,
    PRIMARY KEY (block_number, netuid)
);
CREATE INDEX epochs_netuid_idx ON epochs (netuid, block_number);

-- Per-epoch metagraph snapshot per subnet and uid, with that epoch's weights and bonds rows.
CREATE TABLE metagraph (
    block_number      bigint  NOT NULL,
    netuid            integer NOT NULL,
    uid               integer NOT NULL,
    hotkey            text    NOT NULL,
    coldkey           text,
    stake             bigint,             -- TotalHotkeyAlpha on this subnet (alpha rao)
    incentive         integer,            -- u16 proportions (value / 65535)
    dividends         integer,
    emission          bigint,             -- alpha rao for the epoch
    consensus         integer,
    validator_trust   integer,
    validator_permit  boolean,
    active            boolean,
    last_update       bigint,
    weights_to        integer[] NOT NULL DEFAULT '{}',
    weights           integer[] NOT NULL DEFAULT '{}',
    bonds_to          integer[] NOT NULL DEFAULT '{}',
    bonds             integer[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (block_number, netuid, uid)
) PARTITION BY RANGE (block_number);
CREATE INDEX metagraph_netuid_idx ON metagraph (netuid, block_number);
CREATE INDEX metagraph_hotkey_idx ON metagraph (hotkey, block_number);

-- Partitions for every partitioned table: `<table>_p<N>` covering [N*width, (N+1)*width).
CREATE OR REPLACE FUNCTION taoscope_ensure_partitions(from_block bigint, to_block bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    width   constant bigint := 100000;
    part    bigint;
    tbl     text;
BEGIN
    FOR part IN (from_block / width) .. (to_block / width) LOOP
        FOREACH tbl IN ARRAY ARRAY['extrinsics', 'events', 'stake_ledger', 'stake_movements',
                                   'registrations', 'weights_set', 'pool_state', 'metagraph'] LOOP
            EXECUTE format(
                'CREATE TABLE IF NOT EXISTS %I PARTITION OF %I FOR VALUES FROM (%s) TO (%s)',
                tbl || '_p' || part, tbl, part * width, (part + 1) * width);
        END LOOP;
    END LOOP;
END;
$$;

-- Existing partition ranges get the new tables' partitions too.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT substring(c.relname from '_p(\d+)$')::bigint AS part
             FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'events'::regclass LOOP
        PERFORM taoscope_ensure_partitions(r.part * 100000, r.part * 100000);
    END LOOP;
END;
$$;
