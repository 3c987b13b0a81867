-- Taoscope schema 0005: subnet identities, and the API's read-only role.

-- Each subnet's identity and settings as of the newest indexed block that reported them
-- (`SubnetInfoRuntimeApi.get_all_dynamic_info`). One row per subnet, upserted by each write
-- batch; a dissolved subnet keeps its last row (`pool_state` tells which subnets are live).
CREATE TABLE subnets (
    netuid          integer PRIMARY KEY,
    name            text,       -- DynamicInfo.subnet_name (UTF-8, lossy)
    symbol          text,       -- DynamicInfo.token_symbol
    owner_coldkey   text,       -- SS58
    owner_hotkey    text,       -- SS58
    tempo           integer,
    registered_at   bigint,     -- DynamicInfo.network_registered_at
    updated_block   bigint  NOT NULL
);

-- The API reads through this role (`SET ROLE` on each connection when the connecting user may),
-- so it cannot write even if a session setting were changed. Roles are cluster-wide: the role
-- is created once (where the migrating user may create roles) and granted per database.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'taoscope_reader') THEN
        BEGIN
            CREATE ROLE taoscope_reader NOLOGIN;
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN NULL;  -- created concurrently
            WHEN insufficient_privilege THEN
                RAISE NOTICE 'cannot create role taoscope_reader (%); the API uses read-only sessions only', SQLERRM;
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'taoscope_reader') THEN
        EXECUTE format('GRANT CONNECT ON DATABASE %I TO taoscope_reader', current_database());
        GRANT USAGE ON SCHEMA public TO taoscope_reader;
        GRANT SELECT ON ALL TABLES IN SCHEMA public TO taoscope_reader;
        -- Tables and partitions created later by this user are readable too.
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO taoscope_reader;
    END IF;
END;
$$;
