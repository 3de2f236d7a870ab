-- Undo V006. Its views come from views/ and go with the schema.
DROP SCHEMA monitor CASCADE;
