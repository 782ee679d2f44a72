-- The id of the key that signs member links (the first 8 hex digits of its SHA-256), recorded by the first
-- process that sends a newsletter. Another key is refused unless it rotates from this one, so a second folder
-- with a freshly made key cannot silently break every link already sent.
ALTER TABLE installation ADD COLUMN link_key_id TEXT NOT NULL DEFAULT '';
