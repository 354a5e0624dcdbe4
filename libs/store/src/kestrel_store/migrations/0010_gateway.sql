-- API keys of the gateway, owned by the gateway service.
--
-- A key reads `kst_<key_id>_<secret>`. Only sha256(secret) is stored: the secret is 256 random bits,
-- so nobody can find a preimage by guessing whatever the hash's speed (slow, salted password hashes
-- exist for low-entropy human passwords), and a leaked table grants no access. key_id is public: it
-- finds the row in one index lookup and names the key in logs, audit events and `requested_by`.

CREATE SCHEMA IF NOT EXISTS gateway;

CREATE TABLE gateway.api_keys (
    key_id      text        PRIMARY KEY,
    key_hash    text        NOT NULL,
    name        text        NOT NULL,
    role        text        NOT NULL CHECK (role IN ('viewer', 'trader', 'admin')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    CONSTRAINT api_keys_hash_is_sha256_hex CHECK (key_hash ~ '^[0-9a-f]{64}$'),
    CONSTRAINT api_keys_name_not_blank CHECK (length(btrim(name)) > 0)
);

CREATE INDEX api_keys_active_idx ON gateway.api_keys (created_at) WHERE revoked_at IS NULL;
