-- Foundation shared by every later migration: the `kestrel` helper schema, TimescaleDB when the
-- server offers it, ONE time-bucket function, and the helpers that make a time-series table a
-- hypertable (TimescaleDB) or a natively RANGE-partitioned table (plain PostgreSQL).
-- Everything branches at run time on what the server has, so this same file works on both.

CREATE SCHEMA IF NOT EXISTS kestrel;

-- TimescaleDB is optional. "Available" is not enough: it must also be preloaded and the role must be
-- allowed to create it, so a failure here is a warning and the native-partitioning path is used.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = 'timescaledb') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS timescaledb;
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'timescaledb is available but could not be created (%); '
                'falling back to native range partitioning', SQLERRM;
        END;
    END IF;
END
$$;

CREATE FUNCTION kestrel.has_timescaledb() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'timescaledb') $$;

COMMENT ON FUNCTION kestrel.has_timescaledb() IS
    'True when the timescaledb extension is installed in this database.';

-- kestrel.time_bucket(bucket, ts): the one bucketing function every query uses.
-- Buckets are aligned exactly as TimescaleDB's time_bucket aligns them, computed in UTC:
--   * intervals of whole months: calendar months counted from 2000-01-01 (e.g. '3 months' = quarters);
--   * any other interval: fixed strides from 2000-01-03 00:00 UTC, a Monday (so '1 week' starts Monday).
-- A plain SQL, IMMUTABLE, single-expression body is inlined by the planner, so the wrapper costs
-- nothing at run time: on PostgreSQL the plan shows date_bin, on TimescaleDB it shows time_bucket.
-- Intervals mixing months with days or time are rejected (by date_bin / time_bucket).
DO $$
DECLARE
    timescale_schema name;
BEGIN
    SELECT n.nspname INTO timescale_schema
    FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'timescaledb';

    IF timescale_schema IS NOT NULL THEN
        EXECUTE format(
            'CREATE FUNCTION kestrel.time_bucket(bucket interval, ts timestamptz) RETURNS timestamptz '
            'LANGUAGE sql IMMUTABLE PARALLEL SAFE AS %L',
            format('SELECT %I.time_bucket(bucket, ts)', timescale_schema));
    ELSE
        CREATE FUNCTION kestrel.time_bucket(bucket interval, ts timestamptz) RETURNS timestamptz
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $fn$
            SELECT CASE
                WHEN date_trunc('month', bucket) = bucket
                     AND extract(year FROM bucket) * 12 + extract(month FROM bucket) > 0
                THEN timezone('UTC', TIMESTAMP '2000-01-01' + make_interval(months => (
                    floor(
                        ((extract(year FROM timezone('UTC', ts)) - 2000) * 12
                          + extract(month FROM timezone('UTC', ts)) - 1)
                        / (extract(year FROM bucket) * 12 + extract(month FROM bucket))
                    ) * (extract(year FROM bucket) * 12 + extract(month FROM bucket))
                )::integer))
                ELSE date_bin(bucket, ts, TIMESTAMPTZ '2000-01-03 00:00:00+00')
            END
        $fn$;
    END IF;
END
$$;

COMMENT ON FUNCTION kestrel.time_bucket(interval, timestamptz) IS
    'Start of the bucket holding ts; identical results on TimescaleDB (time_bucket) and PostgreSQL (date_bin).';

-- Which tables are time series, and how each is stored here.
CREATE TABLE kestrel.timeseries_tables (
    table_name     regclass    PRIMARY KEY,
    time_column    name        NOT NULL,
    chunk_interval interval    NOT NULL,
    storage        text        NOT NULL CHECK (storage IN ('hypertable', 'partitioned')),
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- The end of the bucket starting at lo, computed in UTC so that month lengths and the session's
-- TimeZone (daylight saving) never shift a partition bound.
CREATE FUNCTION kestrel.bucket_end(bucket interval, lo timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT timezone('UTC', timezone('UTC', lo) + bucket) $$;

-- Whether parent has a partition named nsp.part_name. A plain catalog query on purpose: it reads
-- with the statement's snapshot, so it sees a partition committed by a concurrent creator (a cached
-- name lookup such as to_regclass can still answer from before that commit).
CREATE FUNCTION kestrel.partition_exists(parent regclass, nsp name, part_name name) RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT EXISTS (
        SELECT 1
        FROM pg_catalog.pg_inherits i
        JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE i.inhparent = parent AND n.nspname = nsp AND c.relname = part_name)
$$;

-- Creates the partition of a natively partitioned time-series table that holds the bucket starting at
-- lo, unless it exists. Rows already sitting in the DEFAULT partition for that range are moved into
-- the new partition first, so attaching never fails on them. Returns 1 when it created one, else 0.
CREATE FUNCTION kestrel.ensure_partition(tbl regclass, lo timestamptz) RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    info       kestrel.timeseries_tables%ROWTYPE;
    hi         timestamptz;
    nsp        name;
    parent     name;
    part_name  name;
    default_qn text;
    columns    text;
    suffix_fmt text;
BEGIN
    SELECT * INTO info FROM kestrel.timeseries_tables WHERE table_name = tbl;
    IF NOT FOUND OR info.storage <> 'partitioned' THEN
        RAISE EXCEPTION '% is not a natively partitioned kestrel time-series table', tbl;
    END IF;
    IF kestrel.time_bucket(info.chunk_interval, lo) <> lo THEN
        RAISE EXCEPTION '% is not the start of a % bucket', lo, info.chunk_interval;
    END IF;
    hi := kestrel.bucket_end(info.chunk_interval, lo);

    SELECT n.nspname, c.relname INTO nsp, parent
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.oid = tbl;

    -- Chunk intervals are whole months or whole days (create_timeseries_table checks it).
    suffix_fmt := CASE
        WHEN date_trunc('month', info.chunk_interval) = info.chunk_interval THEN 'YYYYMM'
        ELSE 'YYYYMMDD'
    END;
    part_name := parent || '_p' || to_char(timezone('UTC', lo), suffix_fmt);

    -- Fast path without locks: the usual case is that the partition exists.
    IF kestrel.partition_exists(tbl, nsp, part_name) THEN
        RETURN 0;
    END IF;

    -- SHARE UPDATE EXCLUSIVE conflicts with itself, so creators of this table's partitions queue up
    -- here while ordinary reads and writes go on; the winner may already have made this partition.
    -- Then the DEFAULT partition, in the same order ATTACH PARTITION locks them, so no concurrent
    -- writer can slip a row for this range into DEFAULT between the move and the attach.
    EXECUTE format('LOCK TABLE %s IN SHARE UPDATE EXCLUSIVE MODE', tbl);
    IF kestrel.partition_exists(tbl, nsp, part_name) THEN
        RETURN 0;
    END IF;
    default_qn := format('%I.%I', nsp, parent || '_default');
    EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', default_qn);

    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO columns
    FROM pg_catalog.pg_attribute
    WHERE attrelid = tbl AND attnum > 0 AND NOT attisdropped AND attgenerated = '';

    EXECUTE format(
        'CREATE TABLE %I.%I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED '
        'INCLUDING STORAGE INCLUDING COMPRESSION)', nsp, part_name, tbl);
    EXECUTE format(
        'WITH moved AS (DELETE FROM %s WHERE %I >= $1 AND %I < $2 RETURNING %s) '
        'INSERT INTO %I.%I (%s) SELECT %s FROM moved',
        default_qn, info.time_column, info.time_column, columns, nsp, part_name, columns, columns)
        USING lo, hi;
    EXECUTE format('ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES FROM (%L) TO (%L)',
        tbl, nsp, part_name, lo, hi);
    RETURN 1;
END
$$;

-- Ensures partitions for every bucket touched by [from_ts, to_ts] (both ends included). No-op on a
-- hypertable: TimescaleDB creates its chunks itself. Returns the number of partitions created.
CREATE FUNCTION kestrel.ensure_partitions(tbl regclass, from_ts timestamptz, to_ts timestamptz)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    info    kestrel.timeseries_tables%ROWTYPE;
    lo      timestamptz;
    buckets integer := 0;
    created integer := 0;
BEGIN
    SELECT * INTO info FROM kestrel.timeseries_tables WHERE table_name = tbl;
    IF NOT FOUND THEN
        RAISE EXCEPTION '% is not a kestrel time-series table', tbl;
    END IF;
    IF info.storage = 'hypertable' OR from_ts > to_ts THEN
        RETURN 0;
    END IF;
    -- Count first: a typo in a timestamp (year 9999) must not create tens of thousands of tables.
    lo := kestrel.time_bucket(info.chunk_interval, from_ts);
    WHILE lo <= to_ts LOOP
        buckets := buckets + 1;
        IF buckets > 1200 THEN
            RAISE EXCEPTION 'refusing to create more than 1200 partitions of % in one call (% .. %)',
                tbl, from_ts, to_ts;
        END IF;
        lo := kestrel.bucket_end(info.chunk_interval, lo);
    END LOOP;

    lo := kestrel.time_bucket(info.chunk_interval, from_ts);
    WHILE lo <= to_ts LOOP
        created := created + kestrel.ensure_partition(tbl, lo);
        lo := kestrel.bucket_end(info.chunk_interval, lo);
    END LOOP;
    RETURN created;
END
$$;

-- Ensures partitions for exactly the buckets that hold the given timestamps (what a writer calls
-- before a batch, so a stray timestamp creates one partition, not every partition up to it).
CREATE FUNCTION kestrel.ensure_partitions_for(tbl regclass, stamps timestamptz[]) RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    info    kestrel.timeseries_tables%ROWTYPE;
    lo      timestamptz;
    created integer := 0;
BEGIN
    SELECT * INTO info FROM kestrel.timeseries_tables WHERE table_name = tbl;
    IF NOT FOUND THEN
        RAISE EXCEPTION '% is not a kestrel time-series table', tbl;
    END IF;
    IF info.storage = 'hypertable' THEN
        RETURN 0;
    END IF;
    FOR lo IN
        SELECT DISTINCT kestrel.time_bucket(info.chunk_interval, s) FROM unnest(stamps) AS s
        WHERE s IS NOT NULL ORDER BY 1
    LOOP
        created := created + kestrel.ensure_partition(tbl, lo);
    END LOOP;
    RETURN created;
END
$$;

-- Periodic maintenance: partitions from the current bucket to now() + ahead (default: three buckets
-- of each table) for every partitioned time-series table. Rows outside every partition still land in
-- DEFAULT, so inserts never fail; maintenance only keeps DEFAULT small.
CREATE FUNCTION kestrel.maintain_partitions(ahead interval DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    info    kestrel.timeseries_tables%ROWTYPE;
    created integer := 0;
BEGIN
    FOR info IN
        SELECT * FROM kestrel.timeseries_tables WHERE storage = 'partitioned' ORDER BY table_name::text
    LOOP
        created := created + kestrel.ensure_partitions(
            info.table_name, now(), now() + coalesce(ahead, info.chunk_interval * 3));
    END LOOP;
    RETURN created;
END
$$;

-- Creates a time-series table from its column/constraint definitions: a hypertable on TimescaleDB,
-- otherwise a table PARTITION BY RANGE (time_column) with a DEFAULT partition and partitions premade
-- for the current bucket and the next three. Native partitioning must be declared at CREATE TABLE time, which is why
-- this takes the definitions rather than converting an existing table. Every PRIMARY KEY / UNIQUE
-- constraint must include time_column (both storages require it). chunk_interval must be whole days
-- or whole months (writers rely on it to send one timestamp per day to ensure_partitions_for).
-- Returns the storage used.
CREATE FUNCTION kestrel.create_timeseries_table(
    table_name text, time_column name, chunk_interval interval, definitions text
) RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    parts            text[] := parse_ident(table_name);
    qualified        text;
    timescale_schema name;
    storage          text;
BEGIN
    IF array_length(parts, 1) <> 2 THEN
        RAISE EXCEPTION 'time-series table name % must be schema-qualified', table_name;
    END IF;
    qualified := format('%I.%I', parts[1], parts[2]);
    IF date_trunc('day', chunk_interval) <> chunk_interval OR chunk_interval <= interval '0' THEN
        RAISE EXCEPTION 'chunk interval % of % must be a positive number of days or months',
            chunk_interval, table_name;
    END IF;

    SELECT n.nspname INTO timescale_schema
    FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'timescaledb';

    IF timescale_schema IS NOT NULL THEN
        EXECUTE format('CREATE TABLE %s (%s)', qualified, definitions);
        EXECUTE format('SELECT %I.create_hypertable(%L::regclass, %L::name, chunk_time_interval => %L::interval)',
            timescale_schema, qualified, time_column, chunk_interval);
        storage := 'hypertable';
    ELSE
        EXECUTE format('CREATE TABLE %s (%s) PARTITION BY RANGE (%I)', qualified, definitions, time_column);
        EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s DEFAULT', parts[1], parts[2] || '_default', qualified);
        storage := 'partitioned';
    END IF;

    INSERT INTO kestrel.timeseries_tables (table_name, time_column, chunk_interval, storage)
    VALUES (qualified::regclass, time_column, chunk_interval, storage);
    PERFORM kestrel.ensure_partitions(qualified::regclass, now(), now() + chunk_interval * 3);
    RETURN storage;
END
$$;
