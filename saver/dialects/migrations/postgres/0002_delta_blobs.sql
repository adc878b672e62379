-- Blobs may hold a delta: the items appended to the chain that starts at snapshot `base`
-- (format 2). A large value lives out of line (TOAST), so the column's place does not matter.
-- Inside DO: psycopg answers an "ALTER TABLE" status by deallocating every prepared
-- statement later, including ones it prepares meanwhile in the same pipeline.
DO $$ BEGIN ALTER TABLE {schema}history_blobs ADD COLUMN IF NOT EXISTS base TEXT; END $$;
