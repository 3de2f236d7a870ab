-- Undo V011: the currencies' default fillfactor, the rows rewritten densely again.
ALTER TABLE bank.currencies RESET (fillfactor);
CLUSTER bank.currencies USING currencies_pkey;
ALTER TABLE bank.currencies SET WITHOUT CLUSTER;
ANALYZE bank.currencies;
