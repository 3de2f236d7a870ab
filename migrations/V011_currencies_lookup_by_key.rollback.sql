-- Undo V011: the currencies' default fillfactor (where the rows lie does not matter to the schema).
ALTER TABLE bank.currencies RESET (fillfactor);
