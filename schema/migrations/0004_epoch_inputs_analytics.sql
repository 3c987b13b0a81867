-- Taoscope schema 0004: what each epoch read, and the analytics tables.

-- The epoch's inputs: the parent block's state (the epoch runs in on_initialize, before the
-- block's extrinsics, so the epoch block's own state already holds that block's weights and
-- stake changes and the epoch's payouts). The Yuma audit replays from these.
ALTER TABLE metagraph
    ADD COLUMN input_hotkey            text,     -- only when the uid was replaced in the epoch block
    ADD COLUMN input_stake             bigint,
    ADD COLUMN input_last_update       bigint,
    ADD COLUMN input_validator_permit  boolean,
    ADD COLUMN input_weights_to        integer[] NOT NULL DEFAULT '{}',
    ADD COLUMN input_weights           integer[] NOT NULL DEFAULT '{}',
    ADD COLUMN input_bonds_to          integer[] NOT NULL DEFAULT '{}',
    ADD COLUMN input_bonds             integer[] NOT NULL DEFAULT '{}',
    ADD COLUMN input_registered_at     bigint;

-- The Yuma hyperparameters each epoch read (parent block; NULL where the runtime has no such
-- item, and the audit then uses that runtime's default).
ALTER TABLE epochs
    ADD COLUMN kappa                   integer,
    ADD COLUMN bonds_moving_average    bigint,
    ADD COLUMN activity_cutoff         integer,
    ADD COLUMN max_allowed_validators  integer,
    ADD COLUMN bonds_penalty           integer,
    ADD COLUMN tempo                   integer,
    ADD COLUMN yuma3                   boolean,
    ADD COLUMN liquid_alpha            boolean,
    ADD COLUMN alpha_low               integer,
    ADD COLUMN alpha_high              integer,
    ADD COLUMN alpha_steepness         integer,
    ADD COLUMN stake_threshold         bigint,
    ADD COLUMN owner_hotkey            text;

-- How far each analytics job has got (the last block whose effects it has computed). An indexer
-- rollback moves these back in the same transaction.
CREATE TABLE analytics_progress (
    job           text   PRIMARY KEY,
    block_number  bigint NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- OHLCV of the per-block pool price (TAO per alpha), UTC buckets of 5m, 1h, 4h and 1d.
CREATE TABLE candles (
    netuid          integer     NOT NULL,
    interval        text        NOT NULL CHECK (interval IN ('5m', '1h', '4h', '1d')),
    bucket_start    timestamptz NOT NULL,
    first_block     bigint      NOT NULL,
    last_block      bigint      NOT NULL,
    blocks          integer     NOT NULL,
    open            double precision NOT NULL,
    high            double precision NOT NULL,
    low             double precision NOT NULL,
    close           double precision NOT NULL,
    -- Time-weighted average price in the bucket: each block's price holds until the next block.
    twap            double precision NOT NULL,
    -- At the bucket's last block: SubnetMovingPrice, price x (alpha in + alpha out) in TAO,
    -- and pool liquidity (TAO reserve x 2) in TAO.
    moving_price    double precision,
    market_cap_tao  double precision NOT NULL,
    liquidity_tao   double precision NOT NULL,
    -- Sum of |TAO| of the stake ledger's pool trades in the bucket (rao), and their count.
    volume_rao      bigint      NOT NULL,
    trades          integer     NOT NULL,
    PRIMARY KEY (netuid, interval, bucket_start)
);

-- Emissions per subnet per UTC day: what the chain recorded per block (SubnetTaoInEmission,
-- SubnetAlphaInEmission, SubnetAlphaOutEmission) summed, the alpha-out split of the day's
-- methodology era, each subnet's share of the day's TAO, running totals since indexing began.
CREATE TABLE emissions_daily (
    netuid            integer NOT NULL,
    day               date    NOT NULL,
    first_block       bigint  NOT NULL,
    last_block        bigint  NOT NULL,
    blocks            integer NOT NULL,
    tao_in            bigint  NOT NULL,
    alpha_in          bigint  NOT NULL,
    alpha_out         bigint  NOT NULL,
    owner_alpha       bigint  NOT NULL,
    miner_alpha       bigint  NOT NULL,
    validator_alpha   bigint  NOT NULL,
    root_alpha        bigint  NOT NULL,
    tao_share         double precision NOT NULL,
    cum_tao_in        bigint  NOT NULL,
    cum_alpha_in      bigint  NOT NULL,
    cum_alpha_out     bigint  NOT NULL,
    -- The emission methodology era(s) of the day's blocks (CHAIN.md §0, §3.2), comma-separated
    -- in block order when the day spans a runtime upgrade.
    era               text    NOT NULL,
    PRIMARY KEY (netuid, day)
);
CREATE INDEX emissions_daily_day_idx ON emissions_daily (day);

-- Net TAO flow per subnet per UTC day from the stake ledger (a movement between two hotkeys of
-- one subnet is no flow; across subnets it is an outflow and an inflow), and the per-block
-- EMA of net flow with the chain's smoothing (FlowEmaSmoothingFactor), as of the day's end.
CREATE TABLE flows_daily (
    netuid        integer NOT NULL,
    day           date    NOT NULL,
    first_block   bigint  NOT NULL,
    last_block    bigint  NOT NULL,
    tao_in        bigint  NOT NULL,
    tao_out       bigint  NOT NULL,
    net_flow      bigint  NOT NULL,
    stakes        integer NOT NULL,
    unstakes      integer NOT NULL,
    ema_flow      double precision NOT NULL,   -- rao per block
    PRIMARY KEY (netuid, day)
);

-- Miners (uids with incentive > 0) per subnet per epoch.
CREATE TABLE miner_rankings (
    netuid          integer NOT NULL,
    block_number    bigint  NOT NULL,
    uid             integer NOT NULL,
    hotkey          text    NOT NULL,
    coldkey         text,
    incentive       double precision NOT NULL,
    emission_alpha  bigint  NOT NULL,
    emission_tao    double precision NOT NULL,
    rank_incentive  integer NOT NULL,
    rank_emission   integer NOT NULL,
    -- Previous epoch's incentive rank minus this one (positive = moved up); NULL if new.
    rank_change     integer,
    -- Coefficient of variation of incentive over the hotkey's last epochs (up to the window).
    stability_cv    double precision,
    epochs_in_window integer NOT NULL,
    PRIMARY KEY (netuid, block_number, uid)
);
CREATE INDEX miner_rankings_hotkey_idx ON miner_rankings (hotkey, block_number);

-- Validators (uids with a validator permit or dividends > 0) per subnet per epoch.
CREATE TABLE validator_rankings (
    netuid           integer NOT NULL,
    block_number     bigint  NOT NULL,
    uid              integer NOT NULL,
    hotkey           text    NOT NULL,
    coldkey          text,
    dividends        double precision NOT NULL,
    validator_trust  double precision NOT NULL,
    stake_alpha      bigint  NOT NULL,
    stake_tao        double precision NOT NULL,
    emission_alpha   bigint  NOT NULL,
    emission_tao     double precision NOT NULL,
    -- Epoch yield = emission / input stake, compounded over the epochs of a year.
    epoch_yield      double precision,
    apy              double precision,
    rank_dividends   integer NOT NULL,
    rank_stake       integer NOT NULL,
    rank_change      integer,
    PRIMARY KEY (netuid, block_number, uid)
);
CREATE INDEX validator_rankings_hotkey_idx ON validator_rankings (hotkey, block_number);

-- Miners and validators rolled up by coldkey across subnets per UTC day.
CREATE TABLE coldkey_rollups (
    coldkey          text    NOT NULL,
    day              date    NOT NULL,
    subnets          integer NOT NULL,
    hotkeys          integer NOT NULL,
    miner_epochs     integer NOT NULL,
    validator_epochs integer NOT NULL,
    emission_tao     double precision NOT NULL,
    -- TAO value of the validator stake at each hotkey's last epoch of the day, summed.
    stake_tao        double precision NOT NULL,
    PRIMARY KEY (coldkey, day)
);

-- The Yuma audit: each indexed epoch replayed from its inputs and compared with the chain's
-- Incentive and Dividends (u16 proportions, compared as value / 65535).
CREATE TABLE yuma_audit (
    netuid              integer NOT NULL,
    block_number        bigint  NOT NULL,
    uids                integer NOT NULL,
    validators          integer NOT NULL,
    bonds_model         text    NOT NULL,
    tolerance           double precision NOT NULL,
    max_incentive_dev   double precision,
    max_dividends_dev   double precision,
    max_deviation       double precision,
    uids_beyond         integer[] NOT NULL DEFAULT '{}',
    -- 'exact' (no deviation) | 'within' (within tolerance) | 'deviates' | 'skipped' (see note)
    status              text    NOT NULL,
    note                text,
    PRIMARY KEY (netuid, block_number)
);
