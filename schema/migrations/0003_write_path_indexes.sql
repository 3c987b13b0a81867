-- Taoscope schema 0003: fewer indexes on the tables written every block.
--
-- Measured on the 20,000-block, 64-subnet benchmark (binary COPY into the partitioned tables):
-- index upkeep was about half of PostgreSQL's write time. Each remaining index serves a query
-- the API or analytics make.

-- events: the (pallet, name, block) index cost as much as the rest of the table's write. Economic
-- events have typed tables (stake_ledger, stake_movements, registrations, weights_set); generic
-- event queries go by block range through the primary key.
DROP INDEX IF EXISTS events_pallet_name_idx;

-- pool_state: one subnet's history is the common read, so the primary key leads with netuid
-- (rows of one subnet arrive in block order, so each key range is appended to); "every subnet
-- at block B" uses a BRIN index on block_number, nearly free to keep up as blocks arrive in order.
ALTER TABLE pool_state DROP CONSTRAINT pool_state_pkey;
DROP INDEX IF EXISTS pool_state_netuid_idx;
ALTER TABLE pool_state ADD PRIMARY KEY (netuid, block_number);
CREATE INDEX pool_state_block_brin ON pool_state USING brin (block_number);

-- metagraph: likewise read per subnet; the hotkey index stays ("my neuron across subnets").
ALTER TABLE metagraph DROP CONSTRAINT metagraph_pkey;
DROP INDEX IF EXISTS metagraph_netuid_idx;
ALTER TABLE metagraph ADD PRIMARY KEY (netuid, block_number, uid);
CREATE INDEX metagraph_block_brin ON metagraph USING brin (block_number);
